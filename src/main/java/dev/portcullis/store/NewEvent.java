package dev.portcullis.store;

import java.time.Instant;
import java.util.Objects;

/**
 * An event to append; the store assigns sequence numbers and hashes.
 *
 * @param code       stable event code, e.g. {@code PC2000}
 * @param payload    the event as canonical JSON; hashed byte for byte
 * @param refused    whether the event records a refusal (counted per session)
 */
public record NewEvent(String sessionId, Instant recordedAt, String code, String payload, boolean refused) {
    public NewEvent {
        Objects.requireNonNull(sessionId, "sessionId");
        Objects.requireNonNull(recordedAt, "recordedAt");
        Objects.requireNonNull(code, "code");
        Objects.requireNonNull(payload, "payload");
    }
}
