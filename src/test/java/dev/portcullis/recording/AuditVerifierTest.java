package dev.portcullis.recording;

import dev.portcullis.testing.MutableClock;

import static dev.portcullis.recording.Fixtures.T0;
import static dev.portcullis.recording.Fixtures.allowed;
import static dev.portcullis.recording.Fixtures.identity;
import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.recording.VerifyReport.Kind;
import dev.portcullis.recording.VerifyReport.Problem;
import dev.portcullis.store.EmbeddedStore;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each test tampers with the file the way someone with direct database access could. */
class AuditVerifierTest {

    @TempDir
    Path dir;

    private final MutableClock clock = new MutableClock(T0);
    private EmbeddedStore store;
    private String alice;
    private String bob;

    @BeforeEach
    void recordTwoSessionsOfFiveEvents() {
        store = EmbeddedStore.open(dir.resolve("audit.db"));
        try (DurableRecorder recorder = new DurableRecorder(store, clock)) {
            ConnectionSession a = recorder.openSession(identity("alice", "jti-a"), "okta", "http", "10.0.0.1");
            ConnectionSession b = recorder.openSession(identity("bob", "jti-b"), "okta", "http", "10.0.0.2");
            for (int i = 1; i <= 4; i++) {
                clock.advance(Duration.ofSeconds(1));
                a.record(allowed("/a/" + i, 200));
                b.record(allowed("/b/" + i, 200));
            }
            alice = a.sessionId();
            bob = b.sessionId();
        }
    }

    @AfterEach
    void close() {
        store.close();
    }

    private void tamper(String... sql) throws Exception {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + store.file()); Statement st = c.createStatement()) {
            for (String s : sql) st.executeUpdate(s);
        }
    }

    @Test
    void anUntouchedStoreVerifiesWithASummary() {
        VerifyReport report = AuditVerifier.verify(store);

        assertThat(report.ok()).isTrue();
        assertThat(report.sessions()).isEqualTo(2);
        assertThat(report.events()).isEqualTo(10);
        assertThat(report.summary()).startsWith("OK: 2 sessions, 10 events, head ").endsWith(report.headHash());
    }

    @Test
    void anEditedPayloadIsReportedWithSessionAndSeq() throws Exception {
        tamper("UPDATE audit_event SET payload = REPLACE(payload, '/a/2', '/a/9') WHERE session_id = '" + alice
                + "' AND seq = 3");

        assertThat(AuditVerifier.verify(store).problems())
                .containsExactly(new Problem(Kind.EDITED, alice, 3, "contents (payload, time or code) do not match the event's hash"));
    }

    @Test
    void twoSwappedEventsAreReportedAsReordered() throws Exception {
        String where = " WHERE session_id = '" + alice + "' AND seq = ";
        tamper("UPDATE audit_event SET seq = -1" + where + "2",
                "UPDATE audit_event SET seq = 2" + where + "3",
                "UPDATE audit_event SET seq = 3" + where + "-1");

        assertThat(AuditVerifier.verify(store).problems()).extracting(Problem::kind, Problem::sessionId, Problem::seq)
                .containsExactlyInAnyOrder(
                        org.assertj.core.groups.Tuple.tuple(Kind.REORDERED, alice, 2L),
                        org.assertj.core.groups.Tuple.tuple(Kind.REORDERED, alice, 3L));
    }

    @Test
    void aDeletedMiddleEventIsReported() throws Exception {
        tamper("DELETE FROM audit_event WHERE session_id = '" + alice + "' AND seq = 3");

        VerifyReport report = AuditVerifier.verify(store);
        assertThat(report.problems()).extracting(Problem::kind, Problem::sessionId, Problem::seq)
                .contains(org.assertj.core.groups.Tuple.tuple(Kind.MISSING_EVENTS, alice, 3L));
        assertThat(report.problems()).extracting(Problem::kind).contains(Kind.GLOBAL_GAP)
                .doesNotContain(Kind.EDITED, Kind.BROKEN_LINK);
    }

    @Test
    void aDeletedLastEventIsReportedAgainstTheSessionHead() throws Exception {
        tamper("DELETE FROM audit_event WHERE session_id = '" + alice + "' AND seq = 5");

        assertThat(AuditVerifier.verify(store).problems()).extracting(Problem::kind, Problem::sessionId, Problem::seq)
                .contains(org.assertj.core.groups.Tuple.tuple(Kind.TAIL_DELETED, alice, 5L));
    }

    @Test
    void aDeletedLastEventIsReportedEvenWhenItsSessionHeadIsRewound() throws Exception {
        tamper("DELETE FROM audit_event WHERE session_id = '" + bob + "' AND seq = 5",
                "UPDATE audit_session SET last_seq = 4, last_hash = (SELECT hash FROM audit_event WHERE session_id = '"
                        + bob + "' AND seq = 4) WHERE id = '" + bob + "'");

        assertThat(AuditVerifier.verify(store).problems()).extracting(Problem::kind)
                .containsExactly(Kind.GLOBAL_GAP); // bob's seq 5 was the newest event of the store
    }

    @Test
    void aWhollyDeletedSessionIsReported() throws Exception {
        tamper("DELETE FROM audit_event WHERE session_id = '" + bob + "'", "DELETE FROM audit_session WHERE id = '" + bob + "'");

        VerifyReport report = AuditVerifier.verify(store);
        assertThat(report.ok()).isFalse();
        assertThat(report.problems()).extracting(Problem::kind).contains(Kind.GLOBAL_GAP);
        assertThat(report.summary()).startsWith("FAILED:");
    }

    @Test
    void aDeletedSessionRowIsReportedByItsRemainingEvents() throws Exception {
        tamper("DELETE FROM audit_session WHERE id = '" + bob + "'");

        assertThat(AuditVerifier.verify(store).problems()).extracting(Problem::kind, Problem::sessionId)
                .containsExactly(org.assertj.core.groups.Tuple.tuple(Kind.SESSION_DELETED, bob));
    }
}
