-- +goose Up
-- quality_rules: per-entry overrides of default rules and added rules.
CREATE TABLE quality_rules (
    id             INTEGER PRIMARY KEY,
    entry_id       INTEGER NOT NULL,
    rule_key       TEXT NOT NULL,
    kind           TEXT NOT NULL,
    items          TEXT NOT NULL DEFAULT '[]',
    params         TEXT NOT NULL DEFAULT '{}',
    threshold_kind TEXT NOT NULL DEFAULT 'count',
    threshold      REAL NOT NULL DEFAULT 0,
    dimension      TEXT NOT NULL,
    enabled        BOOLEAN NOT NULL DEFAULT TRUE,
    is_default     BOOLEAN NOT NULL DEFAULT FALSE,
    name           TEXT NOT NULL DEFAULT '',
    updated_by     TEXT NOT NULL DEFAULT '',
    updated_at     TEXT NOT NULL,
    UNIQUE (entry_id, rule_key)
);

-- quality_results: one row per batch and rule.
CREATE TABLE quality_results (
    batch_id   INTEGER NOT NULL,
    rule_key   TEXT NOT NULL,
    entry_id   INTEGER NOT NULL,
    kind       TEXT NOT NULL,
    items      TEXT NOT NULL DEFAULT '',
    dimension  TEXT NOT NULL,
    rows_total INTEGER NOT NULL,
    failed     INTEGER NOT NULL,
    passed     BOOLEAN NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (entry_id, batch_id, rule_key)
);

-- quality_history: an entry's scores after each batch (0–100; NULL where
-- the entry has no rule of that dimension).
CREATE TABLE quality_history (
    id           INTEGER PRIMARY KEY,
    entry_id     INTEGER NOT NULL,
    body_id      INTEGER NOT NULL,
    batch_id     INTEGER NOT NULL,
    at           TEXT NOT NULL,
    rows_total   INTEGER NOT NULL,
    rejected     INTEGER NOT NULL,
    affected     INTEGER NOT NULL,
    score        REAL NOT NULL,
    completeness REAL,
    validity     REAL,
    uniqueness   REAL,
    consistency  REAL,
    timeliness   REAL,
    accuracy     REAL,
    UNIQUE (entry_id, batch_id)
);
CREATE INDEX quality_history_body ON quality_history(body_id, at);

-- quality_entries: an entry's latest state, for freshness and rankings.
CREATE TABLE quality_entries (
    entry_id      INTEGER PRIMARY KEY,
    body_id       INTEGER NOT NULL,
    last_batch_id INTEGER NOT NULL,
    last_batch_at TEXT NOT NULL
);
CREATE INDEX quality_entries_body ON quality_entries(body_id);

-- quality_incidents: a failing rule opens one; at most one open per entry
-- and rule.
CREATE TABLE quality_incidents (
    id              INTEGER PRIMARY KEY,
    entry_id        INTEGER NOT NULL,
    body_id         INTEGER NOT NULL,
    rule_key        TEXT NOT NULL,
    kind            TEXT NOT NULL,
    items           TEXT NOT NULL DEFAULT '',
    dimension       TEXT NOT NULL,
    status          TEXT NOT NULL,
    opened_batch_id INTEGER NOT NULL,
    last_batch_id   INTEGER NOT NULL,
    failed          INTEGER NOT NULL,
    rows_total      INTEGER NOT NULL,
    batches         INTEGER NOT NULL DEFAULT 1,
    opened_at       TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    acknowledged_at TEXT,
    acknowledged_by TEXT NOT NULL DEFAULT '',
    resolved_at     TEXT,
    resolved_by     TEXT NOT NULL DEFAULT '',
    reason          TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX quality_incidents_open ON quality_incidents(entry_id, rule_key) WHERE status <> 'resolved';
CREATE INDEX quality_incidents_body ON quality_incidents(body_id, status);

-- quality_sources: the platform's settlement of a data item claimed by
-- several bodies (一数一源).
CREATE TABLE quality_sources (
    item_name  TEXT PRIMARY KEY,
    body_id    INTEGER NOT NULL,
    note       TEXT NOT NULL DEFAULT '',
    settled_by TEXT NOT NULL DEFAULT '',
    settled_at TEXT NOT NULL
);
