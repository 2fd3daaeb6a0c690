package dev.portcullis.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.portcullis.dev.ReceivedRequest;
import dev.portcullis.recording.AuditVerifier;
import dev.portcullis.recording.Replay;
import dev.portcullis.store.AuditStore;
import dev.portcullis.store.LoggedStore;
import dev.portcullis.store.SessionQuery;
import dev.portcullis.store.SessionSummary;
import java.time.ZoneOffset;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Just-in-time approval over HTTP, for real: the agent's SUPER_ADMIN grant is held by rule
 * {@code admin-roles-need-approval}, an {@code okta-admins} member decides through the approval API
 * on the admin port, and the Okta stand-in's request log shows what reached Okta.
 *
 * <p>The rule's hold-timeout is 6 s here, so a held call waits 3 s (half) and an approval id stays
 * usable for 3 s more.
 */
class HeldOktaCallsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String RULE = "admin-roles-need-approval";

    @TempDir
    static Path data;

    static OktaGatewayFixture f;
    static String agent;
    static String approver;

    @BeforeAll
    static void start() throws Exception {
        f = new OktaGatewayFixture(data, 20, OktaGatewayFixture.holdTimeout("6s"));
        agent = f.token("agent-1", "agents");
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
    void approvedDuringTheWaitTheGrantReachesOktaOnceAnd201ComesBack() throws Exception {
        String user = f.okta.userIds().get(1);
        long start = System.nanoTime();
        CompletableFuture<HttpResponse<String>> held = sendAsync(user, "SUPER_ADMIN", null);

        String id = awaitPending(user);
        assertThat(held).isNotDone(); // the agent's call is being held
        assertThat(f.approvals("POST", "/" + id + "/approve", approver, null).statusCode()).isEqualTo(200);

        HttpResponse<String> r = held.get(10, TimeUnit.SECONDS);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        assertThat(JSON.readTree(r.body()).path("type").asText()).isEqualTo("SUPER_ADMIN");
        // Nothing to mask on this call, but its links still lead back through the gateway.
        assertThat(JSON.readTree(r.body()).path("_links").path("assignee").path("href").asText())
                .isEqualTo("http://127.0.0.1:" + f.port + "/api/v1/users/" + user);
        assertThat(r.headers().firstValue("Portcullis-Approval")).contains(id);
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(3));
        assertThat(f.okta.received()).singleElement().satisfies(req -> {
            assertThat(req.method()).isEqualTo("POST");
            assertThat(req.path()).isEqualTo("/api/v1/users/" + user + "/roles");
            assertThat(req.body()).contains("SUPER_ADMIN");
            assertThat(req.authorization()).contains("SSWS " + OktaGatewayFixture.OKTA_API_TOKEN);
        });
        assertThat(state(id)).isEqualTo("released");
    }

    @Test
    void approversReadTheExactBodyAsSentAndTheHookHearsIt() throws Exception {
        String user = f.okta.userIds().get(5);
        HttpRequest held = HttpRequest.newBuilder(f.uri("/api/v1/users/" + user + "/roles"))
                .timeout(Duration.ofSeconds(30))
                .header("Authorization", "Bearer " + agent)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"type\":\"ORG_ADMIN\",\"note\":\"for mallory@example.com\"}"))
                .build();
        CompletableFuture<HttpResponse<String>> pending = f.http.sendAsync(held, HttpResponse.BodyHandlers.ofString());

        String id = awaitPending(user);
        JsonNode request = JSON.readTree(f.approvals("GET", "/" + id, approver, null).body());
        assertThat(request.path("summary").asText()).isEqualTo("POST /api/v1/users/" + user + "/roles");
        // The agent's request is its own action: approvers see whom it names (secrets aside, none here).
        assertThat(request.path("detail").asText()).contains("ORG_ADMIN", "for mallory@example.com");
        assertThat(f.approvals("POST", "/" + id + "/deny", approver, "{\"reason\":\"no\"}").statusCode()).isEqualTo(200);
        assertThat(pending.get(10, TimeUnit.SECONDS).statusCode()).isEqualTo(403);
        assertThat(f.okta.received()).isEmpty();
    }

    @Test
    void deniedDuringTheWaitTheAgentHearsTheReasonAndOktaNothing() throws Exception {
        String user = f.okta.userIds().get(2);
        CompletableFuture<HttpResponse<String>> held = sendAsync(user, "SUPER_ADMIN", null);

        String id = awaitPending(user);
        assertThat(f.approvals("POST", "/" + id + "/deny", approver,
                "{\"reason\":\"no standing super admins; open a change ticket\"}").statusCode()).isEqualTo(200);

        HttpResponse<String> r = held.get(10, TimeUnit.SECONDS);
        assertThat(r.statusCode()).isEqualTo(403);
        assertThat(r.headers().firstValue("Content-Type")).contains("application/problem+json");
        JsonNode problem = JSON.readTree(r.body());
        assertThat(problem.path("type").asText()).endsWith("/approval-denied");
        assertThat(problem.path("rule").asText()).isEqualTo(RULE);
        assertThat(problem.path("approvalId").asText()).isEqualTo(id);
        assertThat(problem.path("reason").asText()).isEqualTo("no standing super admins; open a change ticket");
        assertThat(problem.path("detail").asText()).contains(id, RULE, "no standing super admins", "admin-1");
        assertThat(f.okta.received()).isEmpty();

        // Retrying under the denied id does not help either.
        HttpResponse<String> retry = send(user, "SUPER_ADMIN", id);
        assertThat(retry.statusCode()).isEqualTo(403);
        assertThat(JSON.readTree(retry.body()).path("type").asText()).endsWith("/approval-denied");
        assertThat(f.okta.received()).isEmpty();
    }

    @Test
    void pendingAfterTheWaitTheAgentRetriesWithTheHeaderOnceApproved() throws Exception {
        String user = f.okta.userIds().get(3);
        long start = System.nanoTime();
        HttpResponse<String> r = send(user, "SUPER_ADMIN", null);

        assertThat(Duration.ofNanos(System.nanoTime() - start)).isBetween(Duration.ofMillis(2900), Duration.ofSeconds(5));
        // approval-pending-status is not set in the example: the default, 403, without Location or Retry-After.
        assertThat(r.statusCode()).isEqualTo(403);
        assertThat(r.headers().firstValue("Location")).isEmpty();
        assertThat(r.headers().firstValue("Retry-After")).isEmpty();
        JsonNode problem = JSON.readTree(r.body());
        assertThat(problem.path("type").asText()).endsWith("/approval-pending");
        assertThat(problem.path("status").asInt()).isEqualTo(403);
        assertThat(problem.path("rule").asText()).isEqualTo(RULE);
        String id = problem.path("approvalId").asText();
        assertThat(id).matches("apr_[a-z2-7]{20}");
        assertThat(r.headers().firstValue("Portcullis-Approval")).contains(id);
        assertThat(problem.path("approvalPage").asText()).endsWith("/" + id);
        assertThat(problem.path("detail").asText()).contains("Portcullis-Approval: " + id, problem.path("approvalPage").asText());
        assertThat(f.okta.received()).isEmpty();

        // Before anyone approved: not yet.
        HttpResponse<String> early = send(user, "SUPER_ADMIN", id);
        assertThat(early.statusCode()).isEqualTo(403);
        assertThat(JSON.readTree(early.body()).path("reason").asText()).isEqualTo("not-approved");
        assertThat(f.okta.received()).isEmpty();

        assertThat(f.approvals("POST", "/" + id + "/approve", approver, null).statusCode()).isEqualTo(200);

        HttpResponse<String> retry = send(user, "SUPER_ADMIN", id);
        assertThat(retry.statusCode()).as(retry.body()).isEqualTo(201);
        assertThat(f.okta.received()).singleElement()
                .satisfies(req -> assertThat(req.path()).isEqualTo("/api/v1/users/" + user + "/roles"));

        HttpResponse<String> again = send(user, "SUPER_ADMIN", id);
        assertThat(again.statusCode()).isEqualTo(403);
        JsonNode used = JSON.readTree(again.body());
        assertThat(used.path("type").asText()).endsWith("/approval-not-usable");
        assertThat(used.path("reason").asText()).isEqualTo("already-used");
        assertThat(used.path("approvalId").asText()).isEqualTo(id);
        assertThat(f.okta.received()).hasSize(1);
        assertThat(state(id)).isEqualTo("released");

        // The released call is recorded with its outcome like any forwarded one; the trail verifies.
        try (AuditStore store = LoggedStore.openForReading(data.resolve("portcullis.db"))) {
            List<SessionSummary> sessions = store.sessions(SessionQuery.newest().subject("agent-1"));
            String transcripts = String.join("\n", sessions.stream()
                    .map(s -> new Replay(store, ZoneOffset.UTC).text(s.id())).toList());
            assertThat(transcripts).contains("POST /api/v1/users/" + user + "/roles", "rule " + RULE, "upstream: 201")
                    .doesNotContain(agent).doesNotContain(OktaGatewayFixture.OKTA_API_TOKEN);
            assertThat(AuditVerifier.verify(store).ok()).isTrue();
        }
    }

    @Test
    void anApprovalReleasesOnlyTheOperationItWasGrantedFor() throws Exception {
        String userA = f.okta.userIds().get(4);
        String userB = f.okta.userIds().get(5);
        String id = JSON.readTree(send(userA, "SUPER_ADMIN", null).body()).path("approvalId").asText();
        assertThat(f.approvals("POST", "/" + id + "/approve", approver, null).statusCode()).isEqualTo(200);

        HttpResponse<String> otherUser = send(userB, "SUPER_ADMIN", id);
        HttpResponse<String> otherRole = send(userA, "ORG_ADMIN", id);
        HttpResponse<String> otherAgent = send(f.token("agent-2", "agents"), userA, "SUPER_ADMIN", id);

        for (HttpResponse<String> r : List.of(otherUser, otherRole, otherAgent)) {
            assertThat(r.statusCode()).isEqualTo(403);
            assertThat(JSON.readTree(r.body()).path("rule").asText()).isEqualTo(RULE);
        }
        assertThat(JSON.readTree(otherUser.body()).path("reason").asText()).isEqualTo("different-operation");
        assertThat(JSON.readTree(otherRole.body()).path("reason").asText()).isEqualTo("different-operation");
        assertThat(JSON.readTree(otherAgent.body()).path("reason").asText()).isEqualTo("different-requester");
        assertThat(f.okta.received()).isEmpty();

        // The failed replays did not spend it: the exact call is still released, once.
        HttpResponse<String> exact = send(userA, "SUPER_ADMIN", id);
        assertThat(exact.statusCode()).as(exact.body()).isEqualTo(201);
        assertThat(f.okta.received()).extracting(ReceivedRequest::path).containsExactly("/api/v1/users/" + userA + "/roles");
    }

    @Test
    void aHeaderThatIsNoApprovalIdIsRefusedAndNothingIsForwarded() throws Exception {
        String user = f.okta.userIds().get(6);
        HttpResponse<String> junk = send(user, "SUPER_ADMIN", "let-me-in");
        HttpResponse<String> unknown = send(user, "SUPER_ADMIN", "apr_aaaaaaaaaaaaaaaaaaaa");

        for (HttpResponse<String> r : List.of(junk, unknown)) {
            assertThat(r.statusCode()).isEqualTo(403);
            assertThat(JSON.readTree(r.body()).path("reason").asText()).isEqualTo("unknown");
        }
        assertThat(f.okta.received()).isEmpty();
    }

    @Test
    void anApprovalIdThatExpiredIsRefused() throws Exception {
        String user = f.okta.userIds().get(7);
        String id = JSON.readTree(send(user, "SUPER_ADMIN", null).body()).path("approvalId").asText();
        Thread.sleep(3_200); // past the 6 s hold-timeout

        HttpResponse<String> late = send(user, "SUPER_ADMIN", id);
        assertThat(late.statusCode()).isEqualTo(403);
        assertThat(JSON.readTree(late.body()).path("reason").asText()).isEqualTo("expired");
        assertThat(f.approvals("POST", "/" + id + "/approve", approver, null).statusCode()).isNotEqualTo(200);
        assertThat(f.okta.received()).isEmpty();
    }

    @Test
    void theApprovalHeaderIsNeverForwardedUpstream() {
        assertThat(UpstreamHeaders.forwardUpstream("Portcullis-Approval", "Authorization")).isFalse();
        assertThat(UpstreamHeaders.forwardUpstream("portcullis-approval", "Authorization")).isFalse();
    }

    @Test
    void theHoldWaitIsHalfTheHoldTimeoutAndAtMost25Seconds() {
        assertThat(HttpGatewayHandler.holdWait(Duration.ofSeconds(6))).isEqualTo(Duration.ofSeconds(3));
        assertThat(HttpGatewayHandler.holdWait(Duration.ofMinutes(15))).isEqualTo(HttpGatewayHandler.MAX_HOLD_WAIT);
        assertThat(HttpGatewayHandler.MAX_HOLD_WAIT).isEqualTo(Duration.ofSeconds(25));
    }

    // ---- helpers

    private static HttpRequest roleRequest(String token, String user, String role, String approvalId) {
        HttpRequest.Builder b = HttpRequest.newBuilder(f.uri("/api/v1/users/" + user + "/roles"))
                .timeout(Duration.ofSeconds(30))
                .header("Authorization", "Bearer " + token)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"type\":\"" + role + "\"}"));
        if (approvalId != null) b.header("Portcullis-Approval", approvalId);
        return b.build();
    }

    private static HttpResponse<String> send(String user, String role, String approvalId) throws Exception {
        return send(agent, user, role, approvalId);
    }

    private static HttpResponse<String> send(String token, String user, String role, String approvalId) throws Exception {
        return f.http.send(roleRequest(token, user, role, approvalId), HttpResponse.BodyHandlers.ofString());
    }

    private static CompletableFuture<HttpResponse<String>> sendAsync(String user, String role, String approvalId) {
        return f.http.sendAsync(roleRequest(agent, user, role, approvalId), HttpResponse.BodyHandlers.ofString());
    }

    /** The id of the pending approval request for a role grant to {@code user}, as the approval API lists it. */
    private static String awaitPending(String user) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(2).toNanos();
        while (System.nanoTime() < deadline) {
            HttpResponse<String> listed = f.approvals("GET", "?state=pending", approver, null);
            assertThat(listed.statusCode()).isEqualTo(200);
            for (JsonNode a : JSON.readTree(listed.body()).path("approvals")) {
                if (a.path("summary").asText().contains(user)) {
                    assertThat(a.path("ruleId").asText()).isEqualTo(RULE);
                    assertThat(a.path("requester").path("subject").asText()).isEqualTo("agent-1");
                    return a.path("id").asText();
                }
            }
            Thread.sleep(50);
        }
        throw new AssertionError("no pending approval request for " + user);
    }

    private static String state(String id) throws Exception {
        return JSON.readTree(f.approvals("GET", "/" + id, approver, null).body()).path("state").asText();
    }
}
