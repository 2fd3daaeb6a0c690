package dev.portcullis.config;

/**
 * @param maxResponseBytes masked response bodies are recorded up to this many bytes
 * @param fsyncAlways      force every recorded batch to disk ({@code fsync: always}); by default
 *                         ({@code fsync: writes}) only records that precede a change to a target are,
 *                         and every other record is flushed to the OS before its response is released
 */
public record RecordingConfig(int maxResponseBytes, boolean fsyncAlways) {
    public static final int DEFAULT_MAX_RESPONSE_BYTES = 65536;

    public RecordingConfig(int maxResponseBytes) {
        this(maxResponseBytes, false);
    }

    public RecordingConfig {
        if (maxResponseBytes < 0) throw new IllegalArgumentException("maxResponseBytes < 0");
    }
}
