package dev.portcullis.config;

/** @param maxResponseBytes masked response bodies are recorded up to this many bytes */
public record RecordingConfig(int maxResponseBytes) {
    public static final int DEFAULT_MAX_RESPONSE_BYTES = 65536;

    public RecordingConfig {
        if (maxResponseBytes < 0) throw new IllegalArgumentException("maxResponseBytes < 0");
    }
}
