-- Network agents, as in the embedded store (its migration 4): a join token (its SHA-256 only) until the
-- agent enrols, then the fingerprint of the key its certificates are for; a revoked agent keeps its row.
CREATE TABLE network_agent (
    name             VARCHAR(63)   NOT NULL PRIMARY KEY,
    join_token_hash  CHAR(64)      NOT NULL,
    join_expires_at  BIGINT        NOT NULL,
    join_used_at     BIGINT        NOT NULL,
    key_fingerprint  VARCHAR(128)  NOT NULL,
    created_at       BIGINT        NOT NULL,
    enrolled_at      BIGINT        NOT NULL,
    revoked_at       BIGINT        NOT NULL
);
