package dev.portcullis.core;

import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Who is calling, as established from a verified token. Never carries the raw token.
 *
 * @param subject   the token's {@code sub}
 * @param groups    group names taken from the configured groups claim
 * @param tokenId   the token's {@code jti} (or a SHA-256 fingerprint when the issuer sets none)
 * @param clientId  the OAuth client the token was issued to ({@code client_id}, {@code azp} or {@code cid}), may be empty
 * @param issuer    the token's {@code iss}
 * @param claims    string-valued claims (non-string claims rendered as JSON text), for policy conditions
 * @param expiresAt the token's {@code exp}
 */
public record Identity(String subject, Set<String> groups, String tokenId, String clientId,
                       String issuer, Map<String, String> claims, Instant expiresAt) {
    public Identity {
        Objects.requireNonNull(subject, "subject");
        groups = Set.copyOf(groups);
        Objects.requireNonNull(tokenId, "tokenId");
        clientId = clientId == null ? "" : clientId;
        Objects.requireNonNull(issuer, "issuer");
        claims = Map.copyOf(claims);
        Objects.requireNonNull(expiresAt, "expiresAt");
    }

    public boolean inAnyGroup(Iterable<String> wanted) {
        for (String g : wanted) {
            if (groups.contains(g)) return true;
        }
        return false;
    }
}
