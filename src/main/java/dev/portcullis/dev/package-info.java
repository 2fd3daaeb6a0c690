/**
 * Development stand-ins for {@code portcullis dev} and the integration tests. Never for production.
 *
 * <pre>
 *  agent ──(mint / POST /token)──▶ DevIssuer        RS256 tokens, discovery + JWKS on 127.0.0.1
 *    │
 *    │ Authorization: Bearer &lt;agent token&gt;
 *    ▼
 *  gateway ──(Authorization: SSWS &lt;api token&gt;)──▶ DemoOkta   Okta Users/Roles API shapes,
 *                                                        seeded users, request log for tests
 * </pre>
 *
 * <p>{@link dev.portcullis.dev.DevIssuer} plays the agent's identity provider; {@link dev.portcullis.dev.DemoOkta}
 * plays the Okta org behind the gateway, speaking the JSON that Okta's own SDK parses. Its
 * {@link dev.portcullis.dev.DemoOkta#received() request log} lets a test prove that a refused operation never
 * reached the target and that the target only ever saw the gateway's API token.
 */
package dev.portcullis.dev;
