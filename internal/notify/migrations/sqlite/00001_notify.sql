-- +goose Up
-- One row per recipient. Titles and bodies are kept in both languages so
-- that the inbox renders in the reader's language.
CREATE TABLE notifications (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL,
    kind       TEXT    NOT NULL,
    title_zh   TEXT    NOT NULL,
    title_en   TEXT    NOT NULL,
    body_zh    TEXT    NOT NULL DEFAULT '',
    body_en    TEXT    NOT NULL DEFAULT '',
    link       TEXT    NOT NULL DEFAULT '',
    created_at TEXT    NOT NULL,
    read_at    TEXT,
    -- dedup_key makes a periodic notice (a review deadline) one per
    -- recipient however many nodes or runs produce it; NULL for others.
    dedup_key  TEXT
);
CREATE INDEX notifications_user ON notifications (user_id, id);
-- The header badge counts these on every page view.
CREATE INDEX notifications_unread ON notifications (user_id) WHERE read_at IS NULL;
CREATE UNIQUE INDEX notifications_dedup ON notifications (dedup_key, user_id);

-- +goose Down
DROP TABLE notifications;
