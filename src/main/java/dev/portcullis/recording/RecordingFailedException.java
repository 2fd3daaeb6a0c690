package dev.portcullis.recording;

/** An audit event could not be made durable. The gateway refuses the operation (fail closed). */
public final class RecordingFailedException extends RuntimeException {

    public RecordingFailedException(String message, Throwable cause) {
        super(message, cause);
    }

    public RecordingFailedException(String message) {
        super(message);
    }
}
