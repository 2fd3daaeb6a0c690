package dev.portcullis.identity;

import java.util.Locale;
import java.util.Objects;

/** A token was refused. The message is safe to show and log: it never contains the token. */
public final class TokenRejectedException extends Exception {

    /** Why; {@link #label()} is the stable value used in metrics and recordings. */
    public enum Reason {
        MISSING, MALFORMED, OVERSIZED, ALGORITHM_NOT_ALLOWED, UNKNOWN_KEY, BAD_SIGNATURE, WRONG_ISSUER,
        WRONG_AUDIENCE, EXPIRED, NOT_YET_VALID, REVOKED, IDP_UNAVAILABLE;

        public String label() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }
    }

    private final Reason reason;

    public TokenRejectedException(Reason reason, String message) {
        super(message, null, false, false);
        this.reason = Objects.requireNonNull(reason);
    }

    public Reason reason() {
        return reason;
    }
}
