package dev.portcullis.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.portcullis.core.Identity;
import dev.portcullis.core.Json;
import dev.portcullis.gate.LiveSessions;
import java.io.IOException;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Live sessions, for the people who may end them ({@code admin.session-admins}):
 * {@code GET /api/v1/sessions/live} lists what is open now, {@code POST /api/v1/sessions/{id}/terminate}
 * with {@code {"reason": "..."}} ends one at once. The protocol tells the client why where it can (a
 * PostgreSQL {@code FATAL}, a closed exec stream) and records who ended it.
 */
final class SessionsApi {
    private static final Logger log = LoggerFactory.getLogger(SessionsApi.class);
    static final String PREFIX = "/api/v1/sessions";
    private static final Pattern TERMINATE = Pattern.compile("/api/v1/sessions/([A-Za-z0-9_.:-]{1,128})/terminate");
    private static final ObjectMapper JSON = Json.mapper();
    static final int MAX_BODY_BYTES = 16 * 1024;

    private final LiveSessions live;
    private final ReplicaSessions replicas;
    private final Set<String> admins;

    /** {@code replicas}: ends a session that another replica holds (with a store shared by replicas). */
    SessionsApi(LiveSessions live, ReplicaSessions replicas, Set<String> admins) {
        this.live = live;
        this.replicas = replicas;
        this.admins = Set.copyOf(admins);
    }

    static boolean serves(String path) {
        return path.equals(PREFIX + "/live") || TERMINATE.matcher(path).matches();
    }

    record Reply(int status, String contentType, String body) {
    }

    Reply handle(String method, String path, Identity caller, byte[] body) {
        if (caller.groups().stream().noneMatch(admins::contains)) {
            return problem(403, "Not a session admin", admins.isEmpty()
                    ? "no group may end sessions: set admin.session-admins in the configuration"
                    : caller.subject() + " is in none of admin.session-admins (" + String.join(", ", admins) + ")");
        }
        if (path.equals(PREFIX + "/live")) {
            if (!method.equals("GET")) return problem(405, "Method not allowed", "use GET");
            ArrayNode sessions = JSON.createArrayNode();
            for (LiveSessions.Live l : live.list()) {
                sessions.addObject().put("id", l.sessionId()).put("subject", l.subject()).put("connection", l.connection())
                        .put("protocol", l.protocol()).put("since", l.since().toString());
            }
            ObjectNode out = JSON.createObjectNode();
            out.set("sessions", sessions);
            return new Reply(200, "application/json", out.toString());
        }
        Matcher m = TERMINATE.matcher(path);
        if (!m.matches()) return problem(404, "Not found", "no sessions endpoint at " + path);
        if (!method.equals("POST")) return problem(405, "Method not allowed", "use POST");
        if (body.length > MAX_BODY_BYTES) return problem(413, "Request body too large", "at most " + MAX_BODY_BYTES + " bytes");
        String reason;
        try {
            JsonNode json = body.length == 0 ? JSON.createObjectNode() : JSON.readTree(body);
            reason = json.path("reason").asText("").strip();
        } catch (IOException e) {
            return problem(400, "Bad request", "the body must be JSON: {\"reason\": \"...\"}");
        }
        if (reason.isEmpty()) return problem(400, "Bad request", "say why: {\"reason\": \"...\"} (the client and the recording are told)");
        if (reason.length() > 500) return problem(400, "Bad request", "the reason is limited to 500 characters");
        String id = m.group(1);
        if (!replicas.terminate(id, caller.subject(), reason)) return problem(404, "Not live", "session " + id + " is not open now");
        log.info("session {} terminated by {}: {}", id, caller.subject(), reason);
        return new Reply(200, "application/json", JSON.createObjectNode().put("id", id).put("terminated", true)
                .put("by", caller.subject()).put("reason", reason).toString());
    }

    static Reply problem(int status, String title, String detail) {
        return new Reply(status, "application/problem+json", JSON.createObjectNode().put("type", "about:blank").put("title", title)
                .put("status", status).put("detail", detail).toString());
    }
}
