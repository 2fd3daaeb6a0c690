package dev.portcullis.recording;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.portcullis.recording.AuditEvent.ApprovalApproved;
import dev.portcullis.recording.AuditEvent.ApprovalDenied;
import dev.portcullis.recording.AuditEvent.ApprovalExpired;
import dev.portcullis.recording.AuditEvent.ApprovalReleased;
import dev.portcullis.recording.AuditEvent.ApprovalRequested;
import dev.portcullis.recording.AuditEvent.AuthFailed;
import dev.portcullis.recording.AuditEvent.OperationForwarding;
import dev.portcullis.recording.AuditEvent.OperationRecorded;
import dev.portcullis.recording.AuditEvent.SessionEnded;
import dev.portcullis.recording.AuditEvent.SessionStarted;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Canonical JSON for audit events. Fields are written by hand in a fixed order (no reflection, no
 * map ordering), compact, so the same event always yields the same bytes: the hash chain depends on it.
 */
final class AuditJson {

    static final ObjectMapper MAPPER = new ObjectMapper();

    private AuditJson() {
    }

    static String write(AuditEvent event) {
        ObjectNode o = MAPPER.createObjectNode();
        switch (event) {
            case SessionStarted s -> {
                o.put("subject", s.subject());
                ArrayNode groups = o.putArray("groups");
                s.groups().forEach(groups::add);
                o.put("tokenId", s.tokenId());
                o.put("clientId", s.clientId());
                o.put("issuer", s.issuer());
                o.put("connection", s.connection());
                o.put("protocol", s.protocol());
                o.put("clientAddress", s.clientAddress());
            }
            case SessionEnded e -> o.put("reason", e.reason());
            case OperationRecorded op -> {
                o.put("protocol", op.protocol());
                o.put("summary", op.summary());
                o.set("request", excerpt(op.request()));
                o.set("verdict", verdict(op.verdict()));
                ArrayNode shadow = o.putArray("shadow");
                op.shadow().forEach(v -> shadow.add(verdict(v)));
                o.set("upstream", upstream(op.upstream()));
                o.set("response", excerpt(op.response()));
                ObjectNode t = o.putObject("timings");
                t.put("decideMicros", op.timings().decideMicros());
                t.put("upstreamMicros", op.timings().upstreamMicros());
                t.put("totalMicros", op.timings().totalMicros());
            }
            case OperationForwarding f -> {
                o.put("protocol", f.protocol());
                o.put("summary", f.summary());
                o.set("request", excerpt(f.request()));
                o.set("verdict", verdict(f.verdict()));
                ArrayNode shadow = o.putArray("shadow");
                f.shadow().forEach(v -> shadow.add(verdict(v)));
            }
            case AuthFailed a -> {
                o.put("connection", a.connection());
                o.put("protocol", a.protocol());
                o.put("clientAddress", a.clientAddress());
                o.put("reason", a.reason());
                o.put("message", a.message());
            }
            case ApprovalRequested r -> {
                o.put("approvalId", r.approvalId());
                o.put("connection", r.connection());
                o.put("subject", r.subject());
                o.put("tokenId", r.tokenId());
                o.put("protocol", r.protocol());
                o.put("summary", r.summary());
                o.put("detail", r.detail());
                o.put("fingerprint", r.fingerprint());
                o.put("ruleId", r.ruleId());
                o.put("reason", r.reason());
                ArrayNode groups = o.putArray("approverGroups");
                r.approverGroups().forEach(groups::add);
                o.put("approvalsRequired", r.approvalsRequired());
                o.put("expiresAt", r.expiresAt().toString());
                r.grant().ifPresent(g -> o.put("grant", g.toString()));
            }
            case ApprovalApproved a -> {
                o.put("approvalId", a.approvalId());
                o.put("approverSubject", a.approverSubject());
                ArrayNode groups = o.putArray("approverGroups");
                a.approverGroups().forEach(groups::add);
                o.put("approverTokenId", a.approverTokenId());
                o.put("approvals", a.approvals());
                o.put("approvalsRequired", a.approvalsRequired());
                a.grantUntil().ifPresent(u -> o.put("grantUntil", u.toString()));
            }
            case ApprovalDenied d -> {
                o.put("approvalId", d.approvalId());
                o.put("approverSubject", d.approverSubject());
                ArrayNode groups = o.putArray("approverGroups");
                d.approverGroups().forEach(groups::add);
                o.put("approverTokenId", d.approverTokenId());
                o.put("reason", d.reason());
            }
            case ApprovalExpired e -> {
                o.put("approvalId", e.approvalId());
                o.put("expiresAt", e.expiresAt().toString());
            }
            case ApprovalReleased r -> {
                o.put("approvalId", r.approvalId());
                o.put("fingerprint", r.fingerprint());
            }
            case AuditEvent.ApprovalNotified n -> {
                o.put("approvalId", n.approvalId());
                o.put("channel", n.channel());
                o.put("delivered", n.delivered());
                o.put("attempts", n.attempts());
                o.put("error", n.error());
            }
            case AuditEvent.ApprovalRevoked r -> {
                o.put("approvalId", r.approvalId());
                o.put("subject", r.subject());
                ArrayNode groups = o.putArray("groups");
                r.groups().forEach(groups::add);
                o.put("tokenId", r.tokenId());
                o.put("reason", r.reason());
            }
            case AuditEvent.GrantEnded g -> {
                o.put("approvalId", g.approvalId());
                o.put("endedAt", g.endedAt().toString());
            }
        }
        try {
            return MAPPER.writeValueAsString(o);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialize " + event.code(), e);
        }
    }

