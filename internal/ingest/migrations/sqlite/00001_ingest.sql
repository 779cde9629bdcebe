-- +goose Up
-- One row per entry that holds records: its typed table (rec_<entry id>).
CREATE TABLE ingest_tables (
    entry_id   BIGINT  PRIMARY KEY,
    table_name TEXT    NOT NULL,
    key_cols   TEXT    NOT NULL DEFAULT '',
    next_col   INTEGER NOT NULL DEFAULT 1,
    created_at TEXT    NOT NULL,
    updated_at TEXT    NOT NULL
);

-- The generated column (c1, c2 …) of each data item, by item name; a column
-- outlives the item so that no value is ever lost.
CREATE TABLE ingest_columns (
    entry_id  BIGINT  NOT NULL,
    item      TEXT    NOT NULL,
    col       TEXT    NOT NULL,
    data_type TEXT    NOT NULL,
    length    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (entry_id, item)
);

-- Lineage of every upload and push.
CREATE TABLE ingest_batches (
    id          INTEGER PRIMARY KEY,
    entry_id    BIGINT  NOT NULL,
    status      TEXT    NOT NULL,
    source      TEXT    NOT NULL,
    mode        TEXT    NOT NULL,
    on_error    TEXT    NOT NULL,
    file_name   TEXT    NOT NULL DEFAULT '',
    format      TEXT    NOT NULL DEFAULT '',
    encoding    TEXT    NOT NULL DEFAULT '',
    sha256      TEXT    NOT NULL DEFAULT '',
    size        BIGINT  NOT NULL DEFAULT 0,
    user_id     BIGINT  NOT NULL DEFAULT 0,
    user_name   TEXT    NOT NULL DEFAULT '',
    rows_read   BIGINT  NOT NULL DEFAULT 0,
    accepted    BIGINT  NOT NULL DEFAULT 0,
    rejected    BIGINT  NOT NULL DEFAULT 0,
    cancel      BOOLEAN NOT NULL DEFAULT FALSE,
    message_zh  TEXT    NOT NULL DEFAULT '',
    message_en  TEXT    NOT NULL DEFAULT '',
    started_at  TEXT    NOT NULL,
    finished_at TEXT
);
CREATE INDEX ingest_batches_entry ON ingest_batches (entry_id, id);
CREATE INDEX ingest_batches_sha ON ingest_batches (entry_id, sha256);

CREATE TABLE ingest_errors (
    id         INTEGER PRIMARY KEY,
    batch_id   BIGINT  NOT NULL,
    row_num    BIGINT  NOT NULL,
    col        TEXT    NOT NULL DEFAULT '',
    value      TEXT    NOT NULL DEFAULT '',
    rule       TEXT    NOT NULL,
    message_zh TEXT    NOT NULL,
    message_en TEXT    NOT NULL
);
CREATE INDEX ingest_errors_batch ON ingest_errors (batch_id, row_num, id);

-- Column mappings a user corrected and saved: source header → item.
CREATE TABLE ingest_mappings (
    entry_id BIGINT NOT NULL,
    header   TEXT   NOT NULL,
    item     TEXT   NOT NULL,
    PRIMARY KEY (entry_id, header)
);

-- Old values of records that a batch changed or deleted, by generated
-- column, so that a correction always shows what was there before.
CREATE TABLE ingest_history (
    id         INTEGER PRIMARY KEY,
    entry_id   BIGINT  NOT NULL,
    record_id  BIGINT  NOT NULL,
    batch_id   BIGINT  NOT NULL,
    old_values TEXT    NOT NULL,
    old_batch  BIGINT,
    old_version INTEGER NOT NULL,
    changed_at TEXT    NOT NULL
);
CREATE INDEX ingest_history_record ON ingest_history (entry_id, record_id, id);

-- Idempotency keys of real-time pushes, per entry and user.
CREATE TABLE ingest_push_keys (
    entry_id   BIGINT NOT NULL,
    user_id    BIGINT NOT NULL,
    idem_key   TEXT   NOT NULL,
    body_hash  TEXT   NOT NULL,
    batch_id   BIGINT NOT NULL,
    response   TEXT,
    created_at TEXT   NOT NULL,
    PRIMARY KEY (entry_id, user_id, idem_key)
);

-- +goose Down
DROP TABLE ingest_push_keys;
DROP TABLE ingest_history;
DROP TABLE ingest_mappings;
DROP TABLE ingest_errors;
DROP TABLE ingest_batches;
DROP TABLE ingest_columns;
DROP TABLE ingest_tables;
