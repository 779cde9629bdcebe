-- +goose Up
-- share_call_stats: daily aggregates of gateway calls (调用统计), one row per day, application, consuming body,
-- entry, grant, kind, outcome and purpose. Gateway nodes add to a row (calls = calls + n), never overwrite it.
CREATE TABLE share_call_stats (
    day        TEXT NOT NULL,
    app_id     BIGINT NOT NULL,
    body_id    BIGINT NOT NULL,
    entry_id   BIGINT NOT NULL,
    grant_id   BIGINT NOT NULL,
    kind       TEXT NOT NULL,
    outcome    TEXT NOT NULL,
    purpose    TEXT NOT NULL,
    calls      BIGINT NOT NULL,
    latency_us BIGINT NOT NULL,
    PRIMARY KEY (day, app_id, body_id, entry_id, grant_id, kind, outcome, purpose)
);
CREATE INDEX share_call_stats_body ON share_call_stats (body_id, day);
CREATE INDEX share_call_stats_entry ON share_call_stats (entry_id, day);
CREATE INDEX share_call_stats_grant ON share_call_stats (grant_id, day);

-- +goose Down
DROP TABLE share_call_stats;
