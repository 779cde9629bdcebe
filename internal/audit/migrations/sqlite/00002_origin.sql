-- +goose Up
-- origin names the outbox message ("control:1234") a record was delivered
-- from, so that a message delivered twice (a crash between append and
-- acknowledgement) is recorded once. It is bookkeeping, outside the leaf hash.
ALTER TABLE audit_records ADD COLUMN origin TEXT;
CREATE UNIQUE INDEX audit_records_origin ON audit_records (origin);

-- +goose Down
DROP INDEX audit_records_origin;
ALTER TABLE audit_records DROP COLUMN origin;
