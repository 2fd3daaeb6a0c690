package dev.portcullis.recording;

import dev.portcullis.testing.MutableClock;

import static dev.portcullis.recording.Fixtures.T0;
import static dev.portcullis.recording.Fixtures.allowed;
import static dev.portcullis.recording.Fixtures.identity;
import static dev.portcullis.recording.Fixtures.refused;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.portcullis.store.EmbeddedStore;
import dev.portcullis.store.SessionQuery;
import dev.portcullis.store.SessionSummary;
import dev.portcullis.store.StoredEvent;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DurableRecorderTest {

    @TempDir
    Path dir;

    private final MutableClock clock = new MutableClock(T0);
    private EmbeddedStore store;
    private DurableRecorder recorder;

    @BeforeEach
    void open() {
        store = EmbeddedStore.open(dir.resolve("audit/audit.db"), Duration.ofMillis(300));
        recorder = new DurableRecorder(store, clock);
    }

    @AfterEach
    void close() {
        recorder.close();
        store.close();
    }

    @Test
    void aSessionsEventsComeBackAsRecordedInOrder() {
        AuditEvent.OperationRecorded op1 = allowed("/api/v1/users", 200);
        AuditEvent.OperationRecorded op2 = refused("/api/v1/users/00u1");
        String id;
        try (ConnectionSession session = recorder.openSession(identity("alice", "jti-1"), "okta", "http", "10.0.0.5")) {
            id = session.sessionId();
            session.record(op1);
            clock.advance(Duration.ofSeconds(1));
            session.record(op2);
        }

        List<StoredEvent> stored = store.events(id);
        assertThat(stored).extracting(StoredEvent::seq).containsExactly(1L, 2L, 3L, 4L);
        assertThat(stored.stream().map(e -> AuditJson.read(e.code(), e.payload())).toList()).containsExactly(
                AuditEvent.SessionStarted.of(identity("alice", "jti-1"), "okta", "http", "10.0.0.5"),
                op1, op2, new AuditEvent.SessionEnded("closed"));
        for (int i = 1; i < stored.size(); i++) {
            assertThat(stored.get(i).prevHash()).isEqualTo(stored.get(i - 1).hash());
        }
        SessionSummary summary = store.sessions(SessionQuery.newest()).getFirst();
        assertThat(summary.subject()).isEqualTo("alice");
        assertThat(summary.eventCount()).isEqualTo(4);
        assertThat(summary.refusedCount()).isEqualTo(1);
        assertThat(summary.lastEventAt()).isEqualTo(T0.plusSeconds(1));
        assertThat(AuditVerifier.verify(store).ok()).isTrue();
    }

    @Test
    void concurrentWritersShareCommitsAndNoEventIsLost() throws Exception {
        int writers = 32;
        int eventsEach = 200;
        List<String> ids = new ArrayList<>();
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<String>> futures = new ArrayList<>();
            for (int w = 0; w < writers; w++) {
                int n = w;
                futures.add(pool.submit(() -> {
                    ConnectionSession s = recorder.openSession(identity("agent-" + n, "jti-" + n), "pg", "sql", "10.0.0.9");
                    for (int i = 0; i < eventsEach; i++) s.record(allowed("/item/" + i, 200));
                    return s.sessionId();
                }));
            }
            for (Future<String> f : futures) ids.add(f.get());
        }

        for (String id : ids) {
            assertThat(store.events(id)).extracting(StoredEvent::seq)
                    .containsExactlyElementsOf(Stream.iterate(1L, i -> i + 1).limit(eventsEach + 1).toList());
        }
        VerifyReport report = AuditVerifier.verify(store);
        assertThat(report.problems()).isEmpty();
        assertThat(report.events()).isEqualTo((long) writers * (eventsEach + 1));
        assertThat(report.sessions()).isEqualTo(writers);
    }

    @Test
    void recordThrowsWhenTheStoreIsClosed() {
        ConnectionSession session = recorder.openSession(identity("alice", "jti-1"), "okta", "http", "10.0.0.5");
        store.close();

        assertThatThrownBy(() -> session.record(allowed("/x", 200)))
                .isInstanceOf(RecordingFailedException.class).hasMessageContaining("closed");
        assertThatThrownBy(() -> recorder.openSession(identity("bob", "jti-2"), "okta", "http", "10.0.0.5"))
                .isInstanceOf(RecordingFailedException.class);
    }

    @Test
    void recordThrowsWhenTheStoreCannotBeWritten() throws Exception {
        ConnectionSession session = recorder.openSession(identity("alice", "jti-1"), "okta", "http", "10.0.0.5");
        // Another process holds the write lock past the busy timeout: the store cannot make the event durable.
        try (Connection other = DriverManager.getConnection("jdbc:sqlite:" + store.file());
             Statement st = other.createStatement()) {
            st.execute("BEGIN EXCLUSIVE");
            assertThatThrownBy(() -> session.record(allowed("/x", 200)))
                    .isInstanceOf(RecordingFailedException.class).hasMessageContaining("not recorded");
            st.execute("ROLLBACK");
        }
        session.record(allowed("/y", 200)); // recovers once the store answers again
        assertThat(store.events(session.sessionId())).hasSize(2);
    }

    @Test
    void closeWritesEverythingQueuedAndLaterRecordsThrow() throws Exception {
        ConnectionSession session = recorder.openSession(identity("alice", "jti-1"), "okta", "http", "10.0.0.5");
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            threads.add(Thread.ofVirtual().start(() -> session.record(allowed("/x", 200))));
        }
        for (Thread t : threads) t.join();
        recorder.close();

        assertThat(store.events(session.sessionId())).hasSize(51);
        assertThatThrownBy(() -> session.record(allowed("/late", 200)))
                .isInstanceOf(RecordingFailedException.class).hasMessageContaining("closed");
    }

    @Test
    void httpCallsShareASessionUntilItHasBeenIdleForTheTimeout() {
        recorder.close();
        recorder = new DurableRecorder(store, clock, DurableRecorder.Settings.defaults()
                .withHttpIdleTimeout(Duration.ofMinutes(10)));

        SessionRecorder first = recorder.sessionFor(identity("alice", "jti-1"), "okta", "http", "10.0.0.5");
        first.record(allowed("/a", 200));
        clock.advance(Duration.ofMinutes(9));
        SessionRecorder again = recorder.sessionFor(identity("alice", "jti-1"), "okta", "http", "10.0.0.6");
        clock.advance(Duration.ofMinutes(9)); // 18 min since the start, but only 9 since last use
        SessionRecorder stillSame = recorder.sessionFor(identity("alice", "jti-1"), "okta", "http", "10.0.0.5");

        assertThat(again.sessionId()).isEqualTo(first.sessionId());
        assertThat(stillSame.sessionId()).isEqualTo(first.sessionId());

        SessionRecorder otherToken = recorder.sessionFor(identity("alice", "jti-2"), "okta", "http", "10.0.0.5");
        SessionRecorder otherConnection = recorder.sessionFor(identity("alice", "jti-1"), "github", "http", "10.0.0.5");
        assertThat(otherToken.sessionId()).isNotEqualTo(first.sessionId());
        assertThat(otherConnection.sessionId()).isNotEqualTo(first.sessionId());

        clock.advance(Duration.ofMinutes(10));
        SessionRecorder afterIdle = recorder.sessionFor(identity("alice", "jti-1"), "okta", "http", "10.0.0.5");
        assertThat(afterIdle.sessionId()).isNotEqualTo(first.sessionId());
        assertThat(store.sessions(SessionQuery.newest().subject("alice"))).hasSize(4);
    }

    @Test
    void authFailuresAreRecordedPerClientWithoutTheToken() throws Exception {
        String token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLXNhbXBsZQ";
        recorder.recordAuthFailure(new AuditEvent.AuthFailed("okta", "http", "10.0.0.7", "expired",
                "token " + token + " expired at 09:00"));
        recorder.recordAuthFailure(new AuditEvent.AuthFailed("okta", "http", "10.0.0.7", "bad-signature",
                "Authorization: Bearer " + token));
        recorder.recordAuthFailure(new AuditEvent.AuthFailed("okta", "http", "10.0.0.8", "missing", "no token"));
        recorder.close();
        store.close();

        try (EmbeddedStore reopened = EmbeddedStore.open(store.file())) {
            List<SessionSummary> sessions = reopened.sessions(SessionQuery.newest());
            assertThat(sessions).hasSize(2).allSatisfy(s -> assertThat(s.authenticated()).isFalse());
            SessionSummary first = sessions.stream().filter(s -> s.clientAddress().equals("10.0.0.7")).findFirst().orElseThrow();
            assertThat(first.eventCount()).isEqualTo(3);
            assertThat(first.refusedCount()).isEqualTo(2);
            assertThat(new Replay(reopened, java.time.ZoneOffset.UTC).text(first.id()))
                    .contains("authentication failed (expired) on okta from 10.0.0.7")
                    .contains("token [redacted] expired at 09:00");
        }
        String signature = token.substring(token.lastIndexOf('.') + 1);
        try (Stream<Path> files = Files.list(store.file().getParent())) {
            for (Path f : files.toList()) {
                String bytes = new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1);
                assertThat(bytes).as(f.toString()).doesNotContain(token).doesNotContain(signature);
            }
        }
    }
}
