package dev.portcullis.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.portcullis.config.AgentsConfig;
import dev.portcullis.config.Values;
import dev.portcullis.core.Identity;
import dev.portcullis.core.Json;
import dev.portcullis.netagent.AgentListener;
import dev.portcullis.netagent.AgentRegistry;
import dev.portcullis.netagent.NetworkAgent;
import java.io.IOException;
import java.time.Duration;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Network agents, for the groups in {@code agents.admins}: {@code POST /api/v1/agents/join-tokens} with
 * {@code {"name": "eu-private", "ttl": "1h"}} makes a one-time join token (shown once, stored as its hash);
 * {@code GET /api/v1/agents} lists agents with their state and, for those connected to this replica, since
 * when, their last heartbeat and open streams; {@code POST /api/v1/agents/{name}/revoke} revokes one, which
 * drops its tunnel at once here and within a second on other replicas.
 */
final class AgentsApi {
    private static final Logger log = LoggerFactory.getLogger(AgentsApi.class);
    static final String PREFIX = "/api/v1/agents";
    private static final Pattern REVOKE = Pattern.compile("/api/v1/agents/([a-z0-9-]{1,63})/revoke");
    private static final ObjectMapper JSON = Json.mapper();
    static final int MAX_BODY_BYTES = 4 * 1024;
    static final Duration MAX_TTL = Duration.ofDays(7);

    private final AgentListener listener;
    private final AgentsConfig config;
    private final String advertised;

    /** @param advertised where agents dial, as shown with a join token (host:port) */
    AgentsApi(AgentListener listener, AgentsConfig config, String advertised) {
        this.listener = listener;
        this.config = config;
        this.advertised = advertised;
    }

    static boolean serves(String path) {
        return path.equals(PREFIX) || path.equals(PREFIX + "/join-tokens") || REVOKE.matcher(path).matches();
    }

    SessionsApi.Reply handle(String method, String path, Identity caller, byte[] body) {
        if (caller.groups().stream().noneMatch(config.admins()::contains)) {
            return problem(403, "Not an agent admin", config.admins().isEmpty()
                    ? "no group may manage network agents: set agents.admins in the configuration"
                    : caller.subject() + " is in none of agents.admins (" + String.join(", ", config.admins()) + ")");
        }
        if (body.length > MAX_BODY_BYTES) return problem(413, "Request body too large", "at most " + MAX_BODY_BYTES + " bytes");
        if (path.equals(PREFIX)) {
            if (!method.equals("GET")) return problem(405, "Method not allowed", "use GET");
            return new SessionsApi.Reply(200, "application/json", list().toString());
        }
        if (path.equals(PREFIX + "/join-tokens")) {
            if (!method.equals("POST")) return problem(405, "Method not allowed", "use POST");
            String name;
            Duration ttl;
            try {
                JsonNode json = JSON.readTree(body.length == 0 ? "{}".getBytes() : body);
                name = Values.agentName(json.path("name").asText(""));
                ttl = json.has("ttl") ? Values.positiveDuration(json.path("ttl").asText()) : Duration.ofHours(1);
            } catch (IOException | IllegalArgumentException e) {
                return problem(400, "Bad request", "send {\"name\": \"eu-private\", \"ttl\": \"1h\"}; the name is a-z, 0-9 and -, at most 63"
                        + (e.getMessage() == null || e.getMessage().isEmpty() ? "" : " (" + e.getMessage() + ")"));
            }
            if (ttl.compareTo(MAX_TTL) > 0) return problem(400, "Bad request", "a join token lives at most " + MAX_TTL.toDays() + " days");
            String token = listener.registry().createJoinToken(name, ttl);
            log.info("join token for agent {} created by {} (valid {})", name, caller.subject(), ttl);
            // The printed token carries the listener's host key fingerprint, which the agent pins when it enrols.
            ObjectNode out = JSON.createObjectNode().put("name", name).put("token", NetworkAgent.joinToken(token, listener.hostKeyFingerprint()))
                    .put("expiresAt", java.time.Instant.now().plus(ttl).toString())
                    .put("gateway", advertised).put("gatewayKey", listener.hostKeyFingerprint());
            return new SessionsApi.Reply(201, "application/json", out.toString());
        }
        Matcher m = REVOKE.matcher(path);
        if (!m.matches()) return problem(404, "Not found", "no agents endpoint at " + path);
        if (!method.equals("POST")) return problem(405, "Method not allowed", "use POST");
        String name = m.group(1);
        if (!listener.revoke(name)) return problem(404, "Unknown agent", "no agent named " + name);
        log.info("agent {} revoked by {}", name, caller.subject());
        return new SessionsApi.Reply(200, "application/json", JSON.createObjectNode().put("name", name).put("revoked", true)
                .put("by", caller.subject()).toString());
    }

    /** Every agent the store knows, with what this replica sees of its connection. */
    ObjectNode list() {
        Map<String, AgentListener.Status> here = listener.connected().stream()
                .collect(Collectors.toMap(AgentListener.Status::name, Function.identity()));
        ObjectNode out = JSON.createObjectNode();
        ArrayNode agents = out.putArray("agents");
        for (AgentRegistry.Agent a : listener.registry().list()) {
            ObjectNode o = agents.addObject().put("name", a.name()).put("state", a.state());
            if (a.enrolled() != null) o.put("enrolledAt", a.enrolled().toString());
            if (a.revoked() != null) o.put("revokedAt", a.revoked().toString());
            AgentListener.Status s = here.get(a.name());
            o.put("connected", s != null);
            if (s != null) {
                o.put("connectedSince", s.connectedSince().toString()).put("lastHeartbeat", s.lastHeartbeat().toString())
                        .put("openStreams", s.openStreams()).put("from", s.from());
            }
        }
        return out;
    }

    private static SessionsApi.Reply problem(int status, String title, String detail) {
        return SessionsApi.problem(status, title, detail);
    }
}
