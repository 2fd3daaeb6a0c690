package dev.portcullis.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.portcullis.recording.AuditVerifier;
import dev.portcullis.recording.Replay;
import dev.portcullis.store.AuditStore;
import dev.portcullis.store.LoggedStore;
import dev.portcullis.store.SessionQuery;
import dev.portcullis.store.SessionSummary;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code approval-pending-status: 202} on the Okta connection, for real: a held call still pending
 * when the hold wait ends is answered {@code 202 Accepted} (for agents whose HTTP client treats 403 as
 * final) with the same approval-pending problem body, {@code Location} and {@code Retry-After}. Nothing
 * reaches Okta until an approver decides, and every other refusal stays 403.
 *
 * <p>As in {@link HeldOktaCallsTest}, the rule's hold-timeout is 6 s: a held call waits 3 s.
 */
class HeldOktaCallsAnswer202Test {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String RULE = "admin-roles-need-approval";
    private static final String AGENT = "agent-202";

    @TempDir
    static Path data;

    static OktaGatewayFixture f;
    static String agent;
    static String approver;

    @BeforeAll
    static void start() throws Exception {
        f = new OktaGatewayFixture(data, 20, yaml -> OktaGatewayFixture.approvalPendingStatus(202)
                .apply(OktaGatewayFixture.holdTimeout("6s").apply(yaml)));
        agent = f.token(AGENT, "agents");
        approver = f.token("admin-1", "okta-admins");
    }

    @AfterAll
    static void stop() {
        if (f != null) f.close();
    }

    @BeforeEach
    void clearUpstreamLog() {
        f.okta.reset();
    }

    @Test
    void pendingAfterTheWaitIs202WithLocationRetryAfterAndTheIdThenTheApprovedRetryPassesOnce() throws Exception {
        String user = f.okta.userIds().get(1);
        long start = System.nanoTime();
        HttpResponse<String> r = send(user, "SUPER_ADMIN", null);

        assertThat(Duration.ofNanos(System.nanoTime() - start)).isBetween(Duration.ofMillis(2900), Duration.ofSeconds(5));
        assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
        assertThat(r.headers().firstValue("Content-Type")).contains("application/problem+json");
        JsonNode problem = JSON.readTree(r.body());
        assertThat(problem.path("type").asText()).endsWith("/approval-pending");
        assertThat(problem.path("status").asInt()).isEqualTo(202);
        assertThat(problem.path("rule").asText()).isEqualTo(RULE);
        String id = problem.path("approvalId").asText();
        assertThat(id).matches("apr_[a-z2-7]{20}");
        String page = problem.path("approvalPage").asText();
        assertThat(page).endsWith("/" + id);
        assertThat(problem.path("retryWithHeader").asText()).isEqualTo("Portcullis-Approval: " + id);
        assertThat(problem.path("detail").asText()).contains("Portcullis-Approval: " + id, page);
        assertThat(r.headers().firstValue("Portcullis-Approval")).contains(id);
        assertThat(r.headers().firstValue("Location")).contains(page);
        assertThat(r.headers().firstValue("Retry-After")).contains("5");
        assertThat(f.okta.received()).isEmpty();
        assertThat(state(id)).isEqualTo("pending");

        // Polling with the header before anyone approved is answered "still pending" (202 again), not refused.
        HttpResponse<String> early = send(user, "SUPER_ADMIN", id);
        assertThat(early.statusCode()).isEqualTo(202);
        assertThat(JSON.readTree(early.body()).path("type").asText()).endsWith("/approval-pending");
        assertThat(JSON.readTree(early.body()).path("approvalId").asText()).isEqualTo(id);
        assertThat(early.headers().firstValue("Retry-After")).contains("5");
        // ... but not for a different operation under the same id.
        HttpResponse<String> otherRole = send(user, "ORG_ADMIN", id);
        assertThat(otherRole.statusCode()).isEqualTo(403);
        assertThat(f.okta.received()).isEmpty();

        assertThat(f.approvals("POST", "/" + id + "/approve", approver, null).statusCode()).isEqualTo(200);

        HttpResponse<String> retry = send(user, "SUPER_ADMIN", id);
        assertThat(retry.statusCode()).as(retry.body()).isEqualTo(201);
        assertThat(retry.headers().firstValue("Location")).isEmpty();
        assertThat(f.okta.received()).singleElement()
                .satisfies(req -> assertThat(req.path()).isEqualTo("/api/v1/users/" + user + "/roles"));

        HttpResponse<String> again = send(user, "SUPER_ADMIN", id);
        assertThat(again.statusCode()).isEqualTo(403);
        JsonNode used = JSON.readTree(again.body());
        assertThat(used.path("type").asText()).endsWith("/approval-not-usable");
        assertThat(used.path("reason").asText()).isEqualTo("already-used");
        assertThat(again.headers().firstValue("Location")).isEmpty();
        assertThat(again.headers().firstValue("Retry-After")).isEmpty();
        assertThat(f.okta.received()).hasSize(1);
        assertThat(state(id)).isEqualTo("released");

        // Five calls: the one answered 202, the early poll, the other role and the spent retry are
        // recorded as not forwarded; only the released retry has an upstream status (Okta's 201).
        try (AuditStore store = LoggedStore.openForReading(data.resolve("portcullis.db"))) {
            List<SessionSummary> sessions = store.sessions(SessionQuery.newest().subject(AGENT));
            String transcripts = String.join("\n", sessions.stream()
                    .map(s -> new Replay(store, ZoneOffset.UTC).text(s.id())).toList());
            String operation = Pattern.quote("POST /api/v1/users/" + user + "/roles") + "\n    verdict: [^\n]*"
                    + Pattern.quote("(rule " + RULE + ")") + "[^\n]*\n    upstream: ";
            assertThat(Pattern.compile(operation + "not forwarded;").matcher(transcripts).results()).hasSize(4);
            assertThat(Pattern.compile(operation + "201;").matcher(transcripts).results()).hasSize(1);
            assertThat(transcripts).doesNotContain(agent).doesNotContain(OktaGatewayFixture.OKTA_API_TOKEN);
            assertThat(AuditVerifier.verify(store).ok()).isTrue();
        }
    }

