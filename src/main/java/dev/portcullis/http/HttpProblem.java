package dev.portcullis.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.portcullis.core.Json;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;

/**
 * Refusals in HTTP's own dialect: an RFC 9457 {@code application/problem+json} body that names the
 * connection, the rule and the reason. The core never formats bytes; this class does, for HTTP.
 */
final class HttpProblem {
    static final String BASE = "https://portcullis.dev/problems/";
    private static final ObjectMapper JSON = Json.mapper();

    private final ObjectNode body = JSON.createObjectNode();
    private final int status;
    private String wwwAuthenticate;
    private String approvalId;
    private String location;
    private String retryAfter;

    private HttpProblem(int status, String type, String title, String detail) {
        this.status = status;
        body.put("type", BASE + type);
        body.put("title", title);
        body.put("status", status);
        body.put("detail", detail);
    }

    static HttpProblem unauthorized(String connection, String reasonLabel, String detail) {
        HttpProblem p = new HttpProblem(401, "invalid-token", "Agent token refused", detail);
        p.body.put("connection", connection);
        p.body.put("reason", reasonLabel);
        // RFC 6750 section 3: the challenge tells the client what went wrong, without echoing the token.
        p.wwwAuthenticate = "Bearer realm=\"portcullis\", error=\"invalid_token\", error_description=\""
                + detail.replace("\\", "\\\\").replace("\"", "'") + "\"";
        return p;
    }

    static HttpProblem missingToken(String connection) {
        HttpProblem p = new HttpProblem(401, "missing-token", "Agent token required",
                "send your OIDC access token as 'Authorization: Bearer <token>' (or 'SSWS <token>')");
        p.body.put("connection", connection);
        p.body.put("reason", "missing");
        p.wwwAuthenticate = "Bearer realm=\"portcullis\"";
        return p;
    }

    static HttpProblem denied(String connection, String rule, String reason, String operation) {
        HttpProblem p = new HttpProblem(403, "denied", "Refused by policy", reason);
        p.body.put("connection", connection);
        p.body.put("rule", rule);
        p.body.put("operation", operation);
        return p;
    }

    /** A mask rule's predicates mode forbids this search on a masked field; never forwarded. */
    static HttpProblem maskedFieldSearch(String connection, String rule, String operation, MaskedFieldSearch search) {
        HttpProblem p = new HttpProblem(403, "masked-field-search", "Search on a masked field refused", search.detail());
        p.body.put("connection", connection);
        p.body.put("rule", rule);
        p.body.put("operation", operation);
        p.body.put("parameter", search.parameter());
        p.body.put("field", search.field());
        p.body.put("operator", search.operator());
        p.body.put("predicates", search.predicates().configName());
        return p;
    }

    /** Seconds a {@code 202} approval-pending answer suggests waiting before looking again ({@code Retry-After}). */
    static final int PENDING_RETRY_AFTER_SECONDS = 5;

    /**
     * Held, and still undecided when the hold wait ended: the agent repeats the identical call with
     * {@code Portcullis-Approval: <id>} once a person has approved it.
     *
     * @param status {@code 403}, or {@code 202} where the connection's {@code approval-pending-status}
     *               says so (for clients that treat 403 as fatal): the same body, plus
     *               {@code Location: <approval page>} and {@code Retry-After}. Nothing was forwarded either way.
     */
    static HttpProblem approvalPending(int status, String connection, String rule, String reason, String operation,
                                       Iterable<String> approverGroups, String approvalId, String approvalPage,
                                       java.time.Instant expiresAt) {
        if (status != 403 && status != 202) throw new IllegalArgumentException("approval-pending status " + status);
        HttpProblem p = new HttpProblem(status, "approval-pending", "Approval pending", reason
                + " Approval request " + approvalId + " is waiting for a decision at " + approvalPage
                + ". Once it is approved, repeat exactly the same request (same method, path, query and body) with header '"
                + HttpGatewayHandler.APPROVAL_HEADER + ": " + approvalId + "' before " + expiresAt + ".");
        p.body.put("connection", connection);
        p.body.put("rule", rule);
        p.body.put("operation", operation);
        p.body.put("approvalId", approvalId);
        p.body.put("approvalPage", approvalPage);
        p.body.put("expiresAt", expiresAt.toString());
        p.body.put("retryWithHeader", HttpGatewayHandler.APPROVAL_HEADER + ": " + approvalId);
        var groups = p.body.putArray("approverGroups");
        approverGroups.forEach(groups::add);
        p.approvalId = approvalId;
        if (status == 202) {
            p.location = approvalPage;
            p.retryAfter = Integer.toString(PENDING_RETRY_AFTER_SECONDS);
        }
        return p;
    }

