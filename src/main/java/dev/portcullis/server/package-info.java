/**
 * Wiring: loads the validated configuration, opens the store, starts the token verifier, one
 * listener per connection (through its protocol adapter) and the admin listener
 * ({@code /healthz}, {@code /readyz}, {@code /metrics}, the REST API and the console; HTTPS only with
 * {@code admin.tls}, through the same {@link dev.portcullis.http.ListenerConnector} as HTTP connections).
 *
 * <pre>
 * browser ── /console/login ──▶ ConsolePages ── OidcSignIn (PKCE) ──▶ identity provider
 *         ◀── session cookie ── /console/callback ◀── code ──────────┘
 * browser / automation ── /api/v1/... ──▶ AdminCallers (bearer token | session + CSRF) ──▶ the API that answers
 * </pre>
 */
package dev.portcullis.server;
