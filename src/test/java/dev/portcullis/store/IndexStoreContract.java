package dev.portcullis.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What every index store guarantees, run against both: the embedded SQLite file and PostgreSQL (a real
 * server), in EmbeddedIndexStoreTest and PostgresIndexStoreTest. Numbering and hashing of both chains, batches refused whole, sessions queried, a closed store
 * that throws rather than drops.
 */
abstract class IndexStoreContract {
    static final Instant T0 = Instant.parse("2026-11-23T09:00:00.123456789Z");

    @TempDir
    Path dir;

    /** Opens the store called {@code name}; opening the same name again opens the same store. */
    abstract IndexStore open(String name);

    private static NewSession session(String id, String subject, String connection, Instant at) {
        return new NewSession(id, subject, "jti-" + id, connection, "http", "10.0.0.1", at);
    }

    private static NewEvent event(String sessionId, Instant at, String payload) {
        return new NewEvent(sessionId, at, "PC2000", payload, false);
    }

    @Test
    void reopeningKeepsTheEventsAndContinuesBothChains() {
        StoredEvent first;
        try (IndexStore store = open("audit")) {
            first = EmbeddedStoreTest.append(store, List.of(session("s1", "alice", "okta", T0)), List.of(event("s1", T0, "{}"))).getFirst();
        }
        try (IndexStore store = open("audit")) {
            StoredEvent second = EmbeddedStoreTest.append(store, List.of(), List.of(event("s1", T0.plusSeconds(1), "{\"n\":2}"))).getFirst();
            assertThat(second.seq()).isEqualTo(2);
            assertThat(second.globalSeq()).isEqualTo(2);
            assertThat(second.prevHash()).isEqualTo(first.hash());
            assertThat(second.globalPrevHash()).isEqualTo(first.globalHash());
            assertThat(store.events("s1")).hasSize(2);
        }
    }

    /** Text of every width UTF-8 has: what an agent's SQL or a masked body may put in a payload. */
    static final String WIDE_PAYLOAD = "{\"sql\":\"SELECT 'Zürich', 'Ωμέγα', '東京', '😀' -- \\\"quoted\\\"\"}";

    @Test
    void payloadsAndDigestsAreStoredExactlyAsGivenInEveryWidthOfUtf8() {
        try (IndexStore store = open("audit")) {
            StoredEvent stored = EmbeddedStoreTest.append(store, List.of(session("s1", "alice", "okta", T0)),
                    List.of(event("s1", T0, WIDE_PAYLOAD))).getFirst();
            assertThat(store.events("s1")).containsExactly(stored);
            assertThat(store.events("s1").getFirst().payload()).isEqualTo(WIDE_PAYLOAD);
            assertThat(stored.hash()).isEqualTo(dev.portcullis.recording.ChainHash.event(ChainHead.GENESIS, "s1", 1,
                    stored.recordedAt(), "PC2000", WIDE_PAYLOAD));
        }
    }

    @Test
    void appendNumbersEventsPerSessionAndGloballyAndChainsTheirHashes() {
        try (IndexStore store = open("audit")) {
            List<StoredEvent> stored = EmbeddedStoreTest.append(store, 
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
        try (IndexStore store = open("audit")) {
            EmbeddedStoreTest.append(store, List.of(session("s1", "alice", "okta", T0)), List.of(event("s1", T0, "{}")));

            assertThatThrownBy(() -> EmbeddedStoreTest.append(store, List.of(),
                    List.of(event("s1", T0, "{\"n\":2}"), event("nope", T0, "{}"))))
                    .isInstanceOf(AuditStoreException.class).hasMessageContaining("no audit session nope");

            assertThat(store.events("s1")).hasSize(1);
            assertThat(EmbeddedStoreTest.append(store, List.of(), List.of(event("s1", T0, "{}"))).getFirst().seq()).isEqualTo(2);
        }
    }

    /** More events than the embedded store inserts between two yields, so a batch spans several of its slices. */
    @Test
    void aBatchLongerThanOneSliceIsStoredWholeInOrderOrNotAtAll() {
        int n = 2 * AuditAppend.YIELD_EVERY + 5;
        java.util.ArrayList<NewEvent> events = new java.util.ArrayList<>();
        for (int i = 0; i < n; i++) events.add(event(i % 3 == 0 ? "s2" : "s1", T0.plusMillis(i), "{\"i\":" + i + "}"));
        try (IndexStore store = open("audit")) {
            List<NewSession> sessions = List.of(session("s1", "alice", "okta", T0), session("s2", "bob", "okta", T0));
            java.util.ArrayList<NewEvent> failing = new java.util.ArrayList<>(events);
            failing.add(event("nope", T0, "{}")); // after the slices already sent: the whole batch is refused
            assertThatThrownBy(() -> EmbeddedStoreTest.append(store, sessions, failing))
                    .isInstanceOf(AuditStoreException.class).hasMessageContaining("no audit session nope");
            assertThat(store.sessions(SessionQuery.newest())).isEmpty();
            assertThat(store.head().lastGlobalSeq()).isZero();

            List<StoredEvent> stored = EmbeddedStoreTest.append(store, sessions, events);
            assertThat(store.head().lastGlobalSeq()).isEqualTo(n);
            List<StoredEvent> s1 = store.events("s1");
            List<StoredEvent> s2 = store.events("s2");
            assertThat(s1.size() + s2.size()).isEqualTo(n);
            assertThat(s1).extracting(StoredEvent::seq).isSorted().first().isEqualTo(1L);
            assertThat(s1.getLast().seq()).isEqualTo(s1.size());
            assertThat(stored).extracting(StoredEvent::globalSeq).containsExactlyElementsOf(
                    java.util.stream.LongStream.rangeClosed(1, n).boxed().toList());
            for (int i = 1; i < stored.size(); i++) {
                assertThat(stored.get(i).globalPrevHash()).isEqualTo(stored.get(i - 1).globalHash());
            }
            assertThat(s1).containsExactlyElementsOf(stored.stream().filter(e -> e.sessionId().equals("s1")).toList());
        }
    }

    @Test
    void aClosedStoreThrowsInsteadOfDroppingEvents() {
        IndexStore store = open("audit");
        EmbeddedStoreTest.append(store, List.of(session("s1", "alice", "okta", T0)), List.of(event("s1", T0, "{}")));
        store.close();

        assertThatThrownBy(() -> EmbeddedStoreTest.append(store, List.of(), List.of(event("s1", T0, "{}"))))
                .isInstanceOf(AuditStoreException.class).hasMessageContaining("closed");
        assertThatThrownBy(() -> store.events("s1")).isInstanceOf(AuditStoreException.class);
    }

    @Test
    void sessionsAreFilteredBySubjectConnectionAndTimeNewestFirst() {
        try (IndexStore store = open("audit")) {
            EmbeddedStoreTest.append(store, List.of(session("old", "alice", "okta", T0), session("mid", "bob", "okta", T0.plusSeconds(60)),
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
    void anAppendThatDoesNotContinueTheChainsIsRefusedWholeAndWritesNothing() {
        try (IndexStore store = open("fork")) {
            EmbeddedStoreTest.append(store, List.of(session("s1", "alice", "okta", T0)), List.of(event("s1", T0, "{}")));
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
