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
}
