/**
 * The console's sign-in and sessions: people sign in with the gateway's identity provider through the
 * OpenID Connect authorization code flow with PKCE ({@link dev.portcullis.console.OidcSignIn}, on Nimbus's
 * OAuth 2.0 SDK), and hold a server-side session ({@link dev.portcullis.console.ConsoleSessions}) whose
 * cookie the store knows only as a hash. The admin listener ({@code server}) serves the pages and turns a
 * session into the {@link dev.portcullis.core.Identity} the REST API acts as.
 *
 * <pre>
 * browser            gateway (ConsolePages, OidcSignIn)          identity provider
 *   │ GET /console/login ─▶ state, nonce, PKCE verifier stored
 *   │ ◀─ 303 authorize?code_challenge=S256(...)&amp;state&amp;nonce
 *   │ ─────────────────────────────────────────────────────────────▶ sign in
 *   │ ◀──────────────────────────────────────────── 303 /console/callback?code&amp;state
 *   │ GET /console/callback ─▶ state taken once (this browser) ── code + verifier ─▶ token endpoint
 *   │                         ID token checked (keys, iss, aud, exp, nonce) ◀── ID token
 *   │ ◀─ 303 next, Set-Cookie: session (HttpOnly, SameSite=Lax, Secure over https)
 * </pre>
 */
package dev.portcullis.console;
