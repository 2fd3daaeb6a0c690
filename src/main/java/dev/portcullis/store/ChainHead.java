package dev.portcullis.store;

/**
 * The end of the global chain that links every event of every session.
 *
 * @param lastGlobalSeq  global sequence number of the newest event, 0 when empty
 * @param lastGlobalHash its global hash, {@link ChainHash#GENESIS} when empty
 */
public record ChainHead(long lastGlobalSeq, String lastGlobalHash) {
}
