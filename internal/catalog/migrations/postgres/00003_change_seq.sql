-- +goose Up
-- change_seq: the catalog change that last touched an entry, for the search
-- index to catch up from after a crash (it stores the last one it applied).
-- Allocated from change_counter in the changing transaction, whose row lock
-- makes sequence order commit order.
ALTER TABLE entries ADD COLUMN change_seq BIGINT NOT NULL DEFAULT 0;
CREATE INDEX entries_change_seq ON entries(change_seq);
CREATE TABLE change_counter (
    name TEXT PRIMARY KEY,
    v    BIGINT NOT NULL
);
INSERT INTO change_counter(name, v) VALUES ('catalog', 0);

-- +goose Down
DROP TABLE change_counter;
DROP INDEX entries_change_seq;
ALTER TABLE entries DROP COLUMN change_seq;
