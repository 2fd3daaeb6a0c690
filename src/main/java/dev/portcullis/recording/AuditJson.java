package dev.portcullis.recording;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.util.BufferRecycler;
import com.fasterxml.jackson.core.util.ByteArrayBuilder;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.portcullis.core.Json;
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
import java.io.IOException;
import java.nio.charset.StandardCharsets;
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

    static final ObjectMapper MAPPER = Json.mapper();
    private static final JsonFactory EVENTS = Json.utf8Factory();

    private AuditJson() {
    }

    /** The event's canonical JSON as text: {@link #writeUtf8} decoded. */
    static String write(AuditEvent event) {
        return new String(writeUtf8(event), StandardCharsets.UTF_8);
    }

    /**
     * The event's canonical JSON, written as UTF-8 by Jackson's byte generator into a pooled buffer: the bytes that are
     * hashed, written to the trail and stored, with no text in between. The same JSON the character generator wrote
     * before, but for a lone surrogate, now escaped ({@link Json#utf8Factory}), so the bytes are always the UTF-8 of
     * the text they decode to.
     */
    static byte[] writeUtf8(AuditEvent event) {
        BufferRecycler buffers = EVENTS._getBufferRecycler();
        try (ByteArrayBuilder out = new ByteArrayBuilder(buffers)) {
            try (JsonGenerator o = EVENTS.createGenerator(out)) {
                o.writeStartObject();
                fields(o, event);
                o.writeEndObject();
            }
            byte[] json = out.size() == out.getCurrentSegmentLength()
                    ? java.util.Arrays.copyOf(out.getCurrentSegment(), out.size())
                    : out.toByteArray();
            out.release();
            return json;
        } catch (IOException e) {
            throw new IllegalStateException("cannot serialize " + event.code(), e);
        } finally {
            buffers.releaseToPool();
        }
    }

    /** The event's fields, in their canonical order; written straight to the generator (no tree). */
    private static void fields(JsonGenerator o, AuditEvent event) throws IOException {
        switch (event) {
            case SessionStarted s -> {
                put(o, "subject", s.subject());
                strings(o, "groups", s.groups());
                put(o, "tokenId", s.tokenId());
                put(o, "clientId", s.clientId());
                put(o, "issuer", s.issuer());
                put(o, "connection", s.connection());
                put(o, "protocol", s.protocol());
                put(o, "clientAddress", s.clientAddress());
            }
            case SessionEnded e -> put(o, "reason", e.reason());
            case OperationRecorded op -> {
                operation(o, op.protocol(), op.summary(), op.request(), op.verdict(), op.shadow());
                o.writeFieldName("upstream");
                upstream(o, op.upstream());
                o.writeFieldName("response");
                excerpt(o, op.response());
                o.writeObjectFieldStart("timings");
                o.writeNumberField("decideMicros", op.timings().decideMicros());
                o.writeNumberField("upstreamMicros", op.timings().upstreamMicros());
                o.writeNumberField("totalMicros", op.timings().totalMicros());
                o.writeEndObject();
            }
            case OperationForwarding f -> operation(o, f.protocol(), f.summary(), f.request(), f.verdict(), f.shadow());
            case AuthFailed a -> {
                put(o, "connection", a.connection());
                put(o, "protocol", a.protocol());
                put(o, "clientAddress", a.clientAddress());
                put(o, "reason", a.reason());
                put(o, "message", a.message());
            }
            case ApprovalRequested r -> {
                put(o, "approvalId", r.approvalId());
                put(o, "connection", r.connection());
                put(o, "subject", r.subject());
                put(o, "tokenId", r.tokenId());
                put(o, "protocol", r.protocol());
                put(o, "summary", r.summary());
                put(o, "detail", r.detail());
                put(o, "fingerprint", r.fingerprint());
                put(o, "ruleId", r.ruleId());
                put(o, "reason", r.reason());
                strings(o, "approverGroups", r.approverGroups());
                put(o, "approvalsRequired", r.approvalsRequired());
                put(o, "expiresAt", r.expiresAt().toString());
                if (r.grant().isPresent()) put(o, "grant", r.grant().get().toString());
            }
            case ApprovalApproved a -> {
                put(o, "approvalId", a.approvalId());
                put(o, "approverSubject", a.approverSubject());
                strings(o, "approverGroups", a.approverGroups());
                put(o, "approverTokenId", a.approverTokenId());
                put(o, "approvals", a.approvals());
                put(o, "approvalsRequired", a.approvalsRequired());
                if (a.grantUntil().isPresent()) put(o, "grantUntil", a.grantUntil().get().toString());
            }
            case ApprovalDenied d -> {
                put(o, "approvalId", d.approvalId());
                put(o, "approverSubject", d.approverSubject());
                strings(o, "approverGroups", d.approverGroups());
                put(o, "approverTokenId", d.approverTokenId());
                put(o, "reason", d.reason());
            }
            case ApprovalExpired e -> {
                put(o, "approvalId", e.approvalId());
                put(o, "expiresAt", e.expiresAt().toString());
            }
            case ApprovalReleased r -> {
                put(o, "approvalId", r.approvalId());
                put(o, "fingerprint", r.fingerprint());
            }
            case AuditEvent.ApprovalNotified n -> {
                put(o, "approvalId", n.approvalId());
                put(o, "channel", n.channel());
                put(o, "delivered", n.delivered());
                put(o, "attempts", n.attempts());
                put(o, "error", n.error());
            }
            case AuditEvent.ApprovalRevoked r -> {
                put(o, "approvalId", r.approvalId());
                put(o, "subject", r.subject());
                strings(o, "groups", r.groups());
                put(o, "tokenId", r.tokenId());
                put(o, "reason", r.reason());
            }
            case AuditEvent.GrantEnded g -> {
                put(o, "approvalId", g.approvalId());
                put(o, "endedAt", g.endedAt().toString());
            }
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

    /** The fields an operation's events begin with, recorded before forwarding and with the outcome alike. */
    private static void operation(JsonGenerator o, String protocol, String summary, Excerpt request, RecordedVerdict verdict,
                                  List<RecordedVerdict> shadow) throws IOException {
        put(o, "protocol", protocol);
        put(o, "summary", summary);
        o.writeFieldName("request");
        excerpt(o, request);
        o.writeFieldName("verdict");
        verdict(o, verdict);
        o.writeArrayFieldStart("shadow");
        for (RecordedVerdict v : shadow) verdict(o, v);
        o.writeEndArray();
    }

    private static void put(JsonGenerator o, String field, String value) throws IOException {
        o.writeStringField(field, value);
    }

    private static void put(JsonGenerator o, String field, long value) throws IOException {
        o.writeNumberField(field, value);
    }

    private static void put(JsonGenerator o, String field, boolean value) throws IOException {
        o.writeBooleanField(field, value);
    }

    private static void strings(JsonGenerator o, String field, List<String> values) throws IOException {
        o.writeArrayFieldStart(field);
        for (String v : values) o.writeString(v);
        o.writeEndArray();
    }

    private static void excerpt(JsonGenerator o, Excerpt e) throws IOException {
        o.writeStartObject();
        o.writeStringField("text", e.text());
        o.writeBooleanField("truncated", e.truncated());
        o.writeNumberField("totalBytes", e.totalBytes());
        o.writeEndObject();
    }

    private static Excerpt excerpt(JsonNode o) {
        return new Excerpt(text(o, "text"), o.path("truncated").asBoolean(), o.path("totalBytes").asLong());
    }

    private static void verdict(JsonGenerator o, RecordedVerdict v) throws IOException {
        o.writeStartObject();
        o.writeStringField("kind", v.kind().label());
        o.writeStringField("ruleId", v.ruleId());
        o.writeStringField("reason", v.reason());
        o.writeEndObject();
    }

    private static RecordedVerdict verdict(JsonNode o) {
        return new RecordedVerdict(RecordedVerdict.Kind.fromLabel(text(o, "kind")), text(o, "ruleId"),
                text(o, "reason"));
    }

    private static void upstream(JsonGenerator o, Upstream u) throws IOException {
        o.writeStartObject();
        switch (u) {
            case Upstream.NotForwarded n -> o.writeStringField("kind", "not-forwarded");
            case Upstream.Responded r -> {
                o.writeStringField("kind", "responded");
                o.writeNumberField("status", r.status());
            }
            case Upstream.Failed f -> {
                o.writeStringField("kind", "failed");
                o.writeStringField("error", f.error());
            }
        }
        o.writeEndObject();
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
