package dev.portcullis.postgres;

import dev.portcullis.postgres.BackendMessage.ErrorResponse;
import java.io.IOException;
import java.util.Optional;

/**
 * The upstream server did not accept the session: it refused authentication or the database
 * (then {@link #serverError()} holds its ErrorResponse, e.g. 28P01), or it asked for something the
 * gateway will not do (an unsupported authentication method, TLS it does not offer).
 */
public final class UpstreamStartupException extends IOException {

    private final transient ErrorResponse serverError;

    UpstreamStartupException(String message, ErrorResponse serverError) {
        super(message);
        this.serverError = serverError;
    }

    UpstreamStartupException(String message, Throwable cause) {
        super(message, cause);
        this.serverError = null;
    }

    /** The server's own ErrorResponse, when it sent one. */
    public Optional<ErrorResponse> serverError() {
        return Optional.ofNullable(serverError);
    }
}
