package dev.portcullis.gate;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.approval.ApprovalRequest;
import dev.portcullis.approval.ApprovalService;
import dev.portcullis.approval.ApprovalState;
import dev.portcullis.approval.SqlApprovalStore;
import dev.portcullis.core.HttpCall;
import dev.portcullis.core.Identity;
import dev.portcullis.policy.Action;
import dev.portcullis.policy.Conditions;
import dev.portcullis.policy.Policy;
import dev.portcullis.policy.Rule;
import dev.portcullis.policy.Verdict;
import dev.portcullis.recording.DurableRecorder;
import dev.portcullis.server.GatewayMetrics;
import dev.portcullis.store.EmbeddedStore;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The one approval flow every adapter uses: hold → tell the client → wait → release exactly once, and
 * every way an approval does not release an operation, each with its reason.
 */
class ApprovalFlowTest {
    static final Identity AGENT = who("agent-7", "agents");
    static final Identity OTHER_AGENT = who("agent-8", "agents");
    static final Identity ALICE = who("alice", "admins");
    static final Identity BOB = who("bob", "admins");
    static final byte[] BODY = "{\"role\":\"SUPER_ADMIN\"}".getBytes(StandardCharsets.UTF_8);
    static final HttpCall GRANT_ROLE = call("/api/v1/users/00u1/roles");

    static Identity who(String subject, String... groups) {
        return new Identity(subject, Set.of(groups), "jti-" + subject, "client", "https://idp", Map.of(),
                Instant.now().plus(Duration.ofHours(2)));
    }

    static HttpCall call(String path) {
        return new HttpCall("POST", path, "", Map.of(), "application/json", Optional.empty(), BODY.length);
    }

    @TempDir
    Path dir;
    EmbeddedStore store;
    DurableRecorder recorder;
    ApprovalService approvals;
    Gate gate;

    @BeforeEach
    void open() {
        store = EmbeddedStore.open(dir.resolve("p.db"));
        recorder = new DurableRecorder(store, Clock.systemUTC());
        approvals = new ApprovalService(new SqlApprovalStore(store), recorder, Clock.systemUTC());
        gate = new Gate(null, recorder, new GatewayMetrics(), approvals, "https://portcullis.example/approvals/");
    }

    @AfterEach
    void close() {
        recorder.close();
        store.close();
    }

    Policy holdPolicy(Duration holdTimeout, int approvalsRequired) {
        return new Policy(List.of(new Rule("admin-roles", "", Conditions.ALWAYS, Action.REQUIRE_APPROVAL, Optional.empty(),
                "no standing super admins", List.of("admins"), approvalsRequired, holdTimeout, false)));
    }

    Gate.Judged judge(Identity who, HttpCall call, Policy policy) throws GateUnavailableException {
        return gate.judge("okta", "http", "10.0.0.7", who, call, policy, "POST " + call.path());
    }

    static Verdict.HoldForApproval held(Gate.Judged judged) {
        return (Verdict.HoldForApproval) judged.decision().verdict();
    }

    /** A client that remembers what it was told. */
    static final class Told implements ApprovalFlow.Client {
        final List<String> held = new CopyOnWriteArrayList<>();
        final AtomicBoolean gone = new AtomicBoolean();
        final CountDownLatch notified = new CountDownLatch(1);

        @Override
        public void held(ApprovalRequest request, String page) {
            held.add(request.id() + " " + page);
            notified.countDown();
        }

        @Override
        public boolean left() {
            return gone.get();
        }

        String id() {
            return held.getFirst().split(" ")[0];
        }
    }

    @Test
    void anApprovalGivenDuringTheWaitReleasesTheOperationOnceAndTheClientIsToldWhereToDecide() throws Exception {
        Gate.Judged judged = judge(AGENT, GRANT_ROLE, holdPolicy(Duration.ofMinutes(5), 1));
        Told told = new Told();
        CompletableFuture<ApprovalFlow.Outcome> outcome = CompletableFuture.supplyAsync(() -> hold(judged, told, Duration.ofMinutes(5)));
        assertThat(told.notified.await(10, TimeUnit.SECONDS)).isTrue();
        String id = told.id();
        assertThat(told.held).containsExactly(id + " https://portcullis.example/approvals/" + id);

        approvals.approve(id, ALICE);

        assertThat(outcome.get(10, TimeUnit.SECONDS)).isEqualTo(new ApprovalFlow.Outcome.Released(id));
        assertThat(approvals.get(id).orElseThrow().state()).isEqualTo(ApprovalState.RELEASED);
        // Spent: the same approval presented again releases nothing.
        ApprovalFlow.Outcome again = gate.approvals().release(judge(AGENT, GRANT_ROLE, holdPolicy(Duration.ofMinutes(5), 1)),
                AGENT, BODY, id);
        assertThat(again).isInstanceOfSatisfying(ApprovalFlow.Outcome.Refused.class,
                r -> assertThat(r.why()).isEqualTo(ApprovalFlow.Refusal.ALREADY_USED));
    }

