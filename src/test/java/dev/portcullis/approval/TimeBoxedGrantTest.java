package dev.portcullis.approval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.portcullis.approval.ApprovalRefusedException.Kind;
import dev.portcullis.core.Identity;
import dev.portcullis.core.SqlStatement;
import dev.portcullis.policy.Verdict.HoldForApproval;
import dev.portcullis.recording.AuditVerifier;
import dev.portcullis.recording.DurableRecorder;
import dev.portcullis.recording.Replay;
import dev.portcullis.store.EmbeddedStore;
import dev.portcullis.store.SessionQuery;
import dev.portcullis.store.StoredEvent;
import dev.portcullis.testing.MutableClock;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A rule with {@code grant:} gives the requester the rule's operations for a while once approved. */
class TimeBoxedGrantTest {
    static final Instant T0 = Instant.parse("2026-11-23T09:00:00Z");
    static final HoldForApproval GRANT_30M = new HoldForApproval("jit-writes", "writes need a DBA", List.of("dba"), 1,
            Duration.ofMinutes(10), Optional.of(Duration.ofMinutes(30)));

    @TempDir
    Path dir;
    MutableClock clock;
    EmbeddedStore store;
    DurableRecorder recorder;
    ApprovalService service;

    static Identity who(String subject, String... groups) {
        return new Identity(subject, Set.of(groups), "jti-" + subject, "client", "https://idp", Map.of(),
                T0.plus(Duration.ofHours(2)));
    }

    static final Identity AGENT = who("agent-7", "agents");
    static final Identity OTHER_AGENT = who("agent-8", "agents");
    static final Identity ALICE = who("alice", "dba");
    static final Identity MALLORY = who("mallory", "marketing");
    static final SqlStatement DELETE = SqlStatement.unparseable("DELETE FROM orders WHERE id = 1");
    static final SqlStatement UPDATE = SqlStatement.unparseable("UPDATE orders SET state = 'x' WHERE id = 2");

    @BeforeEach
    void open() {
        if (clock == null) clock = new MutableClock(T0); // kept across a restart
        store = EmbeddedStore.open(dir.resolve("portcullis.db"));
        recorder = new DurableRecorder(store, clock);
        service = new ApprovalService(new SqlApprovalStore(store), recorder, clock);
    }

    @AfterEach
    void close() {
        recorder.close();
        store.close();
    }

    ApprovalRequest ask(Identity who, SqlStatement statement) {
        return service.request(who, "orders-db", statement, OperationFingerprint.of(statement), GRANT_30M,
                GRANT_30M.holdTimeout());
    }

    @Test
    void approvedGrantRunsFromTheApprovalForItsDurationForThatRequesterRuleAndConnectionOnly() throws Exception {
        ApprovalRequest r = ask(AGENT, DELETE);
        assertThat(r.grant()).contains(new ApprovalRequest.Grant(Duration.ofMinutes(30), Optional.empty()));
        assertThat(service.activeGrant("agent-7", "orders-db", "jit-writes")).isEmpty();

        clock.advance(Duration.ofMinutes(4)); // the time starts at approval, not at the request
        ApprovalRequest approved = service.approve(r.id(), ALICE);

        Instant until = T0.plus(Duration.ofMinutes(34));
        assertThat(approved.grant().orElseThrow().until()).contains(until);
        assertThat(service.activeGrant("agent-7", "orders-db", "jit-writes")).map(ApprovalRequest::id).contains(r.id());
        assertThat(service.activeGrant("agent-8", "orders-db", "jit-writes")).isEmpty();
        assertThat(service.activeGrant("agent-7", "billing-db", "jit-writes")).isEmpty();
        assertThat(service.activeGrant("agent-7", "orders-db", "other-rule")).isEmpty();

        // The held statement and any later one of the rule are released while it runs; the grant stays.
        assertThat(service.consume(r.id(), OperationFingerprint.of(DELETE))).isTrue();
        assertThat(service.consume(r.id(), OperationFingerprint.of(UPDATE))).isTrue();
        assertThat(service.get(r.id()).orElseThrow().state()).isEqualTo(ApprovalState.APPROVED);

        clock.set(until.minusMillis(1));
        assertThat(service.activeGrant("agent-7", "orders-db", "jit-writes")).isPresent();
        clock.set(until);
        assertThat(service.activeGrant("agent-7", "orders-db", "jit-writes")).isEmpty();
        assertThat(service.consume(r.id(), OperationFingerprint.of(DELETE))).isFalse();
    }

    @Test
    void aSecondHeldOperationWaitsOnThePendingGrantInsteadOfAskingAgain() {
        ApprovalRequest first = ask(AGENT, DELETE);
        ApprovalRequest second = ask(AGENT, UPDATE);
        ApprovalRequest otherAgent = ask(OTHER_AGENT, UPDATE);

        assertThat(second.id()).isEqualTo(first.id());
        assertThat(otherAgent.id()).isNotEqualTo(first.id());
        assertThat(service.list(Optional.of(ApprovalState.PENDING))).hasSize(2);
    }

