package dev.portcullis.store;

import java.time.Instant;
import java.util.Objects;

/**
 * A session to create. Its first event (the session start) carries the full identity; these columns
 * are what listings filter on. No token, only its id.
 *
 * @param subject empty for the per-client session that holds failed authentications
 */
public record NewSession(String id, String subject, String tokenId, String connection, String protocol,
                         String clientAddress, Instant startedAt) {
    public NewSession {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(subject, "subject");
        Objects.requireNonNull(tokenId, "tokenId");
        Objects.requireNonNull(connection, "connection");
        Objects.requireNonNull(protocol, "protocol");
        Objects.requireNonNull(clientAddress, "clientAddress");
        Objects.requireNonNull(startedAt, "startedAt");
    }
}
