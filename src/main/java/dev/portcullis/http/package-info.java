/**
 * The HTTP adapter: agents call any REST API (Okta's admin API first) through the gateway.
 *
 * <pre>
 *  agent ──GET /api/v1/users, Authorization: Bearer|SSWS &lt;agent token&gt;──▶ HttpGatewayHandler
 *     1 Gate.authenticate (token → Identity)          refused → 401 problem+json, WWW-Authenticate
 *     2 body read up to max-request-bytes → HttpCall   too large → 413
 *     3 Gate.judge (policy → Decision, recorded)       Deny / HoldForApproval → 403 problem+json
 *     4 HttpUpstream: agent credential removed, target credential injected ──▶ upstream
 *     5 response streamed through JsonMasker / TextStreamMasker ──▶ agent
 *     6 result recorded durably, then the response is completed
 * </pre>
 * Only this package knows HTTP; what it hands the core is an {@link dev.portcullis.core.HttpCall}.
 */
package dev.portcullis.http;
