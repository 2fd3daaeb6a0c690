package dev.portcullis.kubernetes;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.portcullis.core.Json;
import dev.portcullis.core.KubeRequest;
import java.nio.charset.StandardCharsets;

/**
 * Refusals in the Kubernetes API's own dialect: a {@code Status} object (meta/v1) with the HTTP code,
 * the reason kubectl prints in parentheses and a message naming the rule, so that kubectl shows
 * {@code Error from server (Forbidden): pods "web-1" is forbidden: ...} as for an RBAC refusal.
 *
 * @param code    the HTTP status
 * @param reason  the StatusReason, e.g. {@code Forbidden}
 * @param message what kubectl prints after the reason
 */
public record KubeStatus(int code, String reason, String message, String kind, String name) {

    /** Refused by policy (or by the gateway's own limits under {@code rule}). */
    public static KubeStatus forbidden(KubeRequest request, String subject, String rule, String why) {
        String what = request.resourceRequest()
                ? qualified(request) + (request.name().isEmpty() ? "" : " \"" + request.name() + "\"")
                : "the path \"" + request.path() + "\"";
        String where = request.namespace().isEmpty() ? "" : " in the namespace \"" + request.namespace() + "\"";
        String message = what + " is forbidden: Portcullis rule " + rule + " refuses " + request.verb() + where
                + " for agent \"" + subject + "\"" + (why == null || why.isBlank() ? "" : ": " + why);
        return new KubeStatus(403, "Forbidden", message, request.resource(), request.name());
    }

    /** No token, or one that is not acceptable: kubectl then says it must be logged in. */
    public static KubeStatus unauthorized(String why) {
        return new KubeStatus(401, "Unauthorized", "Portcullis: " + why, "", "");
    }

    public static KubeStatus badRequest(String why) {
        return new KubeStatus(400, "BadRequest", "Portcullis: " + why, "", "");
    }

    public static KubeStatus tooLarge(long maxBytes) {
        return new KubeStatus(413, "RequestEntityTooLarge", "Portcullis: request bodies are limited to " + maxBytes + " bytes", "", "");
    }

    /** The gateway cannot decide or record now, or the cluster cannot be reached: refused, and said why. */
    public static KubeStatus unavailable(String why) {
        return new KubeStatus(503, "ServiceUnavailable", "Portcullis: " + why, "", "");
    }

    /** The Status object as the API server writes it. */
    public byte[] json() {
        ObjectNode status = Json.mapper().createObjectNode();
        status.put("kind", "Status");
        status.put("apiVersion", "v1");
        status.putObject("metadata");
        status.put("status", "Failure");
        status.put("message", message);
        status.put("reason", reason);
        if (!kind.isEmpty() || !name.isEmpty()) {
            ObjectNode details = status.putObject("details");
            if (!name.isEmpty()) details.put("name", name);
            if (!kind.isEmpty()) details.put("kind", kind);
        }
        status.put("code", code);
        return status.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static String qualified(KubeRequest r) {
        return r.apiGroup().isEmpty() ? r.resource() : r.resource() + "." + r.apiGroup();
    }
}
