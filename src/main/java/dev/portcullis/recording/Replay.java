package dev.portcullis.recording;

import com.fasterxml.jackson.core.JsonProcessingException;
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
import dev.portcullis.store.AuditStore;
import dev.portcullis.store.StoredEvent;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Objects;

/**
 * Renders one recorded session: as a transcript for people (one block per event) or as JSON with
 * every stored field, hashes included, for tools ({@code portcullis replay --json}).
 */
public final class Replay {

    private static final String UNAUTHENTICATED = "(unauthenticated)";

    private final AuditStore store;
    private final DateTimeFormatter time;

    /** @param zone the zone timestamps are shown in */
    public Replay(AuditStore store, ZoneId zone) {
        this.store = Objects.requireNonNull(store, "store");
        this.time = DateTimeFormatter.ISO_OFFSET_DATE_TIME.withZone(zone);
    }

    /**
     * The session as a transcript, e.g.
     * <pre>
     * 2026-11-23T09:40:01.000123Z #2 operation PC2000 alice: GET /api/v1/users
     *     verdict: allow (rule okta-read)
     *     upstream: 200; decide 120 us, upstream 35000 us, total 36000 us
     *     response (1234 bytes, truncated):
     *       [{"id":"00u1","profile":{"email":"***"}}
     * </pre>
     *
     * @throws IllegalArgumentException when the session is unknown
     */
    public String text(String sessionId) {
        List<StoredEvent> events = events(sessionId);
        String who = UNAUTHENTICATED;
        StringBuilder out = new StringBuilder("session ").append(sessionId).append('\n');
        for (StoredEvent stored : events) {
            AuditEvent event = AuditJson.read(stored.code(), stored.payload());
            if (event instanceof SessionStarted s && !s.subject().isEmpty()) who = s.subject();
            out.append(time.format(stored.recordedAt())).append(" #").append(stored.seq()).append(' ')
                    .append(event.code().eventName()).append(' ').append(event.code().code()).append(' ')
                    .append(who).append(": ");
            block(event, out);
        }
        return out.toString();
    }

    /** One event's text after its heading: the first line, then indented detail lines. */
    private void block(AuditEvent event, StringBuilder out) {
    switch (event) {
        case SessionStarted s -> {
            out.append(s.protocol()).append(" via ").append(s.connection()).append(" from ")
                    .append(s.clientAddress()).append('\n');
            if (!s.subject().isEmpty()) {
                line(out, "groups: " + String.join(", ", s.groups()) + "; token id " + s.tokenId()
                        + (s.clientId().isEmpty() ? "" : "; client " + s.clientId()) + "; issuer " + s.issuer());
            }
        }
        case SessionEnded e -> out.append(e.reason()).append('\n');
        case OperationRecorded op -> {
            out.append(op.summary()).append('\n');
            line(out, "verdict: " + verdict(op.verdict()));
            for (RecordedVerdict shadow : op.shadow()) line(out, "dry-run: " + verdict(shadow));
            Timings t = op.timings();
            line(out, "upstream: " + upstream(op.upstream()) + "; decide " + t.decideMicros()
                    + " us, upstream " + t.upstreamMicros() + " us, total " + t.totalMicros() + " us");
            excerpt(out, "request", op.request());
            excerpt(out, "response", op.response());
        }
        case OperationForwarding f -> {
            out.append(f.summary()).append('\n');
            line(out, "verdict: " + verdict(f.verdict()) + "; forwarding to the target");
        }
        case AuthFailed a -> {
            out.append("authentication failed (").append(a.reason()).append(") on ").append(a.connection())
                    .append(" from ").append(a.clientAddress()).append('\n');
            if (!a.message().isEmpty()) line(out, a.message());
        }
        case ApprovalRequested r -> {
            out.append("approval ").append(r.approvalId()).append(" requested by ").append(r.subject())
                    .append(" for ").append(r.summary()).append('\n');
            line(out, "rule " + r.ruleId() + ": " + r.reason() + "; needs " + r.approvalsRequired()
                    + " of " + String.join(", ", r.approverGroups()) + "; expires " + time.format(r.expiresAt())
                    + r.grant().map(g -> "; grants " + g.toMinutes() + " min of access once approved").orElse(""));
            line(out, "fingerprint " + r.fingerprint());
        }
        case ApprovalApproved a -> out.append("approval ").append(a.approvalId()).append(" approved by ")
                .append(a.approverSubject()).append(" (").append(a.approvals()).append(" of ")
                .append(a.approvalsRequired()).append(")")
                .append(a.grantUntil().map(u -> ", access granted until " + time.format(u)).orElse("")).append('\n');
        case ApprovalDenied d -> out.append("approval ").append(d.approvalId()).append(" denied by ")
                .append(d.approverSubject()).append(": ").append(d.reason()).append('\n');
        case ApprovalExpired e -> out.append("approval ").append(e.approvalId()).append(" expired at ")
                .append(time.format(e.expiresAt())).append('\n');
        case ApprovalReleased r -> out.append("approval ").append(r.approvalId())
                .append(" released its operation (fingerprint ").append(r.fingerprint()).append(")\n");
        case AuditEvent.ApprovalNotified n -> out.append("approval ").append(n.approvalId())
                .append(n.delivered() ? " notified through " : " could not be notified through ").append(n.channel())
                .append(" (").append(n.attempts()).append(n.attempts() == 1 ? " attempt" : " attempts")
                .append(n.delivered() ? "" : ": " + n.error()).append(")\n");
        case AuditEvent.ApprovalRevoked r -> out.append("approval ").append(r.approvalId()).append(" revoked by ")
                .append(r.subject()).append(": ").append(r.reason()).append('\n');
        case AuditEvent.GrantEnded g -> out.append("approval ").append(g.approvalId()).append(" grant ended at ")
                .append(time.format(g.endedAt())).append('\n');
    }
    }