    /** An approver denied the held operation. */
    static HttpProblem approvalDenied(String connection, String rule, String operation, String approvalId,
                                      String deniedBy, String denialReason) {
        HttpProblem p = new HttpProblem(403, "approval-denied", "Approval denied",
                "approval request " + approvalId + " for rule " + rule + " was denied by " + deniedBy + ": " + denialReason);
        p.body.put("connection", connection);
        p.body.put("rule", rule);
        p.body.put("operation", operation);
        p.body.put("approvalId", approvalId);
        p.body.put("deniedBy", deniedBy);
        p.body.put("reason", denialReason);
        p.approvalId = approvalId;
        return p;
    }

    /**
     * The operation cannot be released under this approval id; {@code why} is one of
     * {@code unknown}, {@code not-approved}, {@code expired}, {@code already-used},
     * {@code different-operation}, {@code different-requester}. Never forwarded.
     */
    static HttpProblem approvalNotUsable(String connection, String rule, String operation, String approvalId,
                                         String why, String detail) {
        HttpProblem p = new HttpProblem(403, "approval-not-usable", "Approval cannot be used", detail);
        p.body.put("connection", connection);
        p.body.put("rule", rule);
        p.body.put("operation", operation);
        p.body.put("approvalId", approvalId);
        p.body.put("reason", why);
        p.approvalId = approvalId;
        return p;
    }

    static HttpProblem tooLarge(String connection, long maxBytes) {
        HttpProblem p = new HttpProblem(413, "request-too-large", "Request body too large",
                "request bodies on connection '" + connection + "' are limited to " + maxBytes + " bytes");
        p.body.put("connection", connection);
        return p;
    }

    static HttpProblem badGateway(String connection, String detail) {
        HttpProblem p = new HttpProblem(502, "upstream-unavailable", "Upstream unavailable", detail);
        p.body.put("connection", connection);
        return p;
    }

    static HttpProblem unavailable(String connection, String detail) {
        HttpProblem p = new HttpProblem(503, "gateway-unavailable", "Gateway cannot decide", detail);
        p.body.put("connection", connection);
        return p;
    }

    /** Refused by the protocol before policy could judge it (a path the target would read otherwise, a forbidden header). */
    static HttpProblem refused(String connection, int status, String type, String detail, String operation) {
        HttpProblem p = new HttpProblem(status, type, status == 400 ? "Bad request" : "Refused by the gateway", detail);
        p.body.put("connection", connection);
        p.body.put("operation", operation);
        return p;
    }

    static HttpProblem badRequest(String connection, String detail) {
        HttpProblem p = new HttpProblem(400, "bad-request", "Bad request", detail);
        p.body.put("connection", connection);
        return p;
    }

    int status() {
        return status;
    }

    String detail() {
        return body.path("detail").asText();
    }

    /** The problem's fields as text (an array as its JSON). */
    java.util.Map<String, String> fields() {
        java.util.Map<String, String> fields = new java.util.LinkedHashMap<>();
        body.properties().forEach(e -> fields.put(e.getKey(), e.getValue().isValueNode() ? e.getValue().asText() : e.getValue().toString()));
        return fields;
    }

    byte[] bytes() {
        try {
            return JSON.writeValueAsBytes(body);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The whole answer: status, headers and body (the caller adds the connection's own headers). */
    FullHttpResponse toResponse() {
        return toResponse(HttpDialect.REST);
    }

    /** The whole answer in the dialect's own form (a Kubernetes {@code Status}, ...). */
    FullHttpResponse toResponse(HttpDialect dialect) {
        var custom = dialect == HttpDialect.REST ? java.util.Optional.<HttpDialect.RefusalBody>empty() : dialect.refusal(status, fields());
        byte[] bytes = custom.isPresent() ? custom.get().bytes() : bytes();
        // RFC 9110 calls 413 "Content Too Large"; clients print the reason phrase, so say what most servers say.
        HttpResponseStatus line = status == 413 ? new HttpResponseStatus(413, "Payload Too Large") : HttpResponseStatus.valueOf(status);
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, line,
                Unpooled.wrappedBuffer(bytes));
        HttpHeaders h = r.headers();
        h.set(HttpHeaderNames.CONTENT_TYPE, custom.isPresent() ? custom.get().contentType() : "application/problem+json");
        h.setInt(HttpHeaderNames.CONTENT_LENGTH, bytes.length);
        h.set(HttpHeaderNames.CACHE_CONTROL, "no-store");
        if (wwwAuthenticate != null) h.set(HttpHeaderNames.WWW_AUTHENTICATE, wwwAuthenticate);
        if (approvalId != null) h.set(HttpGatewayHandler.APPROVAL_HEADER, approvalId);
        if (location != null) h.set(HttpHeaderNames.LOCATION, location);
        if (retryAfter != null) h.set(HttpHeaderNames.RETRY_AFTER, retryAfter);
        return r;
    }
}
