package dev.portcullis.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.portcullis.core.Identity;
import dev.portcullis.recording.AuditEvent;
import dev.portcullis.recording.AuditVerifier;
import dev.portcullis.recording.ConnectionSession;
import dev.portcullis.recording.DurableRecorder;
import dev.portcullis.recording.VerifyReport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.time.Instant;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The gateway's store: the trail in front of the SQLite index. Events are produced by the real
 * recorder, so the chains are the ones a gateway writes.
 */
class LoggedStoreTest {
    private static final Identity AGENT = new Identity("agent-7", Set.of("agents"), "jti-7", "client", "https://idp",
            Map.of(), Instant.MAX);

    @TempDir
    Path dir;

    /** Records a session with {@code operations} events (start + end included) and returns its id. */
    private static String record(AuditStore store, int operations) {
        try (DurableRecorder recorder = new DurableRecorder(store, Clock.systemUTC())) {
            ConnectionSession s = recorder.openSession(AGENT, "db", "postgres", "127.0.0.1");
            for (int i = 0; i < operations; i++) {
                s.record(new AuditEvent.AuthFailed("db", "postgres", "127.0.0.1", "test", "event " + i));
            }
            s.end("done");
            return s.sessionId();
        }
    }

    private static VerifyReport verify(Path db) {
        try (AuditStore reader = LoggedStore.openForReading(db)) {
            return AuditVerifier.verify(reader);
        }
    }

    @Test
    void eventsInTheTrailThatTheIndexNeverGotAreIndexedOnTheNextOpen() throws Exception {
        Path db = dir.resolve("audit.db");
        String first;
        try (LoggedStore store = LoggedStore.open(db)) {
            first = record(store, 3);
        }
        // The index as it was before the second session: as if the process died before indexing it.
        Path saved = dir.resolve("saved.db");
        Files.copy(db, saved);
        String second;
        try (LoggedStore store = LoggedStore.open(db)) {
            second = record(store, 4);
        }
        Files.copy(saved, db, StandardCopyOption.REPLACE_EXISTING);
        Files.deleteIfExists(dir.resolve("audit.db-wal"));
        Files.deleteIfExists(dir.resolve("audit.db-shm"));
        try (EmbeddedStore index = EmbeddedStore.open(db)) {
            assertThat(index.events(second)).isEmpty(); // the premise: the index lacks them
        }

        try (LoggedStore store = LoggedStore.open(db)) {
            assertThat(store.events(first)).hasSize(5);
            assertThat(store.events(second)).hasSize(6);
            assertThat(AuditVerifier.verify(store).ok()).isTrue();
            record(store, 1); // and the chain goes on from there
        }
        VerifyReport report = verify(db);
        assertThat(report.ok()).as(report.summary()).isTrue();
        assertThat(report.events()).isEqualTo(5 + 6 + 3);
    }

    @Test
    void aSecondWriterOfTheSameTrailIsRefused() {
        Path db = dir.resolve("audit.db");
        try (LoggedStore store = LoggedStore.open(db)) {
            assertThatThrownBy(() -> LoggedStore.open(db))
                    .isInstanceOf(AuditStoreException.class)
                    .hasMessageContaining("in use by another gateway process");
            record(store, 1);
        }
        try (LoggedStore again = LoggedStore.open(db)) { // released on close
            assertThat(again.head().lastGlobalSeq()).isEqualTo(3);
        }
    }

    @Test
    void aReaderBesideTheWriterSeesEveryEventAppendedBeforeItOpened() {
        Path db = dir.resolve("audit.db");
        try (LoggedStore store = LoggedStore.open(db)) {
            String id = record(store, 50);
            // The indexer gathers for up to 200 ms; the reader must not see a shorter trail meanwhile.
            try (AuditStore reader = LoggedStore.openForReading(db)) {
                assertThat(reader.events(id)).hasSize(52);
                assertThat(AuditVerifier.verify(reader).ok()).isTrue();
            }
            assertThat(store.events(id)).hasSize(52);
        }
    }

    @Test
    void closedSegmentsAreDeletedOnceIndexedAndTheTrailStillVerifies() throws Exception {
        Path db = dir.resolve("audit.db");
        try (LoggedStore store = LoggedStore.open(db, 1)) { // every append starts a segment
            record(store, 10);
        }
        assertThat(TrailLog.segments(LoggedStore.trailDirectory(db))).hasSize(1);
        try (LoggedStore store = LoggedStore.open(db, 1)) {
            record(store, 2);
        }
        VerifyReport report = verify(db);
        assertThat(report.ok()).as(report.summary()).isTrue();
        assertThat(report.events()).isEqualTo(12 + 4);
    }

    @Test
    void aTrailMissingEventsTheIndexNeverHadRefusesToOpen() throws Exception {
        Path db = dir.resolve("audit.db");
        Path empty = dir.resolve("empty.db");
        try (LoggedStore store = LoggedStore.open(db, 1)) {
            Files.copy(db, empty);
            record(store, 10);
        }
        // An index from before those events, and a trail whose indexed segments are gone: events are missing.
        Files.copy(empty, db, StandardCopyOption.REPLACE_EXISTING);
        Files.deleteIfExists(dir.resolve("audit.db-wal"));
        Files.deleteIfExists(dir.resolve("audit.db-shm"));
        assertThatThrownBy(() -> LoggedStore.open(db, 1))
                .isInstanceOf(AuditStoreException.class)
                .hasMessageContaining("lacks events 1 to")
                .hasMessageContaining("refusing to open");
    }
}
