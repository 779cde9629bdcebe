-- +goose Up
-- The outbox: side effects of a committed change (its audit record, mail to
-- send, …) written in the change's own transaction and delivered after
-- commit, also after a crash.
CREATE TABLE xy_outbox (
    id      BIGSERIAL PRIMARY KEY,
    topic   TEXT   NOT NULL,
    payload TEXT   NOT NULL,
    created TEXT   NOT NULL
);
CREATE INDEX xy_outbox_topic ON xy_outbox (topic, id);

-- +goose Down
DROP TABLE xy_outbox;
