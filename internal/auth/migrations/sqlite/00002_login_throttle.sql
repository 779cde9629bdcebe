-- +goose Up
-- Sign-in attempts per client address in the current one-minute window,
-- shared by every node of an installation.
CREATE TABLE login_throttle (
    address      TEXT PRIMARY KEY,
    window_start TEXT NOT NULL,
    attempts     INTEGER NOT NULL
);

-- +goose Down
DROP TABLE login_throttle;
