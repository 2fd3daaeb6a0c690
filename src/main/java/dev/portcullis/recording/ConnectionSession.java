package dev.portcullis.recording;

/** A session bound to one client connection; closing it records {@code session.end}. */
public interface ConnectionSession extends SessionRecorder, AutoCloseable {

    /** Records {@code session.end} with the given reason, once; later calls do nothing. */
    void end(String reason);

    /** Ends the session with reason {@code closed}. */
    @Override
    default void close() {
        end("closed");
    }
}
