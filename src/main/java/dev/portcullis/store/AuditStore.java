package dev.portcullis.store;

import java.util.List;

/**
 * Where audit sessions and their hash-chained events are kept. The embedded SQLite file is the
 * default; a PostgreSQL store for several replicas implements the same interface.
 *
 * <p>Every method throws {@link AuditStoreException} when the store cannot answer; callers fail closed.
 */
public interface AuditStore extends AutoCloseable {

    /**
     * Appends new sessions and events in one transaction, with the hashes they carry. Each event must
     * continue the chains as the store holds them (its session's next number and previous hash, the
     * global next number and previous hash); one that does not refuses the whole batch, so two writers
     * cannot fork a chain. Returns only after the transaction is committed; on failure nothing of the
     * batch is stored.
     */
    List<StoredEvent> append(List<NewSession> sessions, List<LinkedEvent> events);

    /**
     * As {@link #append(List, List)}; with {@code sync} false the batch is flushed to the operating
     * system but not forced to disk (it survives a crash of the gateway, not of the machine).
     */
    default List<StoredEvent> append(List<NewSession> sessions, List<LinkedEvent> events, boolean sync) {
        return append(sessions, events);
    }

    /**
     * Whether {@link #append(List, List, boolean)} with {@code sync} false is cheap and {@link #force}
     * later makes it durable, so a caller should append under its lock and force outside it (several
     * callers then share one {@code fsync}). When false, pass {@code sync} to append.
     */
    default boolean forcesSeparately() {
        return false;
    }

    /** Forces everything appended so far to disk; see {@link #forcesSeparately()}. */
    default void force() {
    }

    /** The end of the global chain: where the next event links. */
    ChainHead head();

    /** The end of one session's chain: its last event's number and hash; empty when there is no such session. */
    java.util.Optional<SessionHead> sessionHead(String sessionId);

    /** @param lastSeq 0 and {@link ChainHead#GENESIS} for a session without events */
    record SessionHead(long lastSeq, String lastHash) {
    }

    /** Sessions matching the query, newest first. */
    List<SessionSummary> sessions(SessionQuery query);

    /** One session's row; empty when the session is unknown. */
    java.util.Optional<SessionSummary> session(String sessionId);

    /** The events of one session in sequence order; empty when the session is unknown. */
    List<StoredEvent> events(String sessionId);

    /** Reads everything, consistently, for verification: the chain head, every session, every event in global order. */
    void scan(AuditScan scan);

    @Override
    void close();
}
