package dev.portcullis.store;

/**
 * The end of the global chain that links every event of every session.
 *
 * @param lastGlobalSeq  global sequence number of the newest event, 0 when empty
 * @param lastGlobalHash its global hash, {@link #GENESIS} when empty
 */
public record ChainHead(long lastGlobalSeq, String lastGlobalHash) {

    /** What the previous hash of the first event of a session, and of the store, is. */
    public static final String GENESIS = "0".repeat(64);

    /** The head of an empty chain. */
    public static final ChainHead EMPTY = new ChainHead(0, GENESIS);
}
