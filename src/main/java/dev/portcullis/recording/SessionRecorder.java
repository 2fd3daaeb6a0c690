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

    /**
     * Queues the event without waiting for it. Events of one recorder are made durable in order, so
     * it is durable once a later {@link #record} of the same recorder returns; the future says
     * whether it was written.
     */
    default java.util.concurrent.CompletableFuture<Void> recordLater(AuditEvent event) {
        record(event);
        return java.util.concurrent.CompletableFuture.completedFuture(null);
    }
}
