package dev.portcullis.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.portcullis.approval.ApprovalRequest;
import dev.portcullis.approval.ApprovalService;
import dev.portcullis.approval.ApprovalState;
import dev.portcullis.approval.SqlApprovalStore;
import dev.portcullis.core.HttpCall;
import dev.portcullis.core.Identity;
import dev.portcullis.policy.Verdict;
import dev.portcullis.recording.AuditEvent;
import dev.portcullis.recording.AuditVerifier;
import dev.portcullis.recording.ConnectionSession;
import dev.portcullis.recording.DurableRecorder;
import dev.portcullis.recording.VerifyReport;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The PostgreSQL store on a real server: two replicas append to one database, each on its own chain,
 * through their own trails; both chains verify, and tampering with either is found and named; approval
 * changes are announced to the other replica; an unreachable database is refused with a clear error.
 */
class PostgresStoreTest {
    static PostgresServer server;

    @TempDir
    Path dir;
    String url;

    @BeforeAll
    static void startServer() throws Exception {
        server = PostgresServer.start();
    }

    @AfterAll
    static void stopServer() throws Exception {
        server.close();
    }

    @BeforeEach
    void freshDatabase() throws Exception {
        url = server.freshDatabase();
    }

    private LoggedStore replica(String name) {
        return LoggedStore.open(dir.resolve("trail-" + name), TrailLog.DEFAULT_SEGMENT_BYTES,
                () -> PostgresStore.open(url, "postgres", "postgres", "portcullis", name, 4));
    }

    private static Identity agent(String subject) {
        return new Identity(subject, Set.of("agents"), "jti-" + subject, "client", "http://issuer", Map.of(),
                Instant.now().plusSeconds(3600));
    }

    private static void record(DurableRecorder recorder, String subject, int operations) {
        ConnectionSession s = recorder.openSession(agent(subject), "okta", "http", "127.0.0.1");
        for (int i = 0; i < operations; i++) s.record(new AuditEvent.SessionEnded("operation " + i + " of " + subject));
        s.end("done");
    }

    private PostgresStore reader() {
        return PostgresStore.openForReading(url, "postgres", "postgres", "portcullis");
    }

    private void sql(String statement) throws Exception {
        try (Connection c = java.sql.DriverManager.getConnection(url + "?currentSchema=portcullis", "postgres", "postgres");
             Statement st = c.createStatement()) {
            st.execute(statement);
        }
    }

    @Test
    void twoReplicasKeepTheirOwnChainsInOneDatabaseAndBothVerify() throws Exception {
        try (LoggedStore a = replica("a"); LoggedStore b = replica("b")) {
            DurableRecorder ra = new DurableRecorder(a, Clock.systemUTC());
            DurableRecorder rb = new DurableRecorder(b, Clock.systemUTC());
            // interleaved, as two replicas behind one load balancer would be
            for (int round = 0; round < 5; round++) {
                record(ra, "agent-a" + round, 3);
                record(rb, "agent-b" + round, 2);
            }
            b.sessions(SessionQuery.newest().limit(1)); // b's index holds what b recorded (a read waits for its own index only)
            assertThat(a.sessions(SessionQuery.newest().limit(100))).hasSize(10); // every replica's sessions, from either
            assertThat(b.head().lastGlobalSeq()).isEqualTo(5 * (1 + 2 + 1));
            ra.close();
            rb.close();
        }
        try (PostgresStore store = reader()) {
            VerifyReport report = AuditVerifier.verify(store);
            assertThat(report.problems()).isEmpty();
            assertThat(report.sessions()).isEqualTo(10);
            assertThat(report.events()).isEqualTo(5 * (1 + 3 + 1) + 5 * (1 + 2 + 1));
            assertThat(report.headHash()).startsWith("a=").contains(", b=");
        }
    }

