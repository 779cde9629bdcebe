-- +goose Up
CREATE TABLE audit_records (
    seq        BIGINT PRIMARY KEY,
    time       TEXT   NOT NULL,
    actor_id   BIGINT NOT NULL DEFAULT 0,
    actor      TEXT   NOT NULL,
    action     TEXT   NOT NULL,
    object     TEXT   NOT NULL DEFAULT '',
    outcome    TEXT   NOT NULL,
    ip         TEXT   NOT NULL DEFAULT '',
    request_id TEXT   NOT NULL DEFAULT '',
    detail     TEXT   NOT NULL DEFAULT '{}',
    leaf_hash  TEXT   NOT NULL
);
CREATE INDEX audit_records_time ON audit_records (time);
CREATE INDEX audit_records_actor ON audit_records (actor, seq);
CREATE INDEX audit_records_action ON audit_records (action text_pattern_ops, seq);
CREATE INDEX audit_records_object ON audit_records (object, seq);

-- Stored hashes of the RFC 6962 tree, indexed by tlog.StoredHashIndex.
CREATE TABLE audit_hashes (
    id   BIGINT PRIMARY KEY,
    hash BYTEA  NOT NULL
);

-- The current signed tree head: exactly one row, locked by writers.
CREATE TABLE audit_head (
    id      SMALLINT PRIMARY KEY CHECK (id = 1),
    size    BIGINT   NOT NULL,
    root    TEXT     NOT NULL,
    note    TEXT     NOT NULL,
    updated TEXT     NOT NULL
);

-- Signed tree heads kept for verification.
CREATE TABLE audit_checkpoints (
    size    BIGINT PRIMARY KEY,
    root    TEXT   NOT NULL,
    note    TEXT   NOT NULL,
    created TEXT   NOT NULL
);

-- +goose Down
DROP TABLE audit_checkpoints;
DROP TABLE audit_head;
DROP TABLE audit_hashes;
DROP TABLE audit_records;