    /**
     * The session for the console: each event with its time, type, a one-line summary, and for operations
     * the verdict, what the upstream answered, the recorded (masked) request and response excerpts, and
     * whether the response is a terminal recording ({@link #casts}). Empty when the session is unknown.
     */
    public ArrayNode view(String sessionId) {
        ArrayNode array = AuditJson.MAPPER.createArrayNode();
        for (StoredEvent stored : store.events(sessionId)) {
            AuditEvent event = AuditJson.read(stored.code(), stored.payload());
            ObjectNode o = array.addObject();
            o.put("seq", stored.seq());
            o.put("at", stored.recordedAt().toString());
            o.put("type", event.code().eventName());
            o.put("code", event.code().code());
            if (event instanceof OperationRecorded op) {
                o.put("summary", op.summary());
                o.putObject("verdict").put("action", op.verdict().kind().label()).put("rule", op.verdict().ruleId())
                        .put("reason", op.verdict().reason());
                ArrayNode shadow = o.putArray("dryRun");
                for (RecordedVerdict v : op.shadow()) shadow.addObject().put("action", v.kind().label()).put("rule", v.ruleId()).put("reason", v.reason());
                o.put("upstream", upstream(op.upstream()));
                o.put("totalMicros", op.timings().totalMicros());
                excerpt(o, "request", op.request());
                boolean cast = op.response().text().startsWith("{\"version\":2,");
                if (cast) o.putObject("response").put("text", "").put("truncated", op.response().truncated()).put("bytes", op.response().totalBytes());
                else excerpt(o, "response", op.response());
                o.put("cast", cast);
            } else {
                StringBuilder text = new StringBuilder();
                block(event, text);
                String[] lines = text.toString().split("\n");
                o.put("summary", lines[0]);
                StringBuilder detail = new StringBuilder();
                for (int i = 1; i < lines.length; i++) detail.append(i > 1 ? "\n" : "").append(lines[i].strip());
                o.put("detail", detail.toString());
                o.putNull("verdict");
                if (event instanceof AuthFailed a) o.putObject("verdict").put("action", "deny").put("rule", "").put("reason", a.reason());
                o.putNull("request");
                o.putNull("response");
                o.put("cast", false);
            }
        }
        return array;
    }

    private static void excerpt(ObjectNode o, String name, Excerpt e) {
        if (e.totalBytes() == 0 && e.text().isEmpty()) {
            o.putNull(name);
            return;
        }
        o.putObject(name).put("text", e.text()).put("truncated", e.truncated()).put("bytes", e.totalBytes());
    }

    /** A terminal session (an exec into a pod, an SSH shell) recorded as an asciicast v2 document. */
    public record Cast(String sessionId, long seq, String summary, String asciicast, boolean truncated) {
    }

    /** The session's terminal sessions, oldest first: operations whose recorded response is an asciicast v2 document. */
    public List<Cast> casts(String sessionId) {
        List<Cast> casts = new java.util.ArrayList<>();
        for (StoredEvent stored : events(sessionId)) {
            if (AuditJson.read(stored.code(), stored.payload()) instanceof OperationRecorded op
                    && op.response().text().startsWith("{\"version\":2,")) {
                casts.add(new Cast(sessionId, stored.seq(), op.summary(), op.response().text(), op.response().truncated()));
            }
        }
        return casts;
    }

    /** The session as a JSON array of events with every stored field; the event itself under {@code event}. */
    public String json(String sessionId) {
        ArrayNode array = AuditJson.MAPPER.createArrayNode();
        for (StoredEvent e : events(sessionId)) {
            ObjectNode o = array.addObject();
            o.put("sessionId", e.sessionId());
            o.put("seq", e.seq());
            o.put("globalSeq", e.globalSeq());
            o.put("recordedAt", e.recordedAt().toString());
            o.put("code", e.code());
            o.put("type", EventCode.fromCode(e.code()).eventName());
            try {
                o.set("event", AuditJson.MAPPER.readTree(e.payload()));
            } catch (JsonProcessingException ex) {
                o.put("payload", e.payload()); // shown as stored; the verifier reports it
            }
            o.put("prevHash", e.prevHash());
            o.put("hash", e.hash());
            o.put("globalPrevHash", e.globalPrevHash());
            o.put("globalHash", e.globalHash());
        }
        try {
            return AuditJson.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(array);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot render session " + sessionId + " as JSON", e);
        }
    }

    private List<StoredEvent> events(String sessionId) {
        List<StoredEvent> events = store.events(sessionId);
        if (events.isEmpty()) throw new IllegalArgumentException("no recorded session " + sessionId);
        return events;
    }

    private static String verdict(RecordedVerdict v) {
        return v.kind().label() + " (rule " + v.ruleId() + ")" + (v.reason().isEmpty() ? "" : ": " + v.reason());
    }

    private static String upstream(Upstream u) {
        return switch (u) {
            case Upstream.NotForwarded n -> "not forwarded";
            case Upstream.Responded r -> String.valueOf(r.status());
            case Upstream.Failed f -> "failed: " + f.error();
        };
    }

    private static void excerpt(StringBuilder out, String label, Excerpt e) {
        if (e.totalBytes() == 0 && e.text().isEmpty()) return;
        line(out, label + " (" + e.totalBytes() + " bytes" + (e.truncated() ? ", truncated" : "") + "):");
        for (String l : e.text().split("\n", -1)) out.append("      ").append(l).append('\n');
    }

    private static void line(StringBuilder out, String text) {
        out.append("    ").append(text).append('\n');
    }
}
