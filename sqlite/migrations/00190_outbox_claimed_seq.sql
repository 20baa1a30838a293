-- +goose Up
-- A claim notes the seq each row had when it was claimed: a row whose seq
-- moved on since (a change accepted while the claim holds it) is in flight
-- with an older version of its record, which SettledReader reports
-- (Overtaken). A row leased when the store is upgraded has none, and
-- counts as overtaken until its claim ends.
ALTER TABLE outbox ADD COLUMN claimed_seq BIGINT;

-- +goose Down
ALTER TABLE outbox DROP COLUMN claimed_seq;
