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
    void reopeningKeepsTheEventsAndContinuesBothChains() {
        Path file = dir.resolve("audit.db");
        StoredEvent first;
        try (EmbeddedStore store = EmbeddedStore.open(file)) {
            first = append(store, List.of(session("s1", "alice", "okta", T0)), List.of(event("s1", T0, "{}"))).getFirst();
        }
        try (EmbeddedStore store = EmbeddedStore.open(file)) {
            StoredEvent second = append(store, List.of(), List.of(event("s1", T0.plusSeconds(1), "{\"n\":2}"))).getFirst();
            assertThat(second.seq()).isEqualTo(2);
            assertThat(second.globalSeq()).isEqualTo(2);
            assertThat(second.prevHash()).isEqualTo(first.hash());
            assertThat(second.globalPrevHash()).isEqualTo(first.globalHash());
            assertThat(store.events("s1")).hasSize(2);
        }
    }

    @Test
    void appendNumbersEventsPerSessionAndGloballyAndChainsTheirHashes() {
        try (EmbeddedStore store = EmbeddedStore.open(dir.resolve("audit.db"))) {
            List<StoredEvent> stored = append(store, 
                    List.of(session("s1", "alice", "okta", T0), session("s2", "bob", "okta", T0)),
                    List.of(event("s1", T0, "{\"n\":1}"), event("s2", T0, "{\"n\":1}"), event("s1", T0, "{\"n\":2}")));

            assertThat(stored).extracting(StoredEvent::seq).containsExactly(1L, 1L, 2L);
            assertThat(stored).extracting(StoredEvent::globalSeq).containsExactly(1L, 2L, 3L);
            StoredEvent a1 = stored.get(0);
            StoredEvent a2 = stored.get(2);
            assertThat(a1.prevHash()).isEqualTo(dev.portcullis.recording.ChainHash.GENESIS);
            assertThat(a2.prevHash()).isEqualTo(a1.hash());
            assertThat(a2.hash()).isEqualTo(dev.portcullis.recording.ChainHash.event(a1.hash(), "s1", 2, a2.recordedAt(), "PC2000", "{\"n\":2}"));
            assertThat(a2.globalHash()).isEqualTo(dev.portcullis.recording.ChainHash.global(stored.get(1).globalHash(), 3, a2.hash()));
            assertThat(a1.recordedAt()).isEqualTo(Instant.parse("2026-11-23T09:00:00.123456Z"));

            assertThat(store.events("s1")).containsExactly(a1, a2);
            SessionSummary s1 = store.sessions(SessionQuery.newest().subject("alice")).getFirst();
            assertThat(s1.eventCount()).isEqualTo(2);
            assertThat(s1.headHash()).isEqualTo(a2.hash());
        }
    }

    @Test
    void aBatchWithAnUnknownSessionFailsWholeAndStoresNothing() {
        try (EmbeddedStore store = EmbeddedStore.open(dir.resolve("audit.db"))) {
            append(store, List.of(session("s1", "alice", "okta", T0)), List.of(event("s1", T0, "{}")));

            assertThatThrownBy(() -> append(store, List.of(),
                    List.of(event("s1", T0, "{\"n\":2}"), event("nope", T0, "{}"))))
                    .isInstanceOf(AuditStoreException.class).hasMessageContaining("no audit session nope");

            assertThat(store.events("s1")).hasSize(1);
            assertThat(append(store, List.of(), List.of(event("s1", T0, "{}"))).getFirst().seq()).isEqualTo(2);
        }
    }

    @Test
    void aClosedStoreThrowsInsteadOfDroppingEvents() {
        EmbeddedStore store = EmbeddedStore.open(dir.resolve("audit.db"));
        append(store, List.of(session("s1", "alice", "okta", T0)), List.of(event("s1", T0, "{}")));
        store.close();

        assertThatThrownBy(() -> append(store, List.of(), List.of(event("s1", T0, "{}"))))
                .isInstanceOf(AuditStoreException.class).hasMessageContaining("closed");
        assertThatThrownBy(() -> store.events("s1")).isInstanceOf(AuditStoreException.class);
    }

    @Test
    void anUnopenableFileFailsAtOpen() throws Exception {
        Path notADirectory = dir.resolve("file");
        Files.writeString(notADirectory, "x");
        assertThatThrownBy(() -> EmbeddedStore.open(notADirectory.resolve("audit.db")))
                .isInstanceOf(AuditStoreException.class);
    }

    @Test
    void sessionsAreFilteredBySubjectConnectionAndTimeNewestFirst() {
        try (EmbeddedStore store = EmbeddedStore.open(dir.resolve("audit.db"))) {
            append(store, List.of(session("old", "alice", "okta", T0), session("mid", "bob", "okta", T0.plusSeconds(60)),
                            session("new", "alice", "pg", T0.plusSeconds(120))),
                    List.of(new NewEvent("old", T0, "PC1000", "{}", false),
                            new NewEvent("mid", T0.plusSeconds(60), "PC1000", "{}", false),
                            new NewEvent("mid", T0.plusSeconds(61), "PC2000", "{}", true),
                            new NewEvent("new", T0.plusSeconds(120), "PC1000", "{}", false)));

            assertThat(store.sessions(SessionQuery.newest())).extracting(SessionSummary::id)
                    .containsExactly("new", "mid", "old");
            assertThat(store.sessions(SessionQuery.newest().subject("alice"))).extracting(SessionSummary::id)
                    .containsExactly("new", "old");
            assertThat(store.sessions(SessionQuery.newest().connection("okta"))).extracting(SessionSummary::id)
                    .containsExactly("mid", "old");
            assertThat(store.sessions(SessionQuery.newest().between(T0.plusSeconds(30), T0.plusSeconds(90))))
                    .extracting(SessionSummary::id).containsExactly("mid");
            assertThat(store.sessions(SessionQuery.newest().limit(1))).extracting(SessionSummary::id)
                    .containsExactly("new");
            SessionSummary mid = store.sessions(SessionQuery.newest().subject("bob")).getFirst();
            assertThat(mid.eventCount()).isEqualTo(2);
            assertThat(mid.refusedCount()).isEqualTo(1);
            assertThat(mid.lastEventAt()).isEqualTo(T0.plusSeconds(61).truncatedTo(ChronoUnit.MICROS));
        }
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

    /** Appends as the recorder does: the chain is linked by recording.AuditChain, from the heads the store holds. */
    static List<StoredEvent> append(AuditStore store, List<NewSession> sessions, List<NewEvent> events, boolean sync) {
        return store.append(sessions, new dev.portcullis.recording.AuditChain(store).link(sessions, events), sync);
    }

    static List<StoredEvent> append(AuditStore store, List<NewSession> sessions, List<NewEvent> events) {
        return append(store, sessions, events, true);
    }

    @Test
    void anAppendThatDoesNotContinueTheChainsIsRefusedWholeAndWritesNothing() {
        try (EmbeddedStore store = EmbeddedStore.open(dir.resolve("fork.db"))) {
            append(store, List.of(session("s1", "alice", "okta", T0)), List.of(event("s1", T0, "{}")));
            // Two writers link from the same heads; the second to append would fork both chains.
            var first = new dev.portcullis.recording.AuditChain(store).link(List.of(), List.of(event("s1", T0, "{\"w\":1}")));
            var second = new dev.portcullis.recording.AuditChain(store).link(List.of(), List.of(event("s1", T0, "{\"w\":2}")));
            store.append(List.of(), first);

            assertThatThrownBy(() -> store.append(List.of(), second)).isInstanceOf(AuditStoreException.class)
                    .hasMessageContaining("does not continue its chain");
            assertThat(store.events("s1")).extracting(StoredEvent::payload).containsExactly("{}", "{\"w\":1}");

            // Hashes that do not follow are refused too, even with the right numbers: a link names its predecessor.
            var link = second.getFirst().link();
            var forged = new LinkedEvent(second.getFirst().event(), new ChainLink(3, "f".repeat(64), link.hash(), 3,
                    store.head().lastGlobalHash(), link.globalHash()));
            assertThatThrownBy(() -> store.append(List.of(), List.of(forged))).isInstanceOf(AuditStoreException.class);
            var wrongGlobal = new LinkedEvent(second.getFirst().event(), new ChainLink(3, store.events("s1").getLast().hash(),
                    link.hash(), 3, "e".repeat(64), link.globalHash()));
            assertThatThrownBy(() -> store.append(List.of(), List.of(wrongGlobal))).isInstanceOf(AuditStoreException.class)
                    .hasMessageContaining("global chain");
            assertThat(store.events("s1")).hasSize(2);
            assertThat(dev.portcullis.recording.AuditVerifier.verify(store).ok()).isTrue();
        }
    }
}
