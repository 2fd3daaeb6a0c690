package dev.portcullis.approval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.portcullis.approval.ApprovalRefusedException.Kind;
import dev.portcullis.core.HttpCall;
import dev.portcullis.core.Identity;
import dev.portcullis.core.SqlStatement;
import dev.portcullis.policy.Verdict.HoldForApproval;
import dev.portcullis.recording.AuditVerifier;
import dev.portcullis.recording.DurableRecorder;
import dev.portcullis.recording.Replay;
import dev.portcullis.recording.SessionRecorder;
import dev.portcullis.store.EmbeddedStore;
import dev.portcullis.store.SessionQuery;
import dev.portcullis.store.StoredEvent;
import dev.portcullis.testing.MutableClock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ApprovalServiceTest {
    static final Instant T0 = Instant.parse("2026-11-23T09:00:00Z");
    static final HoldForApproval HOLD = new HoldForApproval("prod-writes", "writes to production need a DBA",
            List.of("dba"), 1, Duration.ofMinutes(10));

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
    static final Identity ALICE = who("alice", "dba");
    static final Identity BOB = who("bob", "dba");
    static final Identity MALLORY = who("mallory", "marketing");
    static final SqlStatement DELETE = SqlStatement.unparseable("DELETE FROM orders WHERE id = $1").withParameters(List.of("42"));

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

    ApprovalRequest hold(HoldForApproval hold) {
        return service.request(AGENT, "orders-db", DELETE, OperationFingerprint.of(DELETE), hold, hold.holdTimeout());
    }

    @Test
    void approvedByAMemberIsReleasedExactlyOnce() throws Exception {
        ApprovalRequest r = hold(HOLD);
        assertThat(r.id()).matches("apr_[a-z2-7]{20}");
        assertThat(r.state()).isEqualTo(ApprovalState.PENDING);
        assertThat(r.requester()).isEqualTo(new ApprovalRequest.Requester("agent-7", Set.of("agents"), "jti-agent-7"));
        assertThat(r.expiresAt()).isEqualTo(T0.plus(Duration.ofMinutes(10)));

        ApprovalRequest approved = service.approve(r.id(), ALICE);

        assertThat(approved.state()).isEqualTo(ApprovalState.APPROVED);
        assertThat(approved.approvals()).extracting(ApprovalRequest.Approval::subject).containsExactly("alice");
        assertThat(service.consume(r.id(), OperationFingerprint.of(DELETE))).isTrue();
        assertThat(service.consume(r.id(), OperationFingerprint.of(DELETE))).isFalse();
        assertThat(service.get(r.id()).orElseThrow().state()).isEqualTo(ApprovalState.RELEASED);
    }

    @Test
    void aPendingRequestIsNotReleased() {
        ApprovalRequest r = hold(HOLD);
        assertThat(service.consume(r.id(), r.fingerprint())).isFalse();
        assertThat(service.consume("apr_unknown", r.fingerprint())).isFalse();
    }

    @Test
    void deniedWithAReasonIsNeverReleased() throws Exception {
        ApprovalRequest r = hold(HOLD);

        ApprovalRequest denied = service.deny(r.id(), BOB, "not during the freeze");

        assertThat(denied.state()).isEqualTo(ApprovalState.DENIED);
        assertThat(denied.denial()).get().satisfies(d -> {
            assertThat(d.subject()).isEqualTo("bob");
            assertThat(d.reason()).isEqualTo("not during the freeze");
        });
        assertThat(service.consume(r.id(), r.fingerprint())).isFalse();
        assertThatThrownBy(() -> service.approve(r.id(), ALICE)).isInstanceOfSatisfying(ApprovalRefusedException.class,
                e -> assertThat(e.kind()).isEqualTo(Kind.NOT_PENDING));
    }

    @Test
    void nobodyApprovesTheirOwnRequestEvenInTheApproverGroup() {
        Identity dbaAgent = who("agent-7", "agents", "dba");
        ApprovalRequest r = service.request(dbaAgent, "orders-db", DELETE, OperationFingerprint.of(DELETE), HOLD, HOLD.holdTimeout());

        assertThatThrownBy(() -> service.approve(r.id(), dbaAgent)).isInstanceOfSatisfying(ApprovalRefusedException.class,
                e -> assertThat(e.kind()).isEqualTo(Kind.OWN_REQUEST));
        assertThatThrownBy(() -> service.deny(r.id(), dbaAgent, "no")).isInstanceOfSatisfying(ApprovalRefusedException.class,
                e -> assertThat(e.kind()).isEqualTo(Kind.OWN_REQUEST));
        assertThat(service.get(r.id()).orElseThrow().state()).isEqualTo(ApprovalState.PENDING);
    }

    @Test
    void anApproverOutsideTheGroupsIsRefused() {
        ApprovalRequest r = hold(HOLD);

        assertThatThrownBy(() -> service.approve(r.id(), MALLORY)).isInstanceOfSatisfying(ApprovalRefusedException.class,
                e -> {
                    assertThat(e.kind()).isEqualTo(Kind.NOT_AN_APPROVER);
                    assertThat(e.getMessage()).contains("dba");
                });
        assertThatThrownBy(() -> service.approve("apr_nope", ALICE)).isInstanceOfSatisfying(ApprovalRefusedException.class,
                e -> assertThat(e.kind()).isEqualTo(Kind.UNKNOWN));
    }

    @Test
    void twoRequiredApprovalsNeedTwoDistinctApprovers() throws Exception {
        ApprovalRequest r = hold(new HoldForApproval("drop", "dropping tables", List.of("dba", "sre"), 2, Duration.ofMinutes(5)));

        assertThat(service.approve(r.id(), ALICE).state()).isEqualTo(ApprovalState.PENDING);
        assertThatThrownBy(() -> service.approve(r.id(), ALICE)).isInstanceOfSatisfying(ApprovalRefusedException.class,
                e -> assertThat(e.kind()).isEqualTo(Kind.ALREADY_APPROVED));
        assertThat(service.consume(r.id(), r.fingerprint())).isFalse();

        ApprovalRequest done = service.approve(r.id(), who("carol", "sre"));

        assertThat(done.state()).isEqualTo(ApprovalState.APPROVED);
        assertThat(done.approvals()).extracting(ApprovalRequest.Approval::subject).containsExactly("alice", "carol");
        assertThat(service.consume(r.id(), r.fingerprint())).isTrue();
    }

    @Test
    void anApprovalReplayedForADifferentOperationIsRefused() throws Exception {
        ApprovalRequest r = hold(HOLD);
        service.approve(r.id(), ALICE);

        assertThat(service.consume(r.id(), OperationFingerprint.of(DELETE.withParameters(List.of("43"))))).isFalse();
        assertThat(service.consume(r.id(), OperationFingerprint.of(SqlStatement.unparseable("DELETE FROM orders")))).isFalse();
        assertThat(service.get(r.id()).orElseThrow().state()).isEqualTo(ApprovalState.APPROVED);
        assertThat(service.consume(r.id(), OperationFingerprint.of(DELETE))).isTrue();
    }

    @Test
    void fingerprintsBindMethodPathQueryAndBody() {
        HttpCall post = new HttpCall("POST", "/api/v1/users/00u1/roles", "", Map.of(), "application/json", Optional.empty(), 20);
        byte[] body = "{\"type\":\"SUPER_ADMIN\"}".getBytes(StandardCharsets.UTF_8);
        String fp = OperationFingerprint.of(post, body);

        assertThat(fp).matches("sha256:[0-9a-f]{64}").isEqualTo(OperationFingerprint.of(post, body.clone()));
        assertThat(OperationFingerprint.of(post, "{\"type\":\"READ_ONLY\"}".getBytes(StandardCharsets.UTF_8))).isNotEqualTo(fp);
        assertThat(OperationFingerprint.of(new HttpCall("PUT", post.path(), "", Map.of(), "", Optional.empty(), 20), body)).isNotEqualTo(fp);
        assertThat(OperationFingerprint.of(new HttpCall("POST", post.path(), "x=1", Map.of(), "", Optional.empty(), 20), body)).isNotEqualTo(fp);
        assertThat(OperationFingerprint.of(SqlStatement.unparseable("SELECT 1").withParameters(List.of("a", "b"))))
                .isNotEqualTo(OperationFingerprint.of(SqlStatement.unparseable("SELECT 1").withParameters(List.of("ab"))));
    }

    @Test
    void anExpiredRequestIsExpiredAndCannotBeApproved() throws Exception {
        ApprovalRequest r = hold(HOLD);
        clock.advance(Duration.ofMinutes(10));

        assertThatThrownBy(() -> service.approve(r.id(), ALICE)).isInstanceOfSatisfying(ApprovalRefusedException.class,
                e -> {
                    assertThat(e.kind()).isEqualTo(Kind.NOT_PENDING);
                    assertThat(e.getMessage()).contains("expired");
                });
        assertThat(service.get(r.id()).orElseThrow().state()).isEqualTo(ApprovalState.EXPIRED);
        assertThat(service.consume(r.id(), r.fingerprint())).isFalse();
    }

    @Test
    void anApprovedRequestIsNotReleasedAfterItsExpiry() throws Exception {
        ApprovalRequest r = hold(HOLD);
        service.approve(r.id(), ALICE);
        clock.advance(Duration.ofMinutes(11));

        assertThat(service.consume(r.id(), r.fingerprint())).isFalse();
    }

    @Test
    void requestsSurviveARestartAndExpireDueClosesThoseThatExpired() throws Exception {
        ApprovalRequest shortHold = hold(new HoldForApproval("r", "short", List.of("dba"), 1, Duration.ofMinutes(1)));
        clock.advance(Duration.ofSeconds(1));
        ApprovalRequest longHold = hold(new HoldForApproval("r", "long", List.of("dba"), 1, Duration.ofHours(1)));
        close();

        clock.advance(Duration.ofMinutes(5));
        open();
        assertThat(service.list(Optional.of(ApprovalState.PENDING))).extracting(ApprovalRequest::id)
                .containsExactly(shortHold.id(), longHold.id());
        assertThat(service.get(longHold.id())).contains(longHold);

        List<ApprovalRequest> expired = service.expireDue();

        assertThat(expired).extracting(ApprovalRequest::id).containsExactly(shortHold.id());
        assertThat(service.get(shortHold.id()).orElseThrow().state()).isEqualTo(ApprovalState.EXPIRED);
        assertThat(service.list(Optional.of(ApprovalState.PENDING))).extracting(ApprovalRequest::id).containsExactly(longHold.id());
        assertThat(service.expireDue()).isEmpty();
        assertThat(service.approve(longHold.id(), ALICE).state()).isEqualTo(ApprovalState.APPROVED);
    }

    @Test
    void awaitReturnsWhenApprovedFromAnotherThread() throws Exception {
        ApprovalRequest r = hold(HOLD);
        CompletableFuture<ApprovalRequest> waiting = new CompletableFuture<>();
        Thread.ofVirtual().start(() -> {
            try {
                waiting.complete(service.await(r.id(), Duration.ofSeconds(30)));
            } catch (Exception e) {
                waiting.completeExceptionally(e);
            }
        });
        Thread.sleep(100);
        assertThat(waiting).isNotDone();

        long start = System.nanoTime();
        service.approve(r.id(), ALICE);

        assertThat(waiting.get(5, TimeUnit.SECONDS).state()).isEqualTo(ApprovalState.APPROVED);
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofMillis(400));
    }

    @Test
    void awaitReturnsPendingAfterItsTimeoutAndExpiredOnceThePendingRequestExpires() throws Exception {
        ApprovalRequest r = hold(HOLD);

        assertThat(service.await(r.id(), Duration.ofMillis(50)).state()).isEqualTo(ApprovalState.PENDING);
        clock.advance(Duration.ofMinutes(10));
        assertThat(service.await(r.id(), Duration.ofSeconds(5)).state()).isEqualTo(ApprovalState.EXPIRED);
    }

    @Test
    void listenersHearOfEveryNewRequest() {
        List<ApprovalRequest> heard = new CopyOnWriteArrayList<>();
        service.subscribe(heard::add);
        service.subscribe(req -> {
            throw new IllegalStateException("chat is down");
        });

        ApprovalRequest r = hold(HOLD);

        assertThat(heard).containsExactly(r);
    }

    @Test
    void everyStepIsAHashChainedAuditEventWithTheApproversIdentity() throws Exception {
        ApprovalRequest approved = hold(HOLD);
        service.approve(approved.id(), ALICE);
        service.consume(approved.id(), approved.fingerprint());
        ApprovalRequest denied = hold(HOLD);
        service.deny(denied.id(), BOB, "no");
        ApprovalRequest expired = hold(HOLD);
        clock.advance(Duration.ofMinutes(10));
        service.expireDue();

        String session = store.sessions(SessionQuery.newest().subject(ApprovalService.APPROVALS_SUBJECT)).getFirst().id();
        List<String> codes = store.events(session).stream().map(StoredEvent::code).toList();
        assertThat(codes).containsExactly("PC1000", "PC4000", "PC4001", "PC4004", "PC4000", "PC4002", "PC4000", "PC4003");
        assertThat(store.events(session).get(2).payload()).contains("\"approverSubject\":\"alice\"", "\"approverTokenId\":\"jti-alice\"");
        String transcript = new Replay(store, ZoneOffset.UTC).text(session);
        assertThat(transcript).contains("approval " + approved.id() + " requested by agent-7 for DELETE FROM orders WHERE id = $1",
                "approved by alice (1 of 1)", "denied by bob: no", "approval " + expired.id() + " expired at",
                "released its operation");
        assertThat(AuditVerifier.verify(store).problems()).isEmpty();
    }

    @Test
    void eventsGoToTheRequestersSessionWhenTheAdapterGivesIt() throws Exception {
        SessionRecorder psql = recorder.openSession(AGENT, "orders-db", "postgres", "10.0.0.9");
        ApprovalRequest r = service.request(AGENT, "orders-db", DELETE, DELETE.text(), OperationFingerprint.of(DELETE), HOLD,
                HOLD.holdTimeout(), psql);
        service.approve(r.id(), ALICE);
        service.consume(r.id(), r.fingerprint());

        assertThat(store.events(psql.sessionId())).extracting(StoredEvent::code)
                .containsExactly("PC1000", "PC4000", "PC4001", "PC4004");
        assertThat(store.sessions(SessionQuery.newest().subject(ApprovalService.APPROVALS_SUBJECT))).isEmpty();
        assertThat(AuditVerifier.verify(store).problems()).isEmpty();
    }
}
