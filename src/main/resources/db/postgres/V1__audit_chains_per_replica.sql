-- The audit trail's index, shared by every gateway replica. Each replica appends to its own global
-- chain (audit_replica holds its head); a session and its events belong to the replica that served it.
-- Times are microseconds since the epoch, as in the embedded store; hashes are lower-case hex SHA-256.

CREATE TABLE audit_replica (
    replica_id       VARCHAR(200) NOT NULL PRIMARY KEY,
    last_global_seq  BIGINT       NOT NULL,
    last_global_hash CHAR(64)     NOT NULL,
    first_seen_at    BIGINT       NOT NULL
);

CREATE TABLE audit_session (
    id              VARCHAR(64)  NOT NULL PRIMARY KEY,
    replica_id      VARCHAR(200) NOT NULL,
    subject         VARCHAR(512) NOT NULL,
    token_id        VARCHAR(512) NOT NULL,
    connection_name VARCHAR(200) NOT NULL,
    protocol        VARCHAR(32)  NOT NULL,
    client_address  VARCHAR(200) NOT NULL,
    started_at      BIGINT       NOT NULL,
    last_event_at   BIGINT       NOT NULL,
    last_seq        BIGINT       NOT NULL,
    last_hash       CHAR(64)     NOT NULL,
    refused_count   BIGINT       NOT NULL
);
CREATE INDEX audit_session_started ON audit_session (started_at);
CREATE INDEX audit_session_subject ON audit_session (subject, started_at);
CREATE INDEX audit_session_connection ON audit_session (connection_name, started_at);
CREATE INDEX audit_session_replica ON audit_session (replica_id);

-- No foreign keys on purpose: a deleted session or replica row must leave evidence for the verifier.
CREATE TABLE audit_event (
    replica_id       VARCHAR(200) NOT NULL,
    global_seq       BIGINT       NOT NULL,
    session_id       VARCHAR(64)  NOT NULL,
    seq              BIGINT       NOT NULL,
    recorded_at      BIGINT       NOT NULL,
    code             VARCHAR(16)  NOT NULL,
    payload          TEXT         NOT NULL,
    prev_hash        CHAR(64)     NOT NULL,
    hash             CHAR(64)     NOT NULL,
    global_prev_hash CHAR(64)     NOT NULL,
    global_hash      CHAR(64)     NOT NULL,
    PRIMARY KEY (replica_id, global_seq),
    CONSTRAINT audit_event_session_seq UNIQUE (session_id, seq)
);
