-- +goose Up
-- forcesync's own API calls per connection, minute and lane, so the budget
-- governor counts a rolling 24 hours that a restart does not forget.
CREATE TABLE api_calls (
    connection TEXT    NOT NULL,
    minute     INTEGER NOT NULL, -- Unix ms of the minute's start
    lane       TEXT    NOT NULL,
    calls      INTEGER NOT NULL,
    PRIMARY KEY (connection, minute, lane)
) WITHOUT ROWID;

-- The governor's last state per connection (pause, reason, resume time),
-- read by `forcesync status` and by other processes on the same file.
CREATE TABLE budget_state (
    connection TEXT    PRIMARY KEY,
    paused     TEXT    NOT NULL, -- lanes, comma-separated; empty when running
    reason     TEXT    NOT NULL,
    since      INTEGER NOT NULL,
    resume_at  INTEGER NOT NULL,
    own        INTEGER NOT NULL,
    budget     INTEGER NOT NULL,
    org_used   INTEGER NOT NULL,
    org_max    INTEGER NOT NULL,
    updated    INTEGER NOT NULL
) WITHOUT ROWID;

-- Bulk API jobs created and not yet collected: a process killed while one
-- runs finds it at start and aborts or awaits it.
CREATE TABLE bulk_jobs (
    connection TEXT    NOT NULL,
    id         TEXT    NOT NULL,
    owner      TEXT    NOT NULL,
    mapping    TEXT    NOT NULL,
    object     TEXT    NOT NULL,
    created    INTEGER NOT NULL,
    PRIMARY KEY (connection, id)
) WITHOUT ROWID;

-- The oldest queued change per mapping, for the backlog age metric.
CREATE INDEX outbox_enqueued ON outbox (mapping, enqueued);

-- +goose Down
DROP INDEX outbox_enqueued;
DROP TABLE bulk_jobs;
DROP TABLE budget_state;
DROP TABLE api_calls;
