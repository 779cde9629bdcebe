-- +goose Up
-- Delivery state of the outbox's mail messages: a sender claims a message
-- until next_at before sending it (so two nodes never send it at once) and,
-- when sending fails, sets next_at to the next try, doubling the wait with
-- each attempt. The row goes when the message is delivered.
CREATE TABLE notify_mail (
    msg_id   BIGINT  PRIMARY KEY,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at  TEXT    NOT NULL,
    error    TEXT    NOT NULL DEFAULT ''
);

-- +goose Down
DROP TABLE notify_mail;
