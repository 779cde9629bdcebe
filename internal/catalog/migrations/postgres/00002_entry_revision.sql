-- +goose Up
-- revision: the entry's row version, raised by every change of the entry or
-- its working versions. An edit names the revision it was made on and is
-- refused when the entry has moved on since (no silently lost updates).
ALTER TABLE entries ADD COLUMN revision BIGINT NOT NULL DEFAULT 1;

-- +goose Down
ALTER TABLE entries DROP COLUMN revision;
