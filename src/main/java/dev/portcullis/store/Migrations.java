package dev.portcullis.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.util.List;

/**
 * The schema, as ordered versioned scripts. Applied versions are listed in {@code schema_version};
 * a store opens only after every script here has been applied. Never edit a released script: add one.
 *
 * <p>The SQL stays within what SQLite and PostgreSQL both accept (BIGINT epoch microseconds, VARCHAR,
 * TEXT, no AUTOINCREMENT), so the PostgreSQL store can run the same scripts.
 */
public final class Migrations {

    /** One schema step; tests build an older store from the first ones. */
    public record Migration(int version, String description, List<String> statements) {
    }

    public static final List<Migration> ALL = List.of(
            new Migration(1, "audit sessions, hash-chained events, global chain head", List.of(
                    """
                    CREATE TABLE audit_session (
                        id             VARCHAR(64)  NOT NULL PRIMARY KEY,
                        subject        VARCHAR(512) NOT NULL,
                        token_id       VARCHAR(512) NOT NULL,
                        connection_name VARCHAR(200) NOT NULL,
                        protocol       VARCHAR(32)  NOT NULL,
                        client_address VARCHAR(200) NOT NULL,
                        started_at     BIGINT       NOT NULL,
                        last_event_at  BIGINT       NOT NULL,
                        last_seq       BIGINT       NOT NULL,
                        last_hash      CHAR(64)     NOT NULL,
                        refused_count  BIGINT       NOT NULL
                    )""",
                    "CREATE INDEX audit_session_started ON audit_session (started_at)",
                    "CREATE INDEX audit_session_subject ON audit_session (subject, started_at)",
                    "CREATE INDEX audit_session_connection ON audit_session (connection_name, started_at)",
                    // No foreign key to audit_session on purpose: a deleted session must leave evidence
                    // for the verifier, not cascade away.
                    """
                    CREATE TABLE audit_event (
                        global_seq       BIGINT      NOT NULL PRIMARY KEY,
                        session_id       VARCHAR(64) NOT NULL,
                        seq              BIGINT      NOT NULL,
                        recorded_at      BIGINT      NOT NULL,
                        code             VARCHAR(16) NOT NULL,
                        payload          TEXT        NOT NULL,
                        prev_hash        CHAR(64)    NOT NULL,
                        hash             CHAR(64)    NOT NULL,
                        global_prev_hash CHAR(64)    NOT NULL,
                        global_hash      CHAR(64)    NOT NULL,
                        CONSTRAINT audit_event_session_seq UNIQUE (session_id, seq)
                    )""",
                    """
                    CREATE TABLE audit_chain_head (
                        id               INTEGER  NOT NULL PRIMARY KEY,
                        last_global_seq  BIGINT   NOT NULL,
                        last_global_hash CHAR(64) NOT NULL
                    )""",
                    "INSERT INTO audit_chain_head (id, last_global_seq, last_global_hash) VALUES (1, 0, '"
                            + ChainHead.GENESIS + "')")),
            // Lists (groups, approvals, the denial) are JSON text: read and written whole, never queried.
            new Migration(2, "approval requests", List.of(
                    """
                    CREATE TABLE approval_request (
                        id                 VARCHAR(64)   NOT NULL PRIMARY KEY,
                        state              VARCHAR(16)   NOT NULL,
                        version            BIGINT        NOT NULL,
                        connection_name    VARCHAR(200)  NOT NULL,
                        requester_subject  VARCHAR(512)  NOT NULL,
                        requester_groups   TEXT          NOT NULL,
                        requester_token_id VARCHAR(512)  NOT NULL,
                        protocol           VARCHAR(32)   NOT NULL,
                        summary            TEXT          NOT NULL,
                        fingerprint        VARCHAR(80)   NOT NULL,
                        rule_id            VARCHAR(200)  NOT NULL,
                        reason             TEXT          NOT NULL,
                        approver_groups    TEXT          NOT NULL,
                        approvals_required INTEGER       NOT NULL,
                        approvals          TEXT          NOT NULL,
                        denial             TEXT          NOT NULL,
                        created_at         BIGINT        NOT NULL,
                        expires_at         BIGINT        NOT NULL
                    )""",
                    "CREATE INDEX approval_request_state ON approval_request (state, created_at)")),
            // A grant's duration is fixed at creation; its end is set when it is approved. 0 = no grant / not yet.
            // detail: what approvers read (the whole statement, or the masked body); '' for older rows.
            new Migration(3, "time-boxed grants and operation detail", List.of(
                    "ALTER TABLE approval_request ADD COLUMN detail TEXT NOT NULL DEFAULT ''",
                    "ALTER TABLE approval_request ADD COLUMN grant_seconds BIGINT NOT NULL DEFAULT 0",
                    "ALTER TABLE approval_request ADD COLUMN grant_until BIGINT NOT NULL DEFAULT 0",
                    "CREATE INDEX approval_request_grant ON approval_request (requester_subject, connection_name, rule_id)"
                            + " WHERE grant_seconds > 0")),
            // Network agents: a join token (its SHA-256 only) until the agent enrols, then the fingerprint of the
            // key its certificates are for; a revoked agent keeps its row (revoked_at > 0) so it stays refused.
            new Migration(4, "network agents", List.of(
                    """
                    CREATE TABLE network_agent (
                        name             VARCHAR(63)   NOT NULL PRIMARY KEY,
                        join_token_hash  CHAR(64)      NOT NULL,
                        join_expires_at  BIGINT        NOT NULL,
                        join_used_at     BIGINT        NOT NULL,
                        key_fingerprint  VARCHAR(128)  NOT NULL,
                        created_at       BIGINT        NOT NULL,
                        enrolled_at      BIGINT        NOT NULL,
                        revoked_at       BIGINT        NOT NULL
                    )""")),
            // The console's sign-ins: a sign-in under way (its state's SHA-256, the browser it was started in, its
            // PKCE verifier and nonce, for ten minutes) and the sessions people hold (their cookie's SHA-256 only).
            new Migration(5, "console sign-ins and sessions", List.of(
                    """
                    CREATE TABLE console_login (
                        state_hash     CHAR(64)      NOT NULL PRIMARY KEY,
                        browser_hash   CHAR(64)      NOT NULL,
                        code_verifier  VARCHAR(128)  NOT NULL,
                        nonce          VARCHAR(128)  NOT NULL,
                        next_path      VARCHAR(2048) NOT NULL,
                        expires_at     BIGINT        NOT NULL
                    )""",
                    """
                    CREATE TABLE console_session (
                        id_hash        CHAR(64)      NOT NULL PRIMARY KEY,
                        subject        VARCHAR(512)  NOT NULL,
                        groups_json    TEXT          NOT NULL,
                        claims_json    TEXT          NOT NULL,
                        issuer         VARCHAR(2048) NOT NULL,
                        client_id      VARCHAR(512)  NOT NULL,
                        created_at     BIGINT        NOT NULL,
                        last_seen_at   BIGINT        NOT NULL,
                        expires_at     BIGINT        NOT NULL,
                        ended_at       BIGINT        NOT NULL
                    )""",
                    "CREATE INDEX console_session_expiry ON console_session (expires_at)")));

