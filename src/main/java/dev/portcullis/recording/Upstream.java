package dev.portcullis.recording;

import java.util.Objects;

/** What the upstream target did with an operation. */
public sealed interface Upstream {

    /** Refused (or held) by the gateway: the target never saw it. */
    record NotForwarded() implements Upstream {
    }

    /** The target answered; {@code status} in the protocol's terms (HTTP status, SQLSTATE class as number, exit code). */
    record Responded(int status) implements Upstream {
    }

    /** Forwarding failed (connect error, timeout, reset); the message names no credential. */
    record Failed(String error) implements Upstream {
        public Failed {
            Objects.requireNonNull(error, "error");
        }
    }

    Upstream NOT_FORWARDED = new NotForwarded();
}
