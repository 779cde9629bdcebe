-- +goose Up
-- share_applications: a consuming body's applications (应用), the systems
-- that call the gateway with their credentials.
CREATE TABLE share_applications (
    id                INTEGER PRIMARY KEY,
    body_id           INTEGER NOT NULL REFERENCES bodies(id),
    name              TEXT NOT NULL,
    purpose           TEXT NOT NULL DEFAULT '',
    contact           TEXT NOT NULL DEFAULT '',
    systems           TEXT NOT NULL DEFAULT '',
    require_signature BOOLEAN NOT NULL DEFAULT FALSE,
    status            TEXT NOT NULL,
    created_by        TEXT NOT NULL DEFAULT '',
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
);
CREATE INDEX share_applications_body ON share_applications(body_id);

-- share_credentials: an application's keys. The secret is never stored:
-- only its SHA-256, and the HMAC signing key sealed with the platform key.
CREATE TABLE share_credentials (
    key_id         TEXT PRIMARY KEY,
    app_id         INTEGER NOT NULL REFERENCES share_applications(id),
    secret_hash    TEXT NOT NULL,
    signing_sealed TEXT NOT NULL DEFAULT '',
    created_by     TEXT NOT NULL DEFAULT '',
    created_at     TEXT NOT NULL,
    not_after      TEXT,
    revoked_at     TEXT,
    revoked_by     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX share_credentials_app ON share_credentials(app_id);

-- share_scenarios: application scenarios (应用场景, §26) defined by the
-- platform; a request within one's bounds is granted directly.
CREATE TABLE share_scenarios (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    bodies      TEXT NOT NULL DEFAULT '[]',
    created_by  TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    revision    INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE share_scenario_entries (
    scenario_id INTEGER NOT NULL REFERENCES share_scenarios(id) ON DELETE CASCADE,
    entry_id    INTEGER NOT NULL REFERENCES entries(id),
    items       TEXT NOT NULL,
    PRIMARY KEY (scenario_id, entry_id)
);

-- share_requests: share requests (共享申请) and where their review stands.
CREATE TABLE share_requests (
    id             INTEGER PRIMARY KEY,
    app_id         INTEGER NOT NULL REFERENCES share_applications(id),
    body_id        INTEGER NOT NULL REFERENCES bodies(id),
    entry_id       INTEGER NOT NULL REFERENCES entries(id),
    provider_id    INTEGER NOT NULL REFERENCES bodies(id),
    share_type     TEXT NOT NULL,
    items          TEXT NOT NULL,
    purpose        TEXT NOT NULL,
    basis          TEXT NOT NULL DEFAULT '',
    row_scope      TEXT NOT NULL DEFAULT '{}',
    valid_from     TEXT,
    valid_to       TEXT,
    scenario_id    INTEGER REFERENCES share_scenarios(id) ON DELETE SET NULL,
    demand_id      INTEGER,
    status         TEXT NOT NULL,
    step           TEXT NOT NULL DEFAULT '',
    waiting        BOOLEAN NOT NULL DEFAULT FALSE,
    asked_platform BOOLEAN NOT NULL DEFAULT FALSE,
    asked_provider BOOLEAN NOT NULL DEFAULT FALSE,
    more_needed    TEXT NOT NULL DEFAULT '',
    step_started   TEXT,
    due_at         TEXT,
    no_data        BOOLEAN NOT NULL DEFAULT FALSE,
    refuse_reason  TEXT NOT NULL DEFAULT '',
    grant_id       INTEGER,
    revision       INTEGER NOT NULL DEFAULT 1,
    created_by_id  INTEGER NOT NULL DEFAULT 0,
    created_by     TEXT NOT NULL DEFAULT '',
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    decided_at     TEXT
);
CREATE INDEX share_requests_body ON share_requests(body_id);
CREATE INDEX share_requests_provider ON share_requests(provider_id);
CREATE INDEX share_requests_status ON share_requests(status, step);

-- share_request_events: every step of a request: who, when, what, comment.
CREATE TABLE share_request_events (
    id         INTEGER PRIMARY KEY,
    request_id INTEGER NOT NULL REFERENCES share_requests(id),
    at         TEXT NOT NULL,
    actor_id   INTEGER NOT NULL DEFAULT 0,
    actor      TEXT NOT NULL DEFAULT '',
    action     TEXT NOT NULL,
    step       TEXT NOT NULL DEFAULT '',
    comment    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX share_request_events_request ON share_request_events(request_id);

-- share_grants: sharing agreements (共享授权). One active grant per
-- application and entry: a newer grant supersedes the older one.
CREATE TABLE share_grants (
    id            INTEGER PRIMARY KEY,
    request_id    INTEGER NOT NULL UNIQUE REFERENCES share_requests(id),
    app_id        INTEGER NOT NULL REFERENCES share_applications(id),
    body_id       INTEGER NOT NULL REFERENCES bodies(id),
    entry_id      INTEGER NOT NULL REFERENCES entries(id),
    provider_id   INTEGER NOT NULL REFERENCES bodies(id),
    items         TEXT NOT NULL,
    clear_items   TEXT NOT NULL DEFAULT '[]',
    row_scope     TEXT NOT NULL DEFAULT '{}',
    rate          INTEGER NOT NULL DEFAULT 0,
    burst         INTEGER NOT NULL DEFAULT 0,
    daily_quota   INTEGER NOT NULL DEFAULT 0,
    valid_from    TEXT NOT NULL,
    valid_to      TEXT,
    purpose       TEXT NOT NULL DEFAULT '',
    scenario      TEXT NOT NULL DEFAULT '',
    status        TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    revoked_at    TEXT,
    revoked_by    TEXT NOT NULL DEFAULT '',
    revoke_reason TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX share_grants_active ON share_grants(app_id, entry_id) WHERE status = 'active';
CREATE INDEX share_grants_body ON share_grants(body_id);
CREATE INDEX share_grants_provider ON share_grants(provider_id);

-- share_services: HTTP services providers register on their entries (服务接口).
CREATE TABLE share_services (
    id         INTEGER PRIMARY KEY,
    entry_id   INTEGER NOT NULL UNIQUE REFERENCES entries(id),
    body_id    INTEGER NOT NULL REFERENCES bodies(id),
    base_url   TEXT NOT NULL,
    timeout_ms INTEGER NOT NULL,
    created_by TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- share_version: one row, raised in the same transaction as every change to
-- credentials, grants or services; gateway snapshots carry it.
CREATE TABLE share_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
);
INSERT INTO share_version (id, version) VALUES (1, 0);

-- +goose Down
DROP TABLE share_version;
DROP TABLE share_services;
DROP TABLE share_grants;
DROP TABLE share_request_events;
DROP TABLE share_requests;
DROP TABLE share_scenario_entries;
DROP TABLE share_scenarios;
DROP TABLE share_credentials;
DROP TABLE share_applications;
