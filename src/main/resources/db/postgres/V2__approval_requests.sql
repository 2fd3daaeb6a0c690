-- Approval requests, as in the embedded store (its migrations 2 and 3). Lists (groups, approvals, the
-- denial) are JSON text, read and written whole. A change is announced on channel portcullis_approvals.
CREATE TABLE approval_request (
    id                 VARCHAR(64)  NOT NULL PRIMARY KEY,
    state              VARCHAR(16)  NOT NULL,
    version            BIGINT       NOT NULL,
    connection_name    VARCHAR(200) NOT NULL,
    requester_subject  VARCHAR(512) NOT NULL,
    requester_groups   TEXT         NOT NULL,
    requester_token_id VARCHAR(512) NOT NULL,
    protocol           VARCHAR(32)  NOT NULL,
    summary            TEXT         NOT NULL,
    fingerprint        VARCHAR(80)  NOT NULL,
    rule_id            VARCHAR(200) NOT NULL,
    reason             TEXT         NOT NULL,
    approver_groups    TEXT         NOT NULL,
    approvals_required INTEGER      NOT NULL,
    approvals          TEXT         NOT NULL,
    denial             TEXT         NOT NULL,
    created_at         BIGINT       NOT NULL,
    expires_at         BIGINT       NOT NULL,
    detail             TEXT         NOT NULL DEFAULT '',
    grant_seconds      BIGINT       NOT NULL DEFAULT 0,
    grant_until        BIGINT       NOT NULL DEFAULT 0
);
CREATE INDEX approval_request_state ON approval_request (state, created_at);
CREATE INDEX approval_request_grant ON approval_request (requester_subject, connection_name, rule_id) WHERE grant_seconds > 0;
