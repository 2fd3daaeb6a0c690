package dev.portcullis.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.portcullis.core.Json;
import dev.portcullis.gate.LiveSessions;
import dev.portcullis.store.PostgresStore;
import java.io.IOException;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ends a live session wherever it runs. A session lives on the replica that serves it; an admin's
 * request may reach any replica. When this replica does not hold the session, it asks the others on the
 * store's {@value PostgresStore#SESSIONS_CHANNEL} channel and waits (up to {@link #ANSWER_WAIT_MILLIS}) for
 * the replica that ended it to say so. Anyone who can write to the store's database could send such a
 * request: the same trust as the store itself.
 */
final class ReplicaSessions {
    private static final Logger log = LoggerFactory.getLogger(ReplicaSessions.class);
    private static final ObjectMapper JSON = Json.mapper();
    static final long ANSWER_WAIT_MILLIS = 2_000;

    private final LiveSessions live;
    private final PostgresStore store; // null: one process, nothing to ask
    private final Map<String, CompletableFuture<String>> asked = new ConcurrentHashMap<>();

    ReplicaSessions(LiveSessions live, PostgresStore store) {
        this.live = live;
        this.store = store;
    }

    /** Ends the session here, or on the replica that holds it; false when no replica holds it open. */
    boolean terminate(String sessionId, String by, String reason) {
        if (live.terminate(sessionId, by, reason)) return true;
        if (store == null) return false;
        String request = UUID.randomUUID().toString();
        CompletableFuture<String> answer = new CompletableFuture<>();
        asked.put(request, answer);
        try {
            store.announce(PostgresStore.SESSIONS_CHANNEL, JSON.createObjectNode().put("op", "terminate").put("request", request)
                    .put("from", store.replica()).put("session", sessionId).put("by", by).put("reason", reason).toString());
            String replica = answer.get(ANSWER_WAIT_MILLIS, TimeUnit.MILLISECONDS);
            log.info("session {} ended on replica {} at the request of {}", sessionId, replica, by);
            return true;
        } catch (TimeoutException e) {
            return false; // no replica holds it
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } catch (java.util.concurrent.ExecutionException e) {
            return false;
        } finally {
            asked.remove(request);
        }
    }

    /** A message on the sessions channel: another replica's request, or an answer to one of ours. */
    void onMessage(String payload) {
        JsonNode m;
        try {
            m = JSON.readTree(payload);
        } catch (IOException e) {
            log.warn("ignored a malformed message on {}: {}", PostgresStore.SESSIONS_CHANNEL, e.getMessage());
            return;
        }
        switch (m.path("op").asText()) {
            case "terminate" -> {
                if (m.path("from").asText().equals(store.replica())) return; // our own request: answered locally already
                String session = m.path("session").asText();
                if (!live.terminate(session, m.path("by").asText(), m.path("reason").asText())) return;
                store.announce(PostgresStore.SESSIONS_CHANNEL, JSON.createObjectNode().put("op", "terminated")
                        .put("request", m.path("request").asText()).put("session", session).put("replica", store.replica()).toString());
            }
            case "terminated" -> {
                CompletableFuture<String> answer = asked.get(m.path("request").asText());
                if (answer != null) answer.complete(m.path("replica").asText());
            }
            default -> log.debug("ignored a message on {}: {}", PostgresStore.SESSIONS_CHANNEL, payload);
        }
    }
}
