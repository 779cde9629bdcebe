-- +goose Up
CREATE TABLE regions (
    code        TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    parent_code TEXT REFERENCES regions(code),
    level       INTEGER NOT NULL
);
CREATE INDEX regions_parent ON regions(parent_code);

CREATE TABLE bodies (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    credit_code TEXT NOT NULL UNIQUE,
    kind        TEXT NOT NULL,
    sector      TEXT NOT NULL DEFAULT '',
    region_code TEXT NOT NULL REFERENCES regions(code),
    parent_id   INTEGER REFERENCES bodies(id),
    enabled     BOOLEAN NOT NULL DEFAULT TRUE,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX bodies_parent ON bodies(parent_id);
CREATE INDEX bodies_region ON bodies(region_code);

-- +goose Down
DROP TABLE bodies;
DROP TABLE regions;
