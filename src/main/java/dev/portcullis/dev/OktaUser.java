package dev.portcullis.dev;

import com.fasterxml.jackson.databind.node.ObjectNode;

import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * A user as Okta stores it. Immutable: {@code profile} is a private copy that is never changed once built;
 * updates produce a new record.
 *
 * @param hasPassword whether a password was set; the value itself is never kept
 */
record OktaUser(String id, Status status, Instant created, Optional<Instant> activated, Instant statusChanged,
                Optional<Instant> lastLogin, Instant lastUpdated, Optional<Instant> passwordChanged,
                ObjectNode profile, boolean hasPassword) {

    /** Okta's user statuses (Users API {@code status}). */
    enum Status { STAGED, PROVISIONED, ACTIVE, RECOVERY, PASSWORD_EXPIRED, LOCKED_OUT, SUSPENDED, DEPROVISIONED }

    OktaUser {
        Objects.requireNonNull(id);
        Objects.requireNonNull(status);
        Objects.requireNonNull(created);
        Objects.requireNonNull(activated);
        Objects.requireNonNull(statusChanged);
        Objects.requireNonNull(lastLogin);
        Objects.requireNonNull(lastUpdated);
        Objects.requireNonNull(passwordChanged);
        Objects.requireNonNull(profile);
    }

    String login() {
        return profile.path("login").asText("");
    }

    OktaUser withProfile(ObjectNode newProfile, boolean passwordSet, Instant now) {
        return new OktaUser(id, status, created, activated, statusChanged, lastLogin, now,
                passwordSet ? Optional.of(now) : passwordChanged, newProfile, hasPassword || passwordSet);
    }

    OktaUser withStatus(Status newStatus, Instant now) {
        return new OktaUser(id, newStatus, created, activated, now, lastLogin, now, passwordChanged, profile, hasPassword);
    }
}
