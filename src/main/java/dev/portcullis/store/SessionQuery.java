package dev.portcullis.store;

import java.time.Instant;
import java.util.Objects;

/**
 * A filter for session listings; empty strings match anything (subject, connection and protocol match exactly). A session matches the time range when
 * it was active at some point within it.
 */
public record SessionQuery(String subject, String connection, String protocol, boolean refusedOnly, Instant from, Instant to, int limit) {
    public SessionQuery(String subject, String connection, Instant from, Instant to, int limit) {
        this(subject, connection, "", false, from, to, limit);
    }

    public SessionQuery {
        Objects.requireNonNull(protocol, "protocol");
        Objects.requireNonNull(subject, "subject");
        Objects.requireNonNull(connection, "connection");
        Objects.requireNonNull(from, "from");
        Objects.requireNonNull(to, "to");
        if (limit < 1) throw new IllegalArgumentException("limit must be >= 1, was " + limit);
    }

    public static final int DEFAULT_LIMIT = 100;

    /** The newest {@value #DEFAULT_LIMIT} sessions. */
    public static SessionQuery newest() {
        return new SessionQuery("", "", "", false, Instant.EPOCH, Instant.parse("9999-12-31T23:59:59Z"), DEFAULT_LIMIT);
    }

    public SessionQuery subject(String subject) {
        return new SessionQuery(subject, connection, protocol, refusedOnly, from, to, limit);
    }

    public SessionQuery connection(String connection) {
        return new SessionQuery(subject, connection, protocol, refusedOnly, from, to, limit);
    }

    public SessionQuery between(Instant from, Instant to) {
        return new SessionQuery(subject, connection, protocol, refusedOnly, from, to, limit);
    }

    public SessionQuery protocol(String protocol) {
        return new SessionQuery(subject, connection, protocol, refusedOnly, from, to, limit);
    }

    /** Only sessions with a refused operation or a failed authentication. */
    public SessionQuery refusedOnly(boolean refusedOnly) {
        return new SessionQuery(subject, connection, protocol, refusedOnly, from, to, limit);
    }

    public SessionQuery limit(int limit) {
        return new SessionQuery(subject, connection, protocol, refusedOnly, from, to, limit);
    }
}
