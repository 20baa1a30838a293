-- +goose Up
-- Named leader leases (issue 10, schedules): which replica runs a duty
-- that must run once (a pulled mapping's polls, a schedule, a scheduled
-- reconcile). token grows each time the lease is granted anew (the fence
-- against a deposed leader); mark is what holders recorded (a schedule's
-- last firing) and outlives owners. Times in Unix milliseconds; until 0
-- after a release.
CREATE TABLE leader_leases (
    name  TEXT   NOT NULL PRIMARY KEY,
    owner TEXT   NOT NULL,
    token BIGINT NOT NULL,
    until BIGINT NOT NULL,
    mark  BIGINT NOT NULL DEFAULT 0
);

-- +goose Down
DROP TABLE leader_leases;
