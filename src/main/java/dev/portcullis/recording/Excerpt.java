package dev.portcullis.recording;

import java.util.Objects;

/**
 * The start of a (masked) body, as much as the recorder keeps.
 *
 * @param text       the excerpt, already masked
 * @param truncated  whether the body was longer than the excerpt
 * @param totalBytes size of the whole body in bytes
 */
public record Excerpt(String text, boolean truncated, long totalBytes) {
    public Excerpt {
        Objects.requireNonNull(text, "text");
        if (totalBytes < 0) throw new IllegalArgumentException("totalBytes must be >= 0");
    }

    public static final Excerpt NONE = new Excerpt("", false, 0);
}
