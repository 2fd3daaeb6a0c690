package dev.portcullis.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.portcullis.recording.AuditVerifier;
import dev.portcullis.recording.Replay;
import dev.portcullis.store.AuditStore;
import dev.portcullis.store.LoggedStore;
import dev.portcullis.store.SessionQuery;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZoneOffset;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Classic just-in-time access over HTTP: rule {@code profile-edits-jit} holds an agent's first profile
 * update; once an {@code okta-admins} member approves it, that agent's updates pass for the grant's
 * ten minutes without asking again, until the grant is revoked. The Okta stand-in's request log shows
 * what reached Okta.
 */
class TimeBoxedGrantOverHttpTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String RULE = "profile-edits-jit";

    @TempDir
    static Path data;

    static OktaGatewayFixture f;
    static String agent;
    static String otherAgent;
    static String approver;

    @BeforeAll
    static void start() throws Exception {
        f = new OktaGatewayFixture(data, 20, yaml -> {
            String first = "      rules:\n";
            if (!yaml.contains(first)) throw new IllegalStateException("examples/okta.yaml changed shape");
            return yaml.replaceFirst(first, first + """
                            - id: profile-edits-jit
                              when:
                                groups: [agents]
                                http:
                                  methods: [POST, PUT]
                                  paths: ["/api/v1/users/{id}"]
                              action: require-approval
                              approvers: [okta-admins]
                              hold-timeout: 4s
                              grant: 10m

                            - id: brief-deactivations
                              when:
                                groups: [agents]
                                http:
                                  methods: [POST]
                                  paths: ["/api/v1/users/{id}/lifecycle/deactivate"]
                              action: require-approval
                              approvers: [okta-admins]
                              hold-timeout: 4s
                              grant: 2s

                    """);
        });
        agent = f.token("agent-1", "agents");
        otherAgent = f.token("agent-2", "agents");
        approver = f.token("admin-1", "okta-admins");
    }

    @AfterAll
    static void stop() {
        if (f != null) f.close();
    }

    @Test
    void oneApprovalOpensTenMinutesOfUpdatesForThatAgentOnlyUntilRevoked() throws Exception {
        String u1 = f.okta.userIds().get(1);
        String u2 = f.okta.userIds().get(2);
        String u3 = f.okta.userIds().get(3);
        f.okta.reset();

        CompletableFuture<HttpResponse<String>> held = f.http.sendAsync(update(agent, "POST", u1, "Ada"),
                HttpResponse.BodyHandlers.ofString());
        JsonNode request = awaitPending("agent-1");
        String id = request.path("id").asText();
        assertThat(request.path("ruleId").asText()).isEqualTo(RULE);
        assertThat(request.path("grant").path("minutes").asInt()).isEqualTo(10);
        assertThat(f.okta.received()).isEmpty();
        assertThat(f.approvals("POST", "/" + id + "/approve", approver, null).statusCode()).isEqualTo(200);

        HttpResponse<String> first = held.get(10, TimeUnit.SECONDS);
        assertThat(first.statusCode()).as(first.body()).isEqualTo(200);
        assertThat(first.headers().firstValue("Portcullis-Approval")).contains(id);

        // Later updates of the same agent pass at once, under the grant, without a new request.
        long start = System.nanoTime();
        HttpResponse<String> second = f.http.send(update(agent, "PUT", u2, "Grace"), HttpResponse.BodyHandlers.ofString());
        assertThat(second.statusCode()).as(second.body()).isEqualTo(200);
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(1));
        assertThat(second.headers().firstValue("Portcullis-Approval")).contains(id);
        assertThat(f.okta.received()).hasSize(2);
        assertThat(pendingOf("agent-1")).isNull();

        // Another agent is not covered: held, then told to wait, and Okta sees nothing of it.
        HttpResponse<String> other = f.http.send(update(otherAgent, "POST", u3, "Mallory"), HttpResponse.BodyHandlers.ofString());
        assertThat(other.statusCode()).isEqualTo(403);
        assertThat(JSON.readTree(other.body()).path("type").asText()).endsWith("/approval-pending");
        assertThat(f.okta.received()).hasSize(2);

        // Revoked: the agent's next update is held again, and nothing more reaches Okta.
        assertThat(f.approvals("POST", "/" + id + "/revoke", approver, "{\"reason\":\"change window closed\"}")
                .statusCode()).isEqualTo(200);
        HttpResponse<String> afterRevoke = f.http.send(update(agent, "POST", u3, "Ada again"), HttpResponse.BodyHandlers.ofString());
        assertThat(afterRevoke.statusCode()).isEqualTo(403);
        JsonNode pending = JSON.readTree(afterRevoke.body());
        assertThat(pending.path("type").asText()).endsWith("/approval-pending");
        assertThat(pending.path("approvalId").asText()).isNotEqualTo(id);
        // Nor does presenting the revoked grant's id help.
        HttpResponse<String> withOldId = f.http.send(update(agent, "POST", u3, "Ada again", id), HttpResponse.BodyHandlers.ofString());
        assertThat(withOldId.statusCode()).isEqualTo(403);
        assertThat(JSON.readTree(withOldId.body()).path("detail").asText()).contains("revoked", "change window closed");
        assertThat(f.okta.received()).hasSize(2);

        try (AuditStore store = LoggedStore.openForReading(data.resolve("portcullis.db"))) {
            Replay replay = new Replay(store, ZoneOffset.UTC);
            String all = store.sessions(SessionQuery.newest().subject("agent-1")).stream().map(s -> {
                try {
                    return replay.text(s.id());
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            }).reduce("", String::concat);
            assertThat(all).contains("PUT /api/v1/users/" + u2, "under grant " + id);
            assertThat(AuditVerifier.verify(store).ok()).isTrue();
        }
    }

    @Test
    void whenTheGrantRunsOutTheNextCallIsHeldAndTheOldIdNoLongerWorks() throws Exception {
        String u6 = f.okta.userIds().get(6);
        String u7 = f.okta.userIds().get(7);
        String u8 = f.okta.userIds().get(8);
        String deactivator = f.token("agent-9", "agents");
        f.okta.reset();

        CompletableFuture<HttpResponse<String>> held = f.http.sendAsync(deactivate(deactivator, u6, null),
                HttpResponse.BodyHandlers.ofString());
        String id = awaitPending("agent-9").path("id").asText();
        assertThat(f.approvals("POST", "/" + id + "/approve", approver, null).statusCode()).isEqualTo(200);
        assertThat(held.get(10, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
        assertThat(f.http.send(deactivate(deactivator, u7, null), HttpResponse.BodyHandlers.ofString()).statusCode())
                .as("within the 2 s grant").isEqualTo(200);

        Thread.sleep(2_200);
        HttpResponse<String> late = f.http.send(deactivate(deactivator, u8, id), HttpResponse.BodyHandlers.ofString());
        assertThat(late.statusCode()).isEqualTo(403);
        JsonNode problem = JSON.readTree(late.body());
        assertThat(problem.path("reason").asText()).isEqualTo("expired");
        assertThat(problem.path("detail").asText()).contains("grant of approval request " + id + " ended");
        assertThat(f.okta.received()).hasSize(2);
    }

    private static HttpRequest deactivate(String token, String user, String approvalId) {
        HttpRequest.Builder b = HttpRequest.newBuilder(f.uri("/api/v1/users/" + user + "/lifecycle/deactivate"))
                .timeout(Duration.ofSeconds(30))
                .header("Authorization", "Bearer " + token)
                .POST(HttpRequest.BodyPublishers.noBody());
        if (approvalId != null) b.header("Portcullis-Approval", approvalId);
        return b.build();
    }

    // ---- helpers

    private static HttpRequest update(String token, String method, String user, String firstName) {
        return update(token, method, user, firstName, null);
    }

    private static HttpRequest update(String token, String method, String user, String firstName, String approvalId) {
        HttpRequest.Builder b = HttpRequest.newBuilder(f.uri("/api/v1/users/" + user))
                .timeout(Duration.ofSeconds(30))
                .header("Authorization", "Bearer " + token)
                .header("Content-Type", "application/json")
                .method(method, HttpRequest.BodyPublishers.ofString("{\"profile\":{\"firstName\":\"" + firstName + "\"}}"));
        if (approvalId != null) b.header("Portcullis-Approval", approvalId);
        return b.build();
    }

    private static JsonNode awaitPending(String subject) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(3).toNanos();
        while (System.nanoTime() < deadline) {
            JsonNode found = pendingOf(subject);
            if (found != null) return found;
            Thread.sleep(50);
        }
        throw new AssertionError("no pending approval request of " + subject);
    }

    private static JsonNode pendingOf(String subject) throws Exception {
        HttpResponse<String> listed = f.approvals("GET", "?state=pending", approver, null);
        assertThat(listed.statusCode()).isEqualTo(200);
        for (JsonNode a : JSON.readTree(listed.body()).path("approvals")) {
            if (a.path("requester").path("subject").asText().equals(subject)) {
                return a;
            }
        }
        return null;
    }
}
