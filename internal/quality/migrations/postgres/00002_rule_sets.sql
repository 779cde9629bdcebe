-- +goose Up
-- quality_rule_sets: the revision of an entry's rule set, so that a save
-- made on a set someone else has changed since is refused (lost update).
CREATE TABLE quality_rule_sets (
    entry_id   BIGINT PRIMARY KEY,
    revision   BIGINT NOT NULL,
    updated_by TEXT NOT NULL DEFAULT '',
    updated_at TEXT NOT NULL
);
