package dev.portcullis.store;

import java.sql.Connection;
import java.sql.SQLException;

/**
 * A store reached with JDBC, for what is not the audit trail (approval requests): a write transaction
 * and a read connection. The embedded SQLite store and the PostgreSQL store both are one.
 */
public interface SqlStore {

    /** Work on a connection inside one write transaction. */
    interface WriteWork<T> {
        T run(Connection writer) throws SQLException;
    }

    /** Runs {@code work} in one write transaction, durable when this returns; throws {@link AuditStoreException} on failure. */
    <T> T write(String what, WriteWork<T> work);

    /** A connection to read with; close it when done. */
    Connection reader() throws SQLException;

    /** Where the store is, for messages (a file, or a database URL without its credentials). */
    String describe();

    /**
     * Called inside the write transaction that changed approval request {@code id}: a store shared by
     * several gateways tells the others (PostgreSQL: {@code NOTIFY}, delivered at commit). Nothing by default.
     */
    default void approvalChanged(Connection writer, String id) throws SQLException {
    }
}
