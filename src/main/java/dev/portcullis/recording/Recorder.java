package dev.portcullis.recording;

import dev.portcullis.core.Identity;

/**
 * What adapters record through. Every method returns only once what it recorded is durable, and
 * throws {@link RecordingFailedException} otherwise: the caller then refuses the operation.
 */
public interface Recorder {

    /** Starts a session for a connection-oriented protocol (postgres, ssh); end it by closing it. */
    ConnectionSession openSession(Identity identity, String connection, String protocol, String clientAddress);

    /**
     * The session for a connectionless protocol (HTTP): the open one for the same connection, subject
     * and token id, unless it has been idle longer than the idle timeout; a new one otherwise.
     */
    SessionRecorder sessionFor(Identity identity, String connection, String protocol, String clientAddress);

    /**
     * Records an attempt without a valid identity, in the session of failed authentications of this
     * connection and client address (reused while not idle).
     */
    void recordAuthFailure(AuditEvent.AuthFailed failure);

    /**
     * Whether the last write to the store failed (and none succeeded since). A read is normally recorded
     * once, with its outcome; while this holds, the gate records it before forwarding too, so that a
     * trail that cannot be written refuses the read instead of serving it.
     */
    default boolean lastWriteFailed() {
        return false;
    }
}
