package dev.portcullis.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.ByteBuffer;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/**
 * Refusals in HTTP's own dialect: an RFC 9457 {@code application/problem+json} body that names the
 * connection, the rule and the reason. The core never formats bytes; this class does, for HTTP.
 */
final class HttpProblem {
    static final String BASE = "https://portcullis.dev/problems/";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final ObjectNode body = JSON.createObjectNode();
    private final int status;
    private String wwwAuthenticate;

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

    static HttpProblem approvalRequired(String connection, String rule, String reason, String operation,
                                        Iterable<String> approverGroups) {
        HttpProblem p = new HttpProblem(403, "approval-required", "Approval required", reason
                + " Approvals are not available in this version of Portcullis, so the operation is refused.");
        p.body.put("connection", connection);
        p.body.put("rule", rule);
        p.body.put("operation", operation);
        var groups = p.body.putArray("approverGroups");
        approverGroups.forEach(groups::add);
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

    byte[] bytes() {
        try {
            return JSON.writeValueAsBytes(body);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    void send(Response response, Callback callback) {
        byte[] bytes = bytes();
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/problem+json");
        response.getHeaders().put(HttpHeader.CONTENT_LENGTH, bytes.length);
        response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
        if (wwwAuthenticate != null) response.getHeaders().put(HttpHeader.WWW_AUTHENTICATE, wwwAuthenticate);
        response.write(true, ByteBuffer.wrap(bytes), callback);
    }
}
