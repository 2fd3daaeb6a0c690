/**
 * The HTTP adapter: agents call any REST API (Okta's admin API first) through the gateway.
 *
 * <pre>
 *  agent ──GET /api/v1/users, Authorization: Bearer|SSWS &lt;agent token&gt;──▶ AgentConnection (event loop)
 *     0 request and body read up to max-request-bytes  too large → 413 (rest read and dropped, then close)
 *       → AgentExchange → HttpGatewayHandler.handle: a read with a token known from before stays on the
 *       loop; anything that may wait (issuer, fsync of a change, approval) moves to a virtual thread
 *     1 Gate.authenticate (token → Identity)          refused → 401 problem+json, WWW-Authenticate
 *     2 the request → HttpCall
 *     3 Gate.judge (policy → Decision, recorded)       Deny → 403 problem+json
 *       Mask, and a filter-params value searches a masked field beyond the rule's predicates mode, or a
 *         sort-params value sorts by one (MaskedFieldSearch, reading OktaFilter) → 403 masked-field-search,
 *         recorded as a deny of the rule
 *       HoldForApproval, no Portcullis-Approval header: Gate.requestApproval, then the call is held
 *         up to HttpGatewayHandler.holdWait (half the rule's hold-timeout, at most 25 s):
 *         approved → Gate.releaseApproved → forwarded as below; denied → 403 approval-denied;
 *         still pending → 403 approval-pending with the id, the approval page and header Portcullis-Approval
 *         (202 with Location and Retry-After instead where the connection's approval-pending-status is 202)
 *       HoldForApproval with Portcullis-Approval: apr_…: same caller and Gate.releaseApproved(id, call, body)
 *         → forwarded, once; otherwise 403 approval-not-usable (not-approved, expired, already-used,
 *         different-operation, different-requester, unknown)
 *     4 HttpUpstream / UpstreamCall, on the same loop: agent credential removed, target credential
 *       injected ──▶ upstream (kept-alive connections of that loop)
 *     5 response masked by JsonMasker / TextStreamMasker (whole up to 256 KiB, else streamed) ──▶ agent;
 *       upstream URLs in Link and Location headers and in JSON string values point at the gateway (UpstreamLinks)
 *     6 result recorded durably, then the response is completed
 * </pre>
 * With the connection's {@code tls:} the listener ({@link dev.portcullis.http.HttpListener}) speaks HTTPS
 * only, so the agent's token is never on the wire in the clear; without it, only on loopback unless the
 * configuration says {@code allow-plaintext}.
 * Only this package knows HTTP; what it hands the core is an {@link dev.portcullis.core.HttpCall}.
 * The filter reader lives here, not in masking: the expression language is Okta's (SCIM's) dialect of a
 * query parameter, as SQL is the postgres adapter's. Masking supplies only which field masks a path
 * ({@link dev.portcullis.masking.MaskPlan#fieldMasking}) and the mode; query strings are parsed once,
 * into {@link dev.portcullis.core.HttpCall#query()}.
 */
package dev.portcullis.http;