    static AuditEvent read(String code, String payload) {
        JsonNode o;
        try {
            o = MAPPER.readTree(payload);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("payload of " + code + " is not JSON: " + e.getOriginalMessage(), e);
        }
        return switch (EventCode.fromCode(code)) {
            case SESSION_START -> {
                List<String> groups = new ArrayList<>();
                o.path("groups").forEach(g -> groups.add(g.asText()));
                yield new SessionStarted(text(o, "subject"), groups, text(o, "tokenId"), text(o, "clientId"),
                        text(o, "issuer"), text(o, "connection"), text(o, "protocol"), text(o, "clientAddress"));
            }
            case SESSION_END -> new SessionEnded(text(o, "reason"));
            case OPERATION -> {
                List<RecordedVerdict> shadow = new ArrayList<>();
                o.path("shadow").forEach(v -> shadow.add(verdict(v)));
                JsonNode t = o.path("timings");
                yield new OperationRecorded(text(o, "protocol"), text(o, "summary"), excerpt(o.path("request")),
                        verdict(o.path("verdict")), shadow, upstream(o.path("upstream")), excerpt(o.path("response")),
                        new Timings(t.path("decideMicros").asLong(), t.path("upstreamMicros").asLong(),
                                t.path("totalMicros").asLong()));
            }
            case OPERATION_FORWARDING -> {
                List<RecordedVerdict> shadow = new ArrayList<>();
                o.path("shadow").forEach(v -> shadow.add(verdict(v)));
                yield new OperationForwarding(text(o, "protocol"), text(o, "summary"), excerpt(o.path("request")),
                        verdict(o.path("verdict")), shadow);
            }
            case AUTH_FAILED -> new AuthFailed(text(o, "connection"), text(o, "protocol"), text(o, "clientAddress"),
                    text(o, "reason"), text(o, "message"));
            case APPROVAL_REQUESTED -> new ApprovalRequested(text(o, "approvalId"), text(o, "connection"),
                    text(o, "subject"), text(o, "tokenId"), text(o, "protocol"), text(o, "summary"),
                    o.path("detail").asText(""), text(o, "fingerprint"), text(o, "ruleId"), text(o, "reason"), texts(o, "approverGroups"),
                    o.path("approvalsRequired").asInt(), Instant.parse(text(o, "expiresAt")),
                    o.has("grant") ? Optional.of(Duration.parse(text(o, "grant"))) : Optional.empty());
            case APPROVAL_APPROVED -> new ApprovalApproved(text(o, "approvalId"), text(o, "approverSubject"),
                    texts(o, "approverGroups"), text(o, "approverTokenId"), o.path("approvals").asInt(),
                    o.path("approvalsRequired").asInt(),
                    o.has("grantUntil") ? Optional.of(Instant.parse(text(o, "grantUntil"))) : Optional.empty());
            case APPROVAL_DENIED -> new ApprovalDenied(text(o, "approvalId"), text(o, "approverSubject"),
                    texts(o, "approverGroups"), text(o, "approverTokenId"), text(o, "reason"));
            case APPROVAL_EXPIRED -> new ApprovalExpired(text(o, "approvalId"), Instant.parse(text(o, "expiresAt")));
            case APPROVAL_RELEASED -> new ApprovalReleased(text(o, "approvalId"), text(o, "fingerprint"));
            case APPROVAL_NOTIFIED -> new AuditEvent.ApprovalNotified(text(o, "approvalId"), text(o, "channel"),
                    o.path("delivered").asBoolean(), o.path("attempts").asInt(), text(o, "error"));
            case APPROVAL_REVOKED -> new AuditEvent.ApprovalRevoked(text(o, "approvalId"), text(o, "subject"),
                    texts(o, "groups"), text(o, "tokenId"), text(o, "reason"));
            case GRANT_ENDED -> new AuditEvent.GrantEnded(text(o, "approvalId"), Instant.parse(text(o, "endedAt")));
        };
    }

