package dev.portcullis.recording;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.portcullis.store.AuditStoreException;
import dev.portcullis.store.EmbeddedStore;
import dev.portcullis.store.NewEvent;
import dev.portcullis.store.NewSession;
import dev.portcullis.store.StoredEvent;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The chains are computed in recording and continue across batches, sessions, writers and restarts. */
class AuditChainTest {
    static final Instant T0 = Instant.parse("2026-12-03T09:00:00.123456789Z");

    @TempDir
    Path dir;

    static NewSession session(String id) {
        return new NewSession(id, "agent", "jti", "okta", "http", "127.0.0.1", T0);
    }

    static NewEvent event(String session, String payload) {
        return new NewEvent(session, T0, "PC2000", payload, false);
    }

    @Test
    void batchesAcrossSessionsAndARestartFormChainsTheVerifierAccepts() {
        Path file = dir.resolve("chain.db");
        try (EmbeddedStore store = EmbeddedStore.open(file)) {
            AuditChain chain = new AuditChain(store);
            List<NewSession> sessions = List.of(session("a"), session("b"));
            List<StoredEvent> first = store.append(sessions, chain.link(sessions, List.of(event("a", "1"), event("b", "1"))));
            chain.appended();
            List<StoredEvent> second = store.append(List.of(), chain.link(List.of(), List.of(event("a", "2"), event("b", "2"))));
            chain.appended();
            assertThat(second.get(0).prevHash()).isEqualTo(first.get(0).hash());
            assertThat(second.get(0).hash()).isEqualTo(ChainHash.event(first.get(0).hash(), "a", 2, second.get(0).recordedAt(),
                    "PC2000", "2"));
            assertThat(second.get(1).globalPrevHash()).isEqualTo(second.get(0).globalHash());
        }
        try (EmbeddedStore store = EmbeddedStore.open(file)) {
            // A new writer after a restart links from what the store holds.
            StoredEvent third = store.append(List.of(), new AuditChain(store).link(List.of(), List.of(event("a", "3")))).getFirst();
            assertThat(third.seq()).isEqualTo(3);
            assertThat(third.globalSeq()).isEqualTo(5);
            assertThat(AuditVerifier.verify(store).ok()).isTrue();
        }
    }

    @Test
    void afterAnotherWriterAppendedTheRefusedChainRelinksFromTheStore() {
        try (EmbeddedStore store = EmbeddedStore.open(dir.resolve("two.db"))) {
            AuditChain mine = new AuditChain(store);
            store.append(List.of(session("a")), mine.link(List.of(session("a")), List.of(event("a", "1"))));
            mine.appended();
            store.append(List.of(), new AuditChain(store).link(List.of(), List.of(event("a", "theirs"))));

            assertThatThrownBy(() -> store.append(List.of(), mine.link(List.of(), List.of(event("a", "mine")))))
                    .isInstanceOf(AuditStoreException.class);
            mine.forget();
            store.append(List.of(), mine.link(List.of(), List.of(event("a", "mine"))));
            mine.appended();

            assertThat(store.events("a")).extracting(StoredEvent::payload).containsExactly("1", "theirs", "mine");
            assertThat(AuditVerifier.verify(store).ok()).isTrue();
        }
    }
}
