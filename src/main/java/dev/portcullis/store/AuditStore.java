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
     * Appends new sessions and events in one transaction: each event gets the next sequence number of
     * its session and of the global chain, and its hashes. Returns only after the transaction is
     * committed; on failure nothing of the batch is stored.
     */
    List<StoredEvent> append(List<NewSession> sessions, List<NewEvent> events);

    /**
     * As {@link #append(List, List)}; with {@code sync} false the batch is flushed to the operating
     * system but not forced to disk (it survives a crash of the gateway, not of the machine).
     */
    default List<StoredEvent> append(List<NewSession> sessions, List<NewEvent> events, boolean sync) {
        return append(sessions, events);
    }

    /** Sessions matching the query, newest first. */
    List<SessionSummary> sessions(SessionQuery query);

    /** The events of one session in sequence order; empty when the session is unknown. */
    List<StoredEvent> events(String sessionId);

    /** Reads everything, consistently, for verification: the chain head, every session, every event in global order. */
    void scan(AuditScan scan);

    @Override
    void close();
}