    private static ObjectNode excerpt(Excerpt e) {
        ObjectNode o = MAPPER.createObjectNode();
        o.put("text", e.text());
        o.put("truncated", e.truncated());
        o.put("totalBytes", e.totalBytes());
        return o;
    }

    private static Excerpt excerpt(JsonNode o) {
        return new Excerpt(text(o, "text"), o.path("truncated").asBoolean(), o.path("totalBytes").asLong());
    }

    private static ObjectNode verdict(RecordedVerdict v) {
        ObjectNode o = MAPPER.createObjectNode();
        o.put("kind", v.kind().label());
        o.put("ruleId", v.ruleId());
        o.put("reason", v.reason());
        return o;
    }

    private static RecordedVerdict verdict(JsonNode o) {
        return new RecordedVerdict(RecordedVerdict.Kind.fromLabel(text(o, "kind")), text(o, "ruleId"),
                text(o, "reason"));
    }

    private static ObjectNode upstream(Upstream u) {
        ObjectNode o = MAPPER.createObjectNode();
        switch (u) {
            case Upstream.NotForwarded n -> o.put("kind", "not-forwarded");
            case Upstream.Responded r -> {
                o.put("kind", "responded");
                o.put("status", r.status());
            }
            case Upstream.Failed f -> {
                o.put("kind", "failed");
                o.put("error", f.error());
            }
        }
        return o;
    }

    private static Upstream upstream(JsonNode o) {
        return switch (text(o, "kind")) {
            case "responded" -> new Upstream.Responded(o.path("status").asInt());
            case "failed" -> new Upstream.Failed(text(o, "error"));
            case "not-forwarded" -> Upstream.NOT_FORWARDED;
            default -> throw new IllegalArgumentException("unknown upstream kind " + o.path("kind"));
        };
    }

    private static List<String> texts(JsonNode o, String field) {
        List<String> out = new ArrayList<>();
        o.path(field).forEach(v -> out.add(v.asText()));
        return out;
    }

    private static String text(JsonNode o, String field) {
        JsonNode v = o.get(field);
        if (v == null || !v.isTextual()) throw new IllegalArgumentException("missing text field '" + field + "'");
        return v.asText();
    }
}
