package dev.portcullis.recording;

import dev.portcullis.store.AuditStore;
import dev.portcullis.store.AuditStoreException;
import dev.portcullis.store.ChainHead;
import dev.portcullis.store.ChainLink;
import dev.portcullis.store.LinkedEvent;
import dev.portcullis.store.NewEvent;
import dev.portcullis.store.NewSession;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The two hash chains, computed where they are defined: each event gets the next number and hash of
 * its session's chain and of the global chain ({@link ChainHash}), continuing the heads the store
 * holds. The store persists what it is given and refuses what does not continue its chains, so a
 * second store implementation does not re-implement the chain, and {@link AuditVerifier} checks it
 * with the same formula.
 *
 * <p>Not thread-safe: one writer links and appends, in order (the recorder's write thread). After a
 * failed append, {@link #forget()} so that the next batch links from what the store really holds.
 */
public final class AuditChain {
    /** Session heads kept between batches; older ones are read back from the store when needed. */
    private static final int MAX_CACHED_SESSIONS = 10_000;

    private record Head(long seq, String hash) {
    }

    private final AuditStore store;
    private ChainHead global;
    private final Map<String, Head> sessions = new LinkedHashMap<>(256, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Head> eldest) {
            return size() > MAX_CACHED_SESSIONS;
        }
    };

    public AuditChain(AuditStore store) {
        this.store = store;
    }

    /**
     * Links a batch: new sessions start their chains at {@link ChainHead#GENESIS}; every event continues
     * its session's chain and the global one. Nothing is remembered until {@link #appended}.
     *
     * @throws AuditStoreException an event's session is neither new nor in the store
     */
    public List<LinkedEvent> link(List<NewSession> newSessions, List<NewEvent> events) {
        ChainHead g = global != null ? global : store.head();
        long globalSeq = g.lastGlobalSeq();
        String globalHash = g.lastGlobalHash();
        Map<String, Head> batch = new LinkedHashMap<>();
        for (NewSession s : newSessions) batch.put(s.id(), new Head(0, ChainHead.GENESIS));
        List<LinkedEvent> linked = new ArrayList<>(events.size());
        for (NewEvent e : events) {
            Head head = batch.get(e.sessionId());
            if (head == null) head = sessions.get(e.sessionId());
            if (head == null) {
                head = store.sessionHead(e.sessionId()).map(h -> new Head(h.lastSeq(), h.lastHash()))
                        .orElseThrow(() -> new AuditStoreException("no audit session " + e.sessionId()));
            }
            long seq = head.seq() + 1;
            // What is stored (microseconds) is what is hashed: ChainHash takes the time in microseconds too.
            String hash = ChainHash.event(head.hash(), e.sessionId(), seq, e.recordedAt(), e.code(), e.payloadUtf8());
            long gseq = globalSeq + 1;
            String ghash = ChainHash.global(globalHash, gseq, hash);
            linked.add(new LinkedEvent(e, new ChainLink(seq, head.hash(), hash, gseq, globalHash, ghash)));
            batch.put(e.sessionId(), new Head(seq, hash));
            globalSeq = gseq;
            globalHash = ghash;
        }
        pending = new Pending(batch, new ChainHead(globalSeq, globalHash));
        return linked;
    }

    private record Pending(Map<String, Head> sessions, ChainHead global) {
    }

    private Pending pending;

    /** The last linked batch is in the store: its heads are where the next batch links. */
    public void appended() {
        if (pending == null) return;
        sessions.putAll(pending.sessions());
        global = pending.global();
        pending = null;
    }

    /** The last append failed, or another writer may have appended: read the heads from the store again. */
    public void forget() {
        pending = null;
        global = null;
        sessions.clear();
    }
}
