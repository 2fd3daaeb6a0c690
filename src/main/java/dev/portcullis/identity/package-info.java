/**
 * Who is calling: agents' OIDC access tokens, verified with Nimbus JOSE+JWT.
 *
 * <pre>
 *  token ─▶ size limit ─▶ parse ─▶ alg allow-list (no none, no HMAC) ─▶ key by kid from JWKS
 *        ─▶ signature ─▶ iss, aud, exp/nbf/iat (clock skew) ─▶ [introspection: active?] ─▶ Identity
 * </pre>
 * Discovery and JWKS come from the issuer; an unknown kid refreshes the key set at most once per
 * {@code jwks-min-refresh}. Every refusal carries a {@link dev.portcullis.identity.TokenRejectedException.Reason}.
 * The raw token is never logged, stored or put in a message.
 */
package dev.portcullis.identity;
