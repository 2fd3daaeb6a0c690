package dev.portcullis.identity;

import java.util.Optional;

/** Finds the agent's token in the places agents put it. */
public final class BearerCredentials {
    private BearerCredentials() {
    }

    /**
     * The token from an {@code Authorization} header: {@code Bearer <token>}, or {@code SSWS <token>}
     * as Okta's SDKs send their API token (so they work unchanged with an OIDC token in its place).
     * The scheme is case-insensitive. Empty when the header is absent or uses another scheme.
     */
    public static Optional<String> fromAuthorizationHeader(String header) {
        if (header == null) return Optional.empty();
        String h = header.strip();
        int space = h.indexOf(' ');
        if (space <= 0) return Optional.empty();
        String scheme = h.substring(0, space);
        if (!scheme.equalsIgnoreCase("Bearer") && !scheme.equalsIgnoreCase("SSWS")) return Optional.empty();
        String token = h.substring(space + 1).strip();
        return token.isEmpty() ? Optional.empty() : Optional.of(token);
    }
}
