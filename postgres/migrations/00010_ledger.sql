-- +goose Up
-- forcesync's own API calls per connection, minute and lane, so the budget
-- governor counts a rolling 24 hours that a restart does not forget.
CREATE TABLE api_calls (
    connection TEXT    NOT NULL,
    minute     BIGINT NOT NULL, -- Unix ms of the minute's start
    lane       TEXT    NOT NULL,
    calls      BIGINT NOT NULL,
    PRIMARY KEY (connection, minute, lane)
);

-- The governor's last state per connection (pause, reason, resume time),
-- read by `forcesync status` and by other replicas.
CREATE TABLE budget_state (
    connection TEXT    PRIMARY KEY,
    paused     TEXT    NOT NULL, -- lanes, comma-separated; empty when running
    reason     TEXT    NOT NULL,
    since      BIGINT NOT NULL,
    resume_at  BIGINT NOT NULL,
    own        BIGINT NOT NULL,
    budget     BIGINT NOT NULL,
    org_used   BIGINT NOT NULL,
    org_max    BIGINT NOT NULL,
    updated    BIGINT NOT NULL
);

-- Bulk API jobs created and not yet collected: a process killed while one
-- runs finds it at start and aborts or awaits it.
CREATE TABLE bulk_jobs (
    connection TEXT    NOT NULL,
    id         TEXT    NOT NULL,
    owner      TEXT    NOT NULL,
    mapping    TEXT    NOT NULL,
    object     TEXT    NOT NULL,
    created    BIGINT NOT NULL,
    PRIMARY KEY (connection, id)
);

-- The oldest queued change per mapping, for the backlog age metric.
CREATE INDEX outbox_enqueued ON outbox (mapping, enqueued);

-- +goose Down
DROP INDEX outbox_enqueued;
DROP TABLE bulk_jobs;
DROP TABLE budget_state;
DROP TABLE api_calls;
