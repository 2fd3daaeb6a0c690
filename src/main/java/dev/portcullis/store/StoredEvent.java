package dev.portcullis.store;

import java.time.Instant;

/**
 * An event as stored, with its place in both chains.
 *
 * @param globalSeq      position in the global chain across all sessions, from 1
 * @param seq            position in its session, from 1
 * @param recordedAt     when it was recorded, microsecond precision
 * @param prevHash       hash of the previous event of the session, {@link ChainHead#GENESIS} for the first
 * @param hash           computed by the recorder (recording.ChainHash#event)
 * @param globalPrevHash global hash of the previous event in the store
 * @param globalHash     computed by the recorder (recording.ChainHash#global)
 */
public record StoredEvent(long globalSeq, String sessionId, long seq, Instant recordedAt, String code,
                          String payload, String prevHash, String hash, String globalPrevHash, String globalHash) {

    /** An appended event as the store holds it (its time cut to microseconds, its payload as text). */
    static StoredEvent of(LinkedEvent linked) {
        NewEvent e = linked.event();
        ChainLink l = linked.link();
        return new StoredEvent(l.globalSeq(), e.sessionId(), l.seq(), Micros.toInstant(Micros.of(e.recordedAt())), e.code(),
                e.payload(), l.prevHash(), l.hash(), l.globalPrevHash(), l.globalHash());
    }

    /**
     * What an append returns: the appended events, each made into a {@code StoredEvent} only when read. The
     * gateway's recorder never reads it, and making them on every append decoded each payload back to text. The
     * events are taken as they are now (a caller may reuse its list, as recovery does).
     */
    static java.util.List<StoredEvent> appended(java.util.List<LinkedEvent> appended) {
        java.util.List<LinkedEvent> events = java.util.List.copyOf(appended);
        return new java.util.AbstractList<>() {
            @Override
            public StoredEvent get(int index) {
                return of(events.get(index));
            }

            @Override
            public int size() {
                return events.size();
            }
        };
    }
}
