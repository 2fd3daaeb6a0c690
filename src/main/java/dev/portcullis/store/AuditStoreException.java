package dev.portcullis.store;

/** The store could not answer or could not make a write durable. The gateway refuses the operation. */
public final class AuditStoreException extends RuntimeException {

    public AuditStoreException(String message, Throwable cause) {
        super(message, cause);
    }

    public AuditStoreException(String message) {
        super(message);
    }
}
