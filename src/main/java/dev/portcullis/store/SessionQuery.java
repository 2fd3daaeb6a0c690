package dev.portcullis.store;

import java.time.Instant;
import java.util.Objects;

/**
 * A filter for session listings; empty strings match anything. A session matches the time range when
 * it was active at some point within it.
 */
public record SessionQuery(String subject, String connection, Instant from, Instant to, int limit) {
    public SessionQuery {
        Objects.requireNonNull(subject, "subject");
        Objects.requireNonNull(connection, "connection");
        Objects.requireNonNull(from, "from");
        Objects.requireNonNull(to, "to");
        if (limit < 1) throw new IllegalArgumentException("limit must be >= 1, was " + limit);
    }

    public static final int DEFAULT_LIMIT = 100;

    /** The newest {@value #DEFAULT_LIMIT} sessions. */
    public static SessionQuery newest() {
        return new SessionQuery("", "", Instant.EPOCH, Instant.parse("9999-12-31T23:59:59Z"), DEFAULT_LIMIT);
    }

    public SessionQuery subject(String subject) {
        return new SessionQuery(subject, connection, from, to, limit);
    }

    public SessionQuery connection(String connection) {
        return new SessionQuery(subject, connection, from, to, limit);
    }

    public SessionQuery between(Instant from, Instant to) {
        return new SessionQuery(subject, connection, from, to, limit);
    }

    public SessionQuery limit(int limit) {
        return new SessionQuery(subject, connection, from, to, limit);
    }
}
