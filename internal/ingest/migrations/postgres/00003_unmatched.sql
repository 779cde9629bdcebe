-- +goose Up
-- The header of an uploaded file, and its columns (or the fields of pushed
-- records) that map to no data item, as JSON arrays: unmatched columns are
-- reported on the batch, never silently ignored, and the console's mapping
-- editor starts from the last upload's header.
ALTER TABLE ingest_batches ADD COLUMN unmatched TEXT NOT NULL DEFAULT '[]';
ALTER TABLE ingest_batches ADD COLUMN header TEXT NOT NULL DEFAULT '[]';

-- +goose Down
ALTER TABLE ingest_batches DROP COLUMN header;
ALTER TABLE ingest_batches DROP COLUMN unmatched;