    @Test
    void ofManyCallersPresentingOneApprovalExactlyOneIsReleased() throws Exception {
        String id = pendingRequest(Duration.ofMinutes(5));
        approvals.approve(id, ALICE);
        List<CompletableFuture<ApprovalFlow.Outcome>> racers = new ArrayList<>();
        CountDownLatch start = new CountDownLatch(1);
        for (int i = 0; i < 16; i++) {
            racers.add(CompletableFuture.supplyAsync(() -> {
                try {
                    Gate.Judged j = judge(AGENT, GRANT_ROLE, holdPolicy(Duration.ofMinutes(5), 1));
                    start.await();
                    return gate.approvals().release(j, AGENT, BODY, id);
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            }));
        }
        start.countDown();
        long released = 0;
        for (var r : racers) {
            ApprovalFlow.Outcome o = r.get(30, TimeUnit.SECONDS);
            if (o instanceof ApprovalFlow.Outcome.Released) released++;
            else assertThat(((ApprovalFlow.Outcome.Refused) o).why()).isEqualTo(ApprovalFlow.Refusal.ALREADY_USED);
        }
        assertThat(released).isEqualTo(1);
    }

    @Test
    void aDenialEndsTheWaitWithTheApproversReason() throws Exception {
        Gate.Judged judged = judge(AGENT, GRANT_ROLE, holdPolicy(Duration.ofMinutes(5), 1));
        Told told = new Told();
        CompletableFuture<ApprovalFlow.Outcome> outcome = CompletableFuture.supplyAsync(() -> hold(judged, told, Duration.ofMinutes(5)));
        assertThat(told.notified.await(10, TimeUnit.SECONDS)).isTrue();
        approvals.deny(told.id(), ALICE, "not during the freeze");

        ApprovalFlow.Outcome.Refused refused = (ApprovalFlow.Outcome.Refused) outcome.get(10, TimeUnit.SECONDS);
        assertThat(refused.why()).isEqualTo(ApprovalFlow.Refusal.DENIED);
        assertThat(refused.message()).contains(told.id(), "admin-roles", "denied by alice", "not during the freeze");
    }

    @Test
    void aWaitAsLongAsTheHoldTimeoutEndsExpiredAndAShorterOneEndsPending() throws Exception {
        Gate.Judged judged = judge(AGENT, GRANT_ROLE, holdPolicy(Duration.ofSeconds(1), 1));
        ApprovalFlow.Outcome whole = hold(judged, new Told(), Duration.ofSeconds(1));
        assertThat(whole).isInstanceOfSatisfying(ApprovalFlow.Outcome.Refused.class, r -> {
            assertThat(r.why()).isEqualTo(ApprovalFlow.Refusal.EXPIRED);
            assertThat(r.message()).contains("nobody in admins approved it within 1s");
        });

        Gate.Judged patient = judge(AGENT, GRANT_ROLE, holdPolicy(Duration.ofMinutes(5), 1));
        ApprovalFlow.Outcome partial = hold(patient, new Told(), Duration.ofMillis(200));
        assertThat(partial).isInstanceOfSatisfying(ApprovalFlow.Outcome.Pending.class,
                p -> assertThat(p.request().state()).isEqualTo(ApprovalState.PENDING));
    }

    @Test
    void aClientThatLeftIsNotRunForEvenWhenApprovedAfterwards() throws Exception {
        Gate.Judged judged = judge(AGENT, GRANT_ROLE, holdPolicy(Duration.ofMinutes(5), 1));
        Told told = new Told();
        CompletableFuture<ApprovalFlow.Outcome> outcome = CompletableFuture.supplyAsync(() -> hold(judged, told, Duration.ofMinutes(5)));
        assertThat(told.notified.await(10, TimeUnit.SECONDS)).isTrue();
        told.gone.set(true);

        assertThat(outcome.get(10, TimeUnit.SECONDS)).isEqualTo(new ApprovalFlow.Outcome.ClientLeft(told.id()));
        approvals.approve(told.id(), ALICE);
        assertThat(approvals.get(told.id()).orElseThrow().state()).as("approved, but never released")
                .isEqualTo(ApprovalState.APPROVED);
    }

    @Test
    void anApprovalReleasesOnlyItsOwnOperationForItsOwnRequester() throws Exception {
        String id = pendingRequest(Duration.ofMinutes(5));
        approvals.approve(id, ALICE);
        Policy policy = holdPolicy(Duration.ofMinutes(5), 1);

        var otherCall = gate.approvals().release(judge(AGENT, call("/api/v1/users/00u2/roles"), policy), AGENT, BODY, id);
        assertThat(((ApprovalFlow.Outcome.Refused) otherCall).why()).isEqualTo(ApprovalFlow.Refusal.DIFFERENT_OPERATION);
        var otherBody = gate.approvals().release(judge(AGENT, GRANT_ROLE, policy), AGENT,
                "{\"role\":\"ORG_ADMIN\"}".getBytes(StandardCharsets.UTF_8), id);
        assertThat(((ApprovalFlow.Outcome.Refused) otherBody).why()).isEqualTo(ApprovalFlow.Refusal.DIFFERENT_OPERATION);
        var otherCaller = gate.approvals().release(judge(OTHER_AGENT, GRANT_ROLE, policy), OTHER_AGENT, BODY, id);
        assertThat(((ApprovalFlow.Outcome.Refused) otherCaller).why()).isEqualTo(ApprovalFlow.Refusal.DIFFERENT_REQUESTER);

        assertThat(approvals.get(id).orElseThrow().state()).as("none of them spent it").isEqualTo(ApprovalState.APPROVED);
        assertThat(gate.approvals().release(judge(AGENT, GRANT_ROLE, policy), AGENT, BODY, id))
                .isEqualTo(new ApprovalFlow.Outcome.Released(id));
    }

    @Test
    void anUndecidedOrPartlyApprovedRequestIsPendingAndAnUnknownOrMalformedIdIsRefused() throws Exception {
        Policy twoNeeded = holdPolicy(Duration.ofMinutes(5), 2);
        Gate.Judged first = judge(AGENT, GRANT_ROLE, twoNeeded);
        String id = ((ApprovalFlow.Outcome.Pending) hold(first, new Told(), Duration.ofMillis(100))).request().id();
        approvals.approve(id, ALICE);

        assertThat(gate.approvals().release(judge(AGENT, GRANT_ROLE, twoNeeded), AGENT, BODY, id))
                .isInstanceOfSatisfying(ApprovalFlow.Outcome.Pending.class,
                        p -> assertThat(p.request().approvals()).hasSize(1));
        approvals.approve(id, BOB);
        assertThat(gate.approvals().release(judge(AGENT, GRANT_ROLE, twoNeeded), AGENT, BODY, id))
                .isEqualTo(new ApprovalFlow.Outcome.Released(id));

        var unknown = gate.approvals().release(judge(AGENT, GRANT_ROLE, twoNeeded), AGENT, BODY, "apr_aaaaaaaaaaaaaaaaaaaa");
        assertThat(((ApprovalFlow.Outcome.Refused) unknown).why()).isEqualTo(ApprovalFlow.Refusal.UNKNOWN);
        var malformed = gate.approvals().release(judge(AGENT, GRANT_ROLE, twoNeeded), AGENT, BODY, "apr_' OR 1=1 --\r\n");
        assertThat((ApprovalFlow.Outcome.Refused) malformed).satisfies(r -> {
            assertThat(r.why()).isEqualTo(ApprovalFlow.Refusal.UNKNOWN);
            assertThat(r.approvalId()).isNull();
            assertThat(r.message()).doesNotContain("\r", "\n");
        });
    }

    @Test
    void aRequestThatCannotBeStoredIsUnavailableAndNothingWaits() throws Exception {
        Gate.Judged judged = judge(AGENT, GRANT_ROLE, holdPolicy(Duration.ofMinutes(5), 1));
        recorder.close();
        store.close();
        Told told = new Told();
        assertThat(hold(judged, told, Duration.ofMinutes(5))).isInstanceOf(ApprovalFlow.Outcome.Unavailable.class);
        assertThat(told.held).as("the client is never told of a hold that does not exist").isEmpty();
        store = EmbeddedStore.open(dir.resolve("p.db"));
        recorder = new DurableRecorder(store, Clock.systemUTC());
    }

    String pendingRequest(Duration holdTimeout) throws Exception {
        Gate.Judged judged = judge(AGENT, GRANT_ROLE, holdPolicy(holdTimeout, 1));
        return ((ApprovalFlow.Outcome.Pending) hold(judged, new Told(), Duration.ofMillis(50))).request().id();
    }

    ApprovalFlow.Outcome hold(Gate.Judged judged, ApprovalFlow.Client client, Duration wait) {
        try {
            return gate.approvals().hold(judged, AGENT, BODY, held(judged), wait, client);
        } catch (Exception e) {
            throw new RuntimeException(e);
        }
    }
}