    private Migrations() {
    }

    /** Applies missing migrations in one write transaction; the caller has begun it. */
    static void apply(Connection connection, Clock clock) throws SQLException {
        try (Statement st = connection.createStatement()) {
            st.execute("""
                    CREATE TABLE IF NOT EXISTS schema_version (
                        version     INTEGER      NOT NULL PRIMARY KEY,
                        description VARCHAR(200) NOT NULL,
                        applied_at  BIGINT       NOT NULL
                    )""");
        }
        int current = 0;
        try (Statement st = connection.createStatement();
             ResultSet rs = st.executeQuery("SELECT COALESCE(MAX(version), 0) FROM schema_version")) {
            if (rs.next()) current = rs.getInt(1);
        }
        int newest = ALL.getLast().version();
        if (current > newest) {
            throw new SQLException("schema version " + current + " is newer than this build knows (" + newest
                    + "); upgrade Portcullis before opening this store");
        }
        for (Migration m : ALL) {
            if (m.version() <= current) continue;
            try (Statement st = connection.createStatement()) {
                for (String sql : m.statements()) st.execute(sql);
            }
            try (PreparedStatement ps = connection.prepareStatement(
                    "INSERT INTO schema_version (version, description, applied_at) VALUES (?, ?, ?)")) {
                ps.setInt(1, m.version());
                ps.setString(2, m.description());
                ps.setLong(3, Micros.of(clock.instant()));
                ps.executeUpdate();
            }
        }
    }
}
