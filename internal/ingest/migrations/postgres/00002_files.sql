-- +goose Up
-- File resources (文件): every version of an entry's file attachments. The
-- bytes live in the blob store under their SHA-256; a row is written only
-- once the blob is stored.
CREATE TABLE ingest_files (
    entry_id   BIGINT  NOT NULL,
    version    INTEGER NOT NULL,
    name       TEXT    NOT NULL,
    size       BIGINT  NOT NULL,
    media_type TEXT    NOT NULL,
    sha256     TEXT    NOT NULL,
    same_as    INTEGER NOT NULL DEFAULT 0,
    user_id    BIGINT  NOT NULL,
    user_name  TEXT    NOT NULL DEFAULT '',
    note       TEXT    NOT NULL DEFAULT '',
    created_at TEXT    NOT NULL,
    PRIMARY KEY (entry_id, version)
);
CREATE INDEX ingest_files_sha ON ingest_files (entry_id, sha256, version);

-- The latest version of each entry's file and its content: version numbers
-- are handed out here (one row per entry, updated with a condition), so
-- they are dense, and a version identical to the one before is refused.
CREATE TABLE ingest_file_heads (
    entry_id BIGINT  PRIMARY KEY,
    version  INTEGER NOT NULL,
    sha256   TEXT    NOT NULL
);

-- +goose Down
DROP TABLE ingest_file_heads;
DROP TABLE ingest_files;
