package dev.portcullis.postgres;

import java.io.IOException;

/**
 * The peer broke the wire protocol: a length out of bounds, a truncated message, an unknown message
 * type, a malformed field. The connection cannot be trusted past this point and should be closed,
 * after an {@code 08P01} ErrorResponse where the peer is a client ({@link #SQLSTATE}).
 */
public final class PgProtocolException extends IOException {

    /** SQLSTATE {@code protocol_violation}, for the ErrorResponse sent before closing. */
    public static final String SQLSTATE = "08P01";

    public PgProtocolException(String message) {
        super(message);
    }

    public PgProtocolException(String message, Throwable cause) {
        super(message, cause);
    }
}
