-- +goose Up
-- entries: the identity of a catalog entry; its content lives in versions.
CREATE TABLE entries (
    id                   INTEGER PRIMARY KEY,
    code                 TEXT NOT NULL UNIQUE,
    class                TEXT NOT NULL,
    provider_id          INTEGER NOT NULL REFERENCES bodies(id),
    region_code          TEXT NOT NULL,
    scope                TEXT NOT NULL,
    status               TEXT NOT NULL,
    current_version_id   INTEGER,
    published_version_id INTEGER,
    draft_version_id     INTEGER,
    versions             INTEGER NOT NULL DEFAULT 0,
    published_at         TEXT,
    first_published_at   TEXT,
    created_at           TEXT NOT NULL,
    updated_at           TEXT NOT NULL
);
CREATE INDEX entries_provider ON entries(provider_id);
CREATE INDEX entries_region ON entries(region_code);
CREATE INDEX entries_status ON entries(status);

CREATE TABLE entry_versions (
    id              INTEGER PRIMARY KEY,
    entry_id        INTEGER NOT NULL REFERENCES entries(id),
    number          INTEGER NOT NULL,
    status          TEXT NOT NULL,
    name            TEXT NOT NULL,
    class           TEXT NOT NULL,
    abstract        TEXT NOT NULL,
    format_class    TEXT NOT NULL,
    format_type     TEXT NOT NULL,
    share_type      TEXT NOT NULL,
    share_condition TEXT NOT NULL DEFAULT '',
    share_method    TEXT NOT NULL DEFAULT '',
    share_channel   TEXT NOT NULL DEFAULT '',
    open_type       TEXT NOT NULL,
    open_condition  TEXT NOT NULL DEFAULT '',
    cycle           TEXT NOT NULL,
    grade           TEXT NOT NULL,
    author_id       INTEGER NOT NULL DEFAULT 0,
    author          TEXT NOT NULL DEFAULT '',
    reason          TEXT NOT NULL DEFAULT '',
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    submitted_at    TEXT,
    submitter       TEXT NOT NULL DEFAULT '',
    reviewed_at     TEXT,
    reviewer_id     INTEGER NOT NULL DEFAULT 0,
    reviewer        TEXT NOT NULL DEFAULT '',
    review_comment  TEXT NOT NULL DEFAULT '',
    published_at    TEXT,
    closed_at       TEXT,
    closed_by       TEXT NOT NULL DEFAULT '',
    closed_reason   TEXT NOT NULL DEFAULT '',
    UNIQUE (entry_id, number)
);
CREATE INDEX entry_versions_status ON entry_versions(status, submitted_at);

CREATE TABLE entry_items (
    version_id INTEGER NOT NULL REFERENCES entry_versions(id) ON DELETE CASCADE,
    pos        INTEGER NOT NULL,
    name       TEXT NOT NULL,
    en_name    TEXT NOT NULL DEFAULT '',
    data_type  TEXT NOT NULL,
    length     INTEGER NOT NULL DEFAULT 0,
    required   BOOLEAN NOT NULL DEFAULT FALSE,
    is_key     BOOLEAN NOT NULL DEFAULT FALSE,
    sensitive  BOOLEAN NOT NULL DEFAULT FALSE,
    mask       TEXT NOT NULL DEFAULT 'none',
    code_list  TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (version_id, pos)
);

CREATE TABLE entry_related (
    version_id INTEGER NOT NULL REFERENCES entry_versions(id) ON DELETE CASCADE,
    pos        INTEGER NOT NULL,
    code       TEXT NOT NULL,
    PRIMARY KEY (version_id, pos)
);

-- entry_events: the workflow history (who did what, when and why).
CREATE TABLE entry_events (
    id       INTEGER PRIMARY KEY,
    entry_id INTEGER NOT NULL REFERENCES entries(id),
    version  INTEGER NOT NULL,
    action   TEXT NOT NULL,
    actor_id INTEGER NOT NULL DEFAULT 0,
    actor    TEXT NOT NULL DEFAULT '',
    comment  TEXT NOT NULL DEFAULT '',
    detail   TEXT NOT NULL DEFAULT '',
    at       TEXT NOT NULL
);
CREATE INDEX entry_events_entry ON entry_events(entry_id, id);

-- class_sequences: the last sequence number used per classification code.
CREATE TABLE class_sequences (
    class TEXT PRIMARY KEY,
    last  INTEGER NOT NULL
);

CREATE TABLE responsibility_list (
    id           INTEGER PRIMARY KEY,
    body_id      INTEGER NOT NULL REFERENCES bodies(id),
    name         TEXT NOT NULL,
    basis        TEXT NOT NULL DEFAULT '',
    due          TEXT NOT NULL DEFAULT '',
    note         TEXT NOT NULL DEFAULT '',
    entry_id     INTEGER REFERENCES entries(id),
    status       TEXT NOT NULL,
    created_by   TEXT NOT NULL DEFAULT '',
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    completed_at TEXT
);
CREATE INDEX responsibility_body ON responsibility_list(body_id);
CREATE INDEX responsibility_entry ON responsibility_list(entry_id);

CREATE TABLE demand_list (
    id           INTEGER PRIMARY KEY,
    body_id      INTEGER NOT NULL REFERENCES bodies(id),
    title        TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    items        TEXT NOT NULL DEFAULT '',
    status       TEXT NOT NULL,
    close_reason TEXT NOT NULL DEFAULT '',
    created_by   TEXT NOT NULL DEFAULT '',
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);
CREATE INDEX demand_body ON demand_list(body_id);

CREATE TABLE demand_links (
    demand_id INTEGER NOT NULL REFERENCES demand_list(id),
    entry_id  INTEGER NOT NULL REFERENCES entries(id),
    linked_by TEXT NOT NULL DEFAULT '',
    linked_at TEXT NOT NULL,
    PRIMARY KEY (demand_id, entry_id)
);
CREATE INDEX demand_links_entry ON demand_links(entry_id);

-- negative_list: exactly the entries whose version in force is 不予共享.
CREATE TABLE negative_list (
    entry_id   INTEGER PRIMARY KEY REFERENCES entries(id),
    version_id INTEGER NOT NULL,
    basis      TEXT NOT NULL,
    added_by   TEXT NOT NULL DEFAULT '',
    added_at   TEXT NOT NULL
);

-- +goose Down
DROP TABLE negative_list;
DROP TABLE demand_links;
DROP TABLE demand_list;
DROP TABLE responsibility_list;
DROP TABLE class_sequences;
DROP TABLE entry_events;
DROP TABLE entry_related;
DROP TABLE entry_items;
DROP TABLE entry_versions;
DROP TABLE entries;
