package dev.portcullis.store;

/**
 * Receives a consistent snapshot of the whole store, in this order: head, sessions, events by global
 * sequence. A store shared by replicas holds one chain per replica: each is announced by
 * {@link #chain} and followed by its own head, sessions and events.
 */
public interface AuditScan {

    /** The chain of replica {@code replicaId} follows (only from a store that holds several). */
    default void chain(String replicaId) {
    }

    void head(ChainHead head);

    void session(SessionSummary session);

    void event(StoredEvent event);
}