    @Test
    void tamperingWithOneReplicasChainIsFoundAndNamed() throws Exception {
        try (LoggedStore a = replica("a"); LoggedStore b = replica("b")) {
            DurableRecorder ra = new DurableRecorder(a, Clock.systemUTC());
            DurableRecorder rb = new DurableRecorder(b, Clock.systemUTC());
            record(ra, "agent-a", 3);
            record(rb, "agent-b", 3);
            ra.close();
            rb.close();
        }
        sql("UPDATE audit_event SET payload = replace(payload, 'operation 1', 'operation 9') WHERE replica_id = 'b' AND global_seq = 3");
        try (PostgresStore store = reader()) {
            VerifyReport report = AuditVerifier.verify(store);
            assertThat(report.problems()).singleElement().satisfies(p -> {
                assertThat(p.kind()).isEqualTo(VerifyReport.Kind.EDITED);
                assertThat(p.detail()).startsWith("replica b:");
            });
        }
        // the newest events of replica a deleted with its head moved back: the session heads still tell
        sql("DELETE FROM audit_event WHERE replica_id = 'a' AND global_seq >= 4");
        sql("UPDATE audit_replica SET last_global_seq = 3, last_global_hash = (SELECT global_hash FROM audit_event WHERE replica_id = 'a' AND global_seq = 3) WHERE replica_id = 'a'");
        try (PostgresStore store = reader()) {
            assertThat(AuditVerifier.verify(store).problems()).anySatisfy(p -> {
                assertThat(p.kind()).isEqualTo(VerifyReport.Kind.TAIL_DELETED);
                assertThat(p.detail()).startsWith("replica a:");
            });
        }
        // a replica's head row removed to hide its chain: its events are still checked, against nothing
        sql("DELETE FROM audit_replica WHERE replica_id = 'b'");
        try (PostgresStore store = reader()) {
            assertThat(AuditVerifier.verify(store).problems()).anySatisfy(p -> {
                assertThat(p.kind()).isEqualTo(VerifyReport.Kind.GLOBAL_BROKEN_LINK);
                assertThat(p.detail()).startsWith("replica b:");
            });
        }
    }

    @Test
    void aReplicaRestartedContinuesItsChainAndIndexesWhatItsTrailHeld() throws Exception {
        try (LoggedStore a = replica("a")) {
            DurableRecorder ra = new DurableRecorder(a, Clock.systemUTC());
            record(ra, "agent-1", 2);
            ra.close();
        }
        try (LoggedStore a = replica("a")) {
            assertThat(a.head().lastGlobalSeq()).isEqualTo(4);
            DurableRecorder ra = new DurableRecorder(a, Clock.systemUTC());
            record(ra, "agent-2", 2);
            ra.close();
        }
        try (PostgresStore store = reader()) {
            VerifyReport report = AuditVerifier.verify(store);
            assertThat(report.problems()).isEmpty();
            assertThat(report.events()).isEqualTo(8);
        }
    }

    @Test
    void anApprovalChangedThroughOneReplicaIsAnnouncedToTheOther() throws Exception {
        try (LoggedStore a = replica("a"); LoggedStore b = replica("b")) {
            DurableRecorder ra = new DurableRecorder(a, Clock.systemUTC());
            DurableRecorder rb = new DurableRecorder(b, Clock.systemUTC());
            ApprovalService onA = new ApprovalService(new SqlApprovalStore(a.index()), ra, Clock.systemUTC());
            ApprovalService onB = new ApprovalService(new SqlApprovalStore(b.index()), rb, Clock.systemUTC());
            LinkedBlockingQueue<String> heardOnA = new LinkedBlockingQueue<>();
            try (AutoCloseable listening = ((PostgresStore) a.index()).listen(id -> heardOnA.add(String.valueOf(id)))) {
                Thread.sleep(300); // LISTEN is in place before the change
                ApprovalRequest held = onA.request(agent("agent-1"), "okta",
                        new HttpCall("DELETE", "/api/v1/users/1", "", Map.of(), "", Optional.empty(), 0), "fp-1",
                        new Verdict.HoldForApproval("deletes-need-approval", "deletes need approval", List.of("sre"), 1, Duration.ofMinutes(5)),
                        Duration.ofMinutes(5));
                assertThat(heardOnA.poll(5, TimeUnit.SECONDS)).isEqualTo(held.id()); // its own insert
                Identity approver = new Identity("sre-1", Set.of("sre"), "jti-sre", "client", "http://issuer", Map.of(),
                        Instant.now().plusSeconds(3600));
                onB.approve(held.id(), approver);
                assertThat(heardOnA.poll(5, TimeUnit.SECONDS)).isEqualTo(held.id());
                assertThat(onA.await(held.id(), Duration.ofSeconds(5)).state()).isEqualTo(ApprovalState.APPROVED);
                assertThat(onA.consume(held.id(), "fp-1")).isTrue();
                assertThat(onB.consume(held.id(), "fp-1")).as("released once, whichever replica asks").isFalse();
            }
            ra.close();
            rb.close();
        }
        try (PostgresStore store = reader()) {
            assertThat(AuditVerifier.verify(store).problems()).isEmpty(); // the approval's events are in both chains
        }
    }

    @Test
    void anUnreachableDatabaseIsRefusedWithWhereAndWhy() {
        assertThatThrownBy(() -> PostgresStore.open("jdbc:postgresql://127.0.0.1:1/nothing?password=secret", "u", "p", "portcullis", "a", 2))
                .isInstanceOf(AuditStoreException.class)
                .hasMessageContaining("PostgreSQL jdbc:postgresql://127.0.0.1:1/nothing")
                .hasMessageNotContaining("secret");
        assertThatThrownBy(() -> PostgresStore.open(url, "no_such_role", "x", "portcullis", "a", 2)).isInstanceOf(AuditStoreException.class)
                .hasMessageContaining("no_such_role");
    }
}
