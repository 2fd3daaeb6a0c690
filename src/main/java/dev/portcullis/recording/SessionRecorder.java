package dev.portcullis.recording;

/** Records events into one session. Safe to use from several threads. */
public interface SessionRecorder {

    String sessionId();

    /**
     * Appends the event to the session; returns once it is durable.
     *
     * @throws RecordingFailedException when it could not be made durable; refuse the operation
     */
    void record(AuditEvent event);

    /**
     * As {@link #record}, and forced to disk, not only flushed to the operating system: for the record
     * that must exist before something changes a target.
     */
    default void recordSynced(AuditEvent event) {
        record(event);
    }

}
