package dev.portcullis.server;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.portcullis.core.HttpCall;
import dev.portcullis.core.Identity;
import dev.portcullis.core.Json;
import dev.portcullis.gate.LiveSessions;
import dev.portcullis.recording.Replay;
import dev.portcullis.store.AuditStore;
import dev.portcullis.store.SessionQuery;
import dev.portcullis.store.SessionSummary;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * What was recorded, for auditors ({@code admin.auditors} and session admins): {@code GET /api/v1/sessions}
 * searches sessions (identity, connection, protocol, time, only those with refusals), {@code GET
 * /api/v1/sessions/{id}} replays one (operations with verdicts, rules and the masked excerpts as recorded),
 * {@code GET /api/v1/sessions/{id}/casts/{seq}} gives a terminal recording as an asciicast v2 document.
 */
final class RecordedSessionsApi {
    static final String PREFIX = "/api/v1/sessions";
    static final int MAX_LIMIT = 500;
    private static final Pattern ID = Pattern.compile("^" + PREFIX + "/([0-9a-f-]{36})$");
    private static final Pattern CAST = Pattern.compile("^" + PREFIX + "/([0-9a-f-]{36})/casts/([0-9]{1,18})$");
    private static final ObjectMapper JSON = Json.mapper();

    private final AuditStore store;
    private final Replay replay;
    private final LiveSessions live;
    private final Auditors auditors;

    RecordedSessionsApi(AuditStore store, LiveSessions live, Auditors auditors) {
        this.store = store;
        this.replay = new Replay(store, ZoneOffset.UTC);
        this.live = live;
        this.auditors = auditors;
    }

    static boolean serves(String path) {
        return path.equals(PREFIX) || ID.matcher(path).matches() || CAST.matcher(path).matches();
    }

    SessionsApi.Reply handle(String method, String path, String rawQuery, Identity caller) {
        var refused = auditors.refuse(caller, "recorded sessions");
        if (refused.isPresent()) return refused.get();
        if (!method.equals("GET") && !method.equals("HEAD")) return SessionsApi.problem(405, "Method not allowed", "use GET");
        if (path.equals(PREFIX)) return list(rawQuery);
        Matcher cast = CAST.matcher(path);
        if (cast.matches()) {
            long seq = Long.parseLong(cast.group(2));
            return replay.casts(cast.group(1)).stream().filter(c -> c.seq() == seq).findFirst()
                    .map(c -> new SessionsApi.Reply(200, "application/x-asciicast", c.asciicast()))
                    .orElseGet(() -> SessionsApi.problem(404, "Not found", "session " + cast.group(1) + " has no terminal recording at #" + seq));
        }
        Matcher id = ID.matcher(path);
        if (!id.matches()) return SessionsApi.problem(404, "Not found", "no sessions endpoint at " + path);
        ArrayNode events = replay.view(id.group(1));
        if (events.isEmpty()) return SessionsApi.problem(404, "Not found", "no recorded session " + id.group(1));
        ObjectNode out = JSON.createObjectNode();
        Set<String> open = liveIds();
        store.session(id.group(1)).ifPresentOrElse(s -> out.set("session", json(s, open)), () -> out.putNull("session"));
        out.set("events", events);
        return new SessionsApi.Reply(200, "application/json", out.toString());
    }

    private SessionsApi.Reply list(String rawQuery) {
        Map<String, List<String>> q = HttpCall.parseQuery(rawQuery);
        SessionQuery query = SessionQuery.newest();
        try {
            query = query.subject(one(q, "subject")).connection(one(q, "connection")).protocol(one(q, "protocol"))
                    .refusedOnly(one(q, "refused").equals("true"));
            Instant from = one(q, "from").isEmpty() ? Instant.EPOCH : Instant.parse(one(q, "from"));
            Instant to = one(q, "to").isEmpty() ? Instant.parse("9999-12-31T23:59:59Z") : Instant.parse(one(q, "to"));
            query = query.between(from, to);
            int limit = one(q, "limit").isEmpty() ? SessionQuery.DEFAULT_LIMIT : Integer.parseInt(one(q, "limit"));
            if (limit < 1 || limit > MAX_LIMIT) throw new NumberFormatException();
            query = query.limit(limit + 1);
        } catch (DateTimeParseException e) {
            return SessionsApi.problem(400, "Bad request", "from and to are instants like 2026-12-04T09:00:00Z");
        } catch (NumberFormatException e) {
            return SessionsApi.problem(400, "Bad request", "limit is a number from 1 to " + MAX_LIMIT);
        }
        List<SessionSummary> sessions = store.sessions(query);
        boolean truncated = sessions.size() == query.limit();
        Set<String> open = liveIds();
        ObjectNode out = JSON.createObjectNode();
        ArrayNode items = out.putArray("sessions");
        sessions.stream().limit(query.limit() - 1L).forEach(s -> items.add(json(s, open)));
        out.put("truncated", truncated);
        return new SessionsApi.Reply(200, "application/json", out.toString());
    }

    private static String one(Map<String, List<String>> q, String name) {
        List<String> values = q.getOrDefault(name, List.of());
        return values.isEmpty() ? "" : values.getLast().strip();
    }

    private Set<String> liveIds() {
        return live.list().stream().map(LiveSessions.Live::sessionId).collect(Collectors.toSet());
    }

    private static ObjectNode json(SessionSummary s, Set<String> open) {
        return JSON.createObjectNode().put("id", s.id()).put("subject", s.subject()).put("connection", s.connection())
                .put("protocol", s.protocol()).put("clientAddress", s.clientAddress()).put("startedAt", s.startedAt().toString())
                .put("lastEventAt", s.lastEventAt().toString()).put("eventCount", s.eventCount()).put("refusedCount", s.refusedCount())
                .put("live", open.contains(s.id()));
    }
}