    @Test
    void aGrantPastItsTimeIsEndedByTheSweepAndRecorded() throws Exception {
        ApprovalRequest r = ask(AGENT, DELETE);
        service.approve(r.id(), ALICE);
        clock.advance(Duration.ofMinutes(29));
        assertThat(service.expireDue()).isEmpty();

        clock.advance(Duration.ofMinutes(1));
        assertThat(service.expireDue()).extracting(ApprovalRequest::id).containsExactly(r.id());

        assertThat(service.get(r.id()).orElseThrow().state()).isEqualTo(ApprovalState.EXPIRED);
        // The approvals session idles out during the 30 minutes; the story spans two sessions.
        List<String> sessions = store.sessions(SessionQuery.newest().subject(ApprovalService.APPROVALS_SUBJECT)).stream()
                .map(s -> s.id()).toList().reversed();
        List<StoredEvent> events = sessions.stream().flatMap(s -> store.events(s).stream()).toList();
        assertThat(events).extracting(StoredEvent::code).containsSubsequence("PC4000", "PC4001", "PC4007");
        assertThat(events).extracting(StoredEvent::code).filteredOn(c -> !c.equals("PC1000") && !c.equals("PC1001"))
                .containsExactly("PC4000", "PC4001", "PC4007");
        assertThat(events.stream().filter(e -> e.code().equals("PC4000")).findFirst().orElseThrow().payload())
                .contains("\"grant\":\"PT30M\"");
        assertThat(events.stream().filter(e -> e.code().equals("PC4001")).findFirst().orElseThrow().payload())
                .contains("\"grantUntil\":\"2026-11-23T09:30:00Z\"");
        Replay replay = new Replay(store, ZoneOffset.UTC);
        String transcript = sessions.stream().map(replay::text).reduce("", String::concat);
        assertThat(transcript).contains("grants 30 min of access once approved", "access granted until 2026-11-23",
                "grant ended at");
        // A new operation asks anew.
        assertThat(ask(AGENT, DELETE).id()).isNotEqualTo(r.id());
        assertThat(AuditVerifier.verify(store).problems()).isEmpty();
    }

    @Test
    void anApproverOrTheRequesterRevokesARunningGrantAndNobodyElseCan() throws Exception {
        ApprovalRequest r = ask(AGENT, DELETE);
        assertThatThrownBy(() -> service.revoke(r.id(), ALICE, "not yet approved"))
                .isInstanceOfSatisfying(ApprovalRefusedException.class, e -> assertThat(e.kind()).isEqualTo(Kind.NOT_PENDING));
        service.approve(r.id(), ALICE);
        assertThatThrownBy(() -> service.revoke(r.id(), MALLORY, "mine now"))
                .isInstanceOfSatisfying(ApprovalRefusedException.class, e -> assertThat(e.kind()).isEqualTo(Kind.NOT_AN_APPROVER));
        assertThat(service.activeGrant("agent-7", "orders-db", "jit-writes")).isPresent();

        ApprovalRequest revoked = service.revoke(r.id(), ALICE, "incident over");

        assertThat(revoked.state()).isEqualTo(ApprovalState.REVOKED);
        assertThat(revoked.denial()).get().extracting(ApprovalRequest.Denial::subject, ApprovalRequest.Denial::reason)
                .containsExactly("alice", "incident over");
        assertThat(service.activeGrant("agent-7", "orders-db", "jit-writes")).isEmpty();
        assertThat(service.consume(r.id(), OperationFingerprint.of(DELETE))).isFalse();

        ApprovalRequest again = ask(AGENT, DELETE);
        service.approve(again.id(), ALICE);
        assertThat(service.revoke(again.id(), AGENT, "done early").state()).isEqualTo(ApprovalState.REVOKED);
        String session = store.sessions(SessionQuery.newest().subject(ApprovalService.APPROVALS_SUBJECT)).getFirst().id();
        assertThat(store.events(session)).extracting(StoredEvent::code).filteredOn("PC4006"::equals).hasSize(2);
        assertThat(new Replay(store, ZoneOffset.UTC).text(session)).contains("revoked by alice: incident over",
                "revoked by agent-7: done early");
    }

    @Test
    void aRunningGrantSurvivesARestartWithItsEnd() throws Exception {
        ApprovalRequest r = ask(AGENT, DELETE);
        service.approve(r.id(), ALICE);
        close();
        clock.advance(Duration.ofMinutes(10));
        open();

        ApprovalRequest reloaded = service.activeGrant("agent-7", "orders-db", "jit-writes").orElseThrow();
        assertThat(reloaded.id()).isEqualTo(r.id());
        assertThat(reloaded.grant().orElseThrow().until()).contains(T0.plus(Duration.ofMinutes(30)));
    }

    @Test
    void aSingleUseApprovalIsNotAGrant() throws Exception {
        HoldForApproval once = new HoldForApproval("prod-writes", "needs a DBA", List.of("dba"), 1, Duration.ofMinutes(10));
        ApprovalRequest r = service.request(AGENT, "orders-db", DELETE, OperationFingerprint.of(DELETE), once,
                once.holdTimeout());
        service.approve(r.id(), ALICE);

        assertThat(service.activeGrant("agent-7", "orders-db", "prod-writes")).isEmpty();
        assertThat(service.consume(r.id(), OperationFingerprint.of(UPDATE))).isFalse();
        assertThat(service.consume(r.id(), OperationFingerprint.of(DELETE))).isTrue();
        assertThat(service.consume(r.id(), OperationFingerprint.of(DELETE))).isFalse();
    }
}
