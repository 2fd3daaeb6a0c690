package dev.portcullis.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EmbeddedStoreTest {

    private static final Instant T0 = Instant.parse("2026-11-23T09:00:00.123456789Z");

    @TempDir
    Path dir;

    private static NewSession session(String id, String subject, String connection, Instant at) {
        return new NewSession(id, subject, "jti-" + id, connection, "http", "10.0.0.1", at);
    }

    private static NewEvent event(String sessionId, Instant at, String payload) {
        return new NewEvent(sessionId, at, "PC2000", payload, false);
    }

    @Test
    void openCreatesParentDirectoriesAndAppliesTheMigrationsInWalMode() throws Exception {
        Path file = dir.resolve("a/b/audit.db");
        try (EmbeddedStore store = EmbeddedStore.open(file)) {
            assertThat(store.file()).exists();
        }
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file); Statement st = c.createStatement()) {
            try (ResultSet rs = st.executeQuery("SELECT MAX(version) FROM schema_version")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getInt(1)).isEqualTo(Migrations.ALL.getLast().version());
            }
            try (ResultSet rs = st.executeQuery("PRAGMA journal_mode")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getString(1)).isEqualToIgnoringCase("wal");
            }
        }
    }

    @Test
    void batchesForcedToDiskAndBatchesOnlyFlushedInterleaveIntoOneIntactChain() {
        Instant t = Instant.parse("2026-11-23T10:00:00Z");
        try (EmbeddedStore store = EmbeddedStore.open(dir.resolve("sync.db"))) {
            append(store, List.of(session("s", "alice", "okta", t)), List.of(), true);
            for (int i = 0; i < 10; i++) {
                append(store, List.of(), List.of(event("s", t.plusSeconds(i), "{\"i\":" + i + "}")), i % 3 == 0);
            }
            assertThat(store.events("s")).extracting(StoredEvent::seq).containsExactly(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L, 10L);
            assertThat(dev.portcullis.recording.AuditVerifier.verify(store).ok()).isTrue();
        }
    }

    @Test
    void anUnopenableFileFailsAtOpen() throws Exception {
        Path notADirectory = dir.resolve("file");
        Files.writeString(notADirectory, "x");
        assertThatThrownBy(() -> EmbeddedStore.open(notADirectory.resolve("audit.db")))
                .isInstanceOf(AuditStoreException.class);
    }

    @Test
    void anotherConnectionReadsWhileTheWriterWrites() throws Exception {
        Path file = dir.resolve("audit.db");
        try (EmbeddedStore store = EmbeddedStore.open(file)) {
            append(store, List.of(session("s1", "alice", "okta", T0)), List.of());
            AtomicBoolean done = new AtomicBoolean();
            Thread writer = Thread.ofPlatform().start(() -> {
                for (int i = 0; i < 200; i++) append(store, List.of(), List.of(event("s1", T0, "{\"n\":" + i + "}")));
                done.set(true);
            });
            List<Long> seen = new ArrayList<>();
            // Like the CLI in another process: its own plain JDBC connection.
            try (Connection cli = DriverManager.getConnection("jdbc:sqlite:" + file)) {
                while (!done.get()) {
                    try (Statement st = cli.createStatement();
                         ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM audit_event")) {
                        rs.next();
                        seen.add(rs.getLong(1));
                    }
                }
                writer.join();
                try (Statement st = cli.createStatement();
                     ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM audit_event")) {
                    rs.next();
                    assertThat(rs.getLong(1)).isEqualTo(200);
                }
            }
            assertThat(seen).isNotEmpty().isSorted();
        }
    }

    /** The scheduling policy of thread {@code tid} of this process, as the kernel reports it (0 normal, 5 idle). */
    private static int policy(int tid) throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/self/task/" + tid + "/sched"))) {
            if (line.startsWith("policy")) return Integer.parseInt(line.substring(line.indexOf(':') + 1).trim());
        }
        throw new AssertionError("no policy for thread " + tid);
    }

    @Test
    void theWriteAheadLogIsCopiedIntoTheFileByAnIdleThreadLongBeforeTheWriterWould() throws Exception {
        Path file = dir.resolve("checkpoint.db");
        String payload = "{\"body\":\"" + "x".repeat(1000) + "\"}";
        int tid;
        try (EmbeddedStore store = EmbeddedStore.open(file)) {
            Thread.sleep(300);
            assertThat(store.checkpointThreadId()).as("started by the first append, not by a reader's open").isZero();
            long before = Files.size(file);
            List<NewEvent> events = new ArrayList<>();
            for (int i = 0; i < 200; i++) events.add(event("s", T0, payload));
            append(store, List.of(session("s", "alice", "okta", T0)), events, false);
            // ~250 KB of pages in the log: far below the writer's own threshold, so only the thread copies them.
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (Files.size(file) < before + 200_000 && System.nanoTime() < deadline) Thread.sleep(20);
            assertThat(Files.size(file)).as("the events' pages are in the database file itself").isGreaterThan(before + 200_000);
            tid = store.checkpointThreadId();
            assertThat(tid).isPositive();
            assertThat(Files.readString(Path.of("/proc/self/task/" + tid + "/comm")).trim()).isEqualTo("audit-checkpoin");
            assertThat(policy(tid)).as("under SCHED_IDLE (5)").isEqualTo(5);
            assertThat(store.events("s")).hasSize(200);
        }
        // close() returns once the Java thread has ended; the kernel removes its task a moment after.
        Path task = Path.of("/proc/self/task/" + tid);
        long gone = System.nanoTime() + 5_000_000_000L;
        while (Files.exists(task) && System.nanoTime() < gone) Thread.sleep(10);
        assertThat(task).as("closing the store ends its thread").doesNotExist();
    }

    /** Appends as the recorder does: the chain is linked by recording.AuditChain, from the heads the store holds. */
    static List<StoredEvent> append(AuditStore store, List<NewSession> sessions, List<NewEvent> events, boolean sync) {
        return store.append(sessions, new dev.portcullis.recording.AuditChain(store).link(sessions, events), sync);
    }

    static List<StoredEvent> append(AuditStore store, List<NewSession> sessions, List<NewEvent> events) {
        return append(store, sessions, events, true);
    }

}
