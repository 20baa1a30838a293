-- +goose Up
-- Claims look only at rows nobody holds: leased rows leave the index, so a
-- claim never steps over another worker's batch, and a row leaves it once
-- (when leased) instead of moving in it. Leases that ran out (a crashed
-- process) are returned by a sweep.
DROP INDEX outbox_due;
CREATE INDEX outbox_free ON outbox (mapping, priority, due_at, enqueued) WHERE lease_owner IS NULL;

-- Only records with a problem are listed by state; synced and pending ones,
-- the great majority, no longer move in an index at every write.
DROP INDEX statuses_state;
CREATE INDEX statuses_problems ON statuses (mapping, state, updated) WHERE state IN ('held', 'retrying');

-- Store-wide counters. outbox_seq numbers every write of outbox rows, so a
-- row's seq never repeats for a key, even after the row was deleted and
-- created again: a claim can tell the row it read from the row it leases.
CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO counters (name, value) VALUES ('outbox_seq', (SELECT COALESCE(MAX(seq), 0) FROM outbox));

-- +goose Down
DROP TABLE counters;
DROP INDEX statuses_problems;
CREATE INDEX statuses_state ON statuses (mapping, state, updated);
DROP INDEX outbox_free;
CREATE INDEX outbox_due ON outbox (mapping, priority, due_at);
