package dev.portcullis.store;

/** Receives a consistent snapshot of the whole store, in this order: head, sessions, events by global sequence. */
public interface AuditScan {

    void head(ChainHead head);

    void session(SessionSummary session);

    void event(StoredEvent event);
}
