package dev.portcullis.store;

import java.util.Objects;

/**
 * Where an event sits in the two chains, as the recorder computed it ({@code recording.AuditChain}):
 * the store persists these values and checks only that they continue what it holds, so two writers
 * cannot fork a chain. It never computes a hash.
 *
 * @param seq            the event's number in its session, from 1
 * @param prevHash       the hash of the session's previous event, {@link ChainHead#GENESIS} for the first
 * @param hash           the event's hash
 * @param globalSeq      its number in the global chain, from 1
 * @param globalPrevHash the global hash of the event before it in the store
 * @param globalHash     its global hash
 */
public record ChainLink(long seq, String prevHash, String hash, long globalSeq, String globalPrevHash, String globalHash) {
    public ChainLink {
        Objects.requireNonNull(prevHash, "prevHash");
        Objects.requireNonNull(hash, "hash");
        Objects.requireNonNull(globalPrevHash, "globalPrevHash");
        Objects.requireNonNull(globalHash, "globalHash");
    }
}