    @Test
    void approvedDuringTheWaitTheUpstreamAnswerComesBackAsUsual() throws Exception {
        String user = f.okta.userIds().get(2);
        CompletableFuture<HttpResponse<String>> held = sendAsync(user, "SUPER_ADMIN");

        String id = awaitPending(user);
        assertThat(f.approvals("POST", "/" + id + "/approve", approver, null).statusCode()).isEqualTo(200);

        HttpResponse<String> r = held.get(10, TimeUnit.SECONDS);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        assertThat(r.headers().firstValue("Portcullis-Approval")).contains(id);
        assertThat(r.headers().firstValue("Retry-After")).isEmpty();
        assertThat(f.okta.received()).hasSize(1);
    }

    @Test
    void deniedDuringTheWaitIsStill403() throws Exception {
        String user = f.okta.userIds().get(3);
        CompletableFuture<HttpResponse<String>> held = sendAsync(user, "SUPER_ADMIN");

        String id = awaitPending(user);
        assertThat(f.approvals("POST", "/" + id + "/deny", approver, "{\"reason\":\"not today\"}").statusCode())
                .isEqualTo(200);

        HttpResponse<String> r = held.get(10, TimeUnit.SECONDS);
        assertThat(r.statusCode()).isEqualTo(403);
        JsonNode problem = JSON.readTree(r.body());
        assertThat(problem.path("type").asText()).endsWith("/approval-denied");
        assertThat(problem.path("approvalId").asText()).isEqualTo(id);
        assertThat(r.headers().firstValue("Location")).isEmpty();
        assertThat(r.headers().firstValue("Retry-After")).isEmpty();
        assertThat(f.okta.received()).isEmpty();
    }

    @Test
    void policyDenialsAndDifferentOperationsStay403() throws Exception {
        String userA = f.okta.userIds().get(4);
        String userB = f.okta.userIds().get(5);
        HttpResponse<String> pending = send(userA, "SUPER_ADMIN", null);
        assertThat(pending.statusCode()).isEqualTo(202);
        String id = JSON.readTree(pending.body()).path("approvalId").asText();
        assertThat(f.approvals("POST", "/" + id + "/approve", approver, null).statusCode()).isEqualTo(200);

        HttpResponse<String> otherUser = send(userB, "SUPER_ADMIN", id);
        assertThat(otherUser.statusCode()).isEqualTo(403);
        assertThat(JSON.readTree(otherUser.body()).path("reason").asText()).isEqualTo("different-operation");

        HttpResponse<String> delete = f.send("DELETE", "/api/v1/users/" + userA, agent, null);
        assertThat(delete.statusCode()).isEqualTo(403);
        assertThat(JSON.readTree(delete.body()).path("type").asText()).endsWith("/denied");
        assertThat(f.okta.received()).isEmpty();
    }

    // ---- helpers

    private static HttpRequest roleRequest(String user, String role, String approvalId) {
        HttpRequest.Builder b = HttpRequest.newBuilder(f.uri("/api/v1/users/" + user + "/roles"))
                .timeout(Duration.ofSeconds(30))
                .header("Authorization", "Bearer " + agent)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"type\":\"" + role + "\"}"));
        if (approvalId != null) b.header("Portcullis-Approval", approvalId);
        return b.build();
    }

    private static HttpResponse<String> send(String user, String role, String approvalId) throws Exception {
        return f.http.send(roleRequest(user, role, approvalId), HttpResponse.BodyHandlers.ofString());
    }

    private static CompletableFuture<HttpResponse<String>> sendAsync(String user, String role) {
        return f.http.sendAsync(roleRequest(user, role, null), HttpResponse.BodyHandlers.ofString());
    }

    /** The id of the pending approval request for a role grant to {@code user}, as the approval API lists it. */
    private static String awaitPending(String user) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(2).toNanos();
        while (System.nanoTime() < deadline) {
            HttpResponse<String> listed = f.approvals("GET", "?state=pending", approver, null);
            assertThat(listed.statusCode()).isEqualTo(200);
            for (JsonNode a : JSON.readTree(listed.body()).path("approvals")) {
                if (a.path("summary").asText().contains(user)) return a.path("id").asText();
            }
            Thread.sleep(50);
        }
        throw new AssertionError("no pending approval request for " + user);
    }

    private static String state(String id) throws Exception {
        return JSON.readTree(f.approvals("GET", "/" + id, approver, null).body()).path("state").asText();
    }
}
