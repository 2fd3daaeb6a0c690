package dev.portcullis.store;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.Objects;

/**
 * An event to append; the store assigns sequence numbers and hashes.
 *
 * <p>The payload is held as its UTF-8 bytes, the form every consumer takes it in: the chain hashes them, the trail
 * embeds them in its line, the embedded index stores them as text. The recorder writes its JSON as bytes, so an event
 * is encoded once instead of once per consumer (four times before: a quarter of a statement's allocation).
 *
 * @param code        stable event code, e.g. {@code PC2000}
 * @param payloadUtf8 the event as canonical JSON, UTF-8; hashed byte for byte. Not copied: never modify it
 * @param refused     whether the event records a refusal (counted per session)
 */
public record NewEvent(String sessionId, Instant recordedAt, String code, byte[] payloadUtf8, boolean refused) {
    public NewEvent {
        Objects.requireNonNull(sessionId, "sessionId");
        Objects.requireNonNull(recordedAt, "recordedAt");
        Objects.requireNonNull(code, "code");
        Objects.requireNonNull(payloadUtf8, "payload");
    }

    /** An event whose payload is given as text (encoded to UTF-8 here; a lone surrogate becomes {@code ?}). */
    public NewEvent(String sessionId, Instant recordedAt, String code, String payload, boolean refused) {
        this(sessionId, recordedAt, code, Objects.requireNonNull(payload, "payload").getBytes(StandardCharsets.UTF_8), refused);
    }

    /** The payload as text: decoded from its bytes on each call (those are what is hashed and stored). */
    public String payload() {
        return new String(payloadUtf8, StandardCharsets.UTF_8);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof NewEvent e && refused == e.refused && sessionId.equals(e.sessionId)
                && recordedAt.equals(e.recordedAt) && code.equals(e.code) && Arrays.equals(payloadUtf8, e.payloadUtf8);
    }

    @Override
    public int hashCode() {
        return Objects.hash(sessionId, recordedAt, code, Arrays.hashCode(payloadUtf8), refused);
    }

    @Override
    public String toString() {
        return "NewEvent[sessionId=" + sessionId + ", recordedAt=" + recordedAt + ", code=" + code + ", payload="
                + payload() + ", refused=" + refused + "]";
    }
}
