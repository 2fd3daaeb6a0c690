package dev.portcullis.gate;

import dev.portcullis.approval.SqlApprovalStore;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.portcullis.approval.ApprovalRequest;
import dev.portcullis.approval.ApprovalService;
import dev.portcullis.approval.ApprovalState;
import dev.portcullis.approval.ApprovalStore;
import dev.portcullis.approval.OperationFingerprint;
import dev.portcullis.core.HttpCall;
import dev.portcullis.core.Identity;
import dev.portcullis.policy.Action;
import dev.portcullis.policy.Conditions;
import dev.portcullis.policy.Policy;
import dev.portcullis.policy.Rule;
import dev.portcullis.policy.Verdict;
import dev.portcullis.recording.DurableRecorder;
import dev.portcullis.server.GatewayMetrics;
import dev.portcullis.store.AuditStoreException;
import dev.portcullis.store.EmbeddedStore;
import dev.portcullis.testing.MutableClock;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The gate turns a grant rule's hold into {@link Verdict.Granted} only while the caller's grant runs. */
class GrantedOperationsTest {
    static final Instant T0 = Instant.parse("2026-11-23T09:00:00Z");
    static final Identity AGENT = who("agent-7", "agents");
    static final Identity ALICE = who("alice", "admins");
    static final HttpCall UPDATE = new HttpCall("POST", "/api/v1/users/00u1", "", Map.of(), "application/json",
            Optional.empty(), 2);

    static Identity who(String subject, String... groups) {
        return new Identity(subject, Set.of(groups), "jti-" + subject, "client", "https://idp", Map.of(),
                T0.plus(Duration.ofHours(2)));
    }

    static Policy grantPolicy(String ruleId) {
        return new Policy(List.of(new Rule(ruleId, "", Conditions.ALWAYS, Action.REQUIRE_APPROVAL, Optional.empty(), "",
                List.of("admins"), 1, Duration.ofMinutes(5), false, Optional.of(Duration.ofMinutes(20)))));
    }

    @TempDir
    Path dir;
    MutableClock clock = new MutableClock(T0);
    EmbeddedStore store;
    DurableRecorder recorder;
    boolean storeDown;
    ApprovalService approvals;
    Gate gate;

    @BeforeEach
    void open() {
        store = EmbeddedStore.open(dir.resolve("p.db"));
        recorder = new DurableRecorder(store, clock);
        ApprovalStore real = new SqlApprovalStore(store);
        ApprovalStore flaky = new ApprovalStore() {
            public void insert(ApprovalRequest r) {
                real.insert(r);
            }

            public boolean update(ApprovalRequest next) {
                return real.update(next);
            }

            public Optional<ApprovalRequest> get(String id) {
                return real.get(id);
            }

            public List<ApprovalRequest> list(Optional<ApprovalState> state, int limit) {
                return real.list(state, limit);
            }

            public List<ApprovalRequest> grants(String subject, String connection, String ruleId) {
                if (storeDown) throw new AuditStoreException("disk I/O error", null);
                return real.grants(subject, connection, ruleId);
            }
        };
        approvals = new ApprovalService(flaky, recorder, clock);
        gate = new Gate(null, recorder, new GatewayMetrics(), approvals, "http://127.0.0.1:8080/approvals/");
    }

    @AfterEach
    void close() {
        recorder.close();
        store.close();
    }

    Verdict judge(Identity who, String connection, Policy policy) throws Exception {
        return gate.judge(connection, "http", "127.0.0.1", who, UPDATE, policy, "").decision().verdict();
    }

    @Test
    void holdUntilApprovedThenGrantedForThatCallerConnectionAndRuleUntilTheEnd() throws Exception {
        Policy policy = grantPolicy("jit");
        Verdict first = judge(AGENT, "okta", policy);
        assertThat(first).isInstanceOf(Verdict.HoldForApproval.class);
        ApprovalRequest r = approvals.request(AGENT, "okta", UPDATE, OperationFingerprint.of(UPDATE, new byte[0]),
                (Verdict.HoldForApproval) first, Duration.ofMinutes(5));
        approvals.approve(r.id(), ALICE);

        assertThat(judge(AGENT, "okta", policy)).isEqualTo(new Verdict.Granted("jit", r.id(), T0.plus(Duration.ofMinutes(20))));
        assertThat(judge(who("agent-8", "agents"), "okta", policy)).isInstanceOf(Verdict.HoldForApproval.class);
        assertThat(judge(AGENT, "github", policy)).isInstanceOf(Verdict.HoldForApproval.class);
        assertThat(judge(AGENT, "okta", grantPolicy("other-rule"))).isInstanceOf(Verdict.HoldForApproval.class);
        assertThat(gate.decide("okta", AGENT, UPDATE, policy).verdict()).isInstanceOf(Verdict.Granted.class);

        clock.advance(Duration.ofMinutes(20));
        assertThat(judge(AGENT, "okta", policy)).isInstanceOf(Verdict.HoldForApproval.class);
    }

    @Test
    void whenTheStoreCannotSayWhetherAGrantRunsTheOperationIsRefusedNotForwarded() throws Exception {
        Policy policy = grantPolicy("jit");
        ApprovalRequest r = approvals.request(AGENT, "okta", UPDATE, OperationFingerprint.of(UPDATE, new byte[0]),
                (Verdict.HoldForApproval) policy.rules().getFirst().verdict(), Duration.ofMinutes(5));
        approvals.approve(r.id(), ALICE);
        storeDown = true;

        assertThatThrownBy(() -> judge(AGENT, "okta", policy)).isInstanceOf(GateUnavailableException.class)
                .hasMessageContaining("disk I/O error");
        // Deciding without recording (a statement being prepared) keeps the hold.
        assertThat(gate.decide("okta", AGENT, UPDATE, policy).verdict()).isInstanceOf(Verdict.HoldForApproval.class);
    }
}
