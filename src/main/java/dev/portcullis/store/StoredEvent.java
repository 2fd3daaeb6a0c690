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
}
