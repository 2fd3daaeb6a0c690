-- The console's sign-ins and sessions, as in the embedded store (its migration 5): a sign-in under way
-- (its state's SHA-256, the browser it started in, its PKCE verifier and nonce) and the sessions people
-- hold (their cookie's SHA-256 only), shared by every replica.
CREATE TABLE console_login (
    state_hash     CHAR(64)      NOT NULL PRIMARY KEY,
    browser_hash   CHAR(64)      NOT NULL,
    code_verifier  VARCHAR(128)  NOT NULL,
    nonce          VARCHAR(128)  NOT NULL,
    next_path      VARCHAR(2048) NOT NULL,
    expires_at     BIGINT        NOT NULL
);
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
);
CREATE INDEX console_session_expiry ON console_session (expires_at);
