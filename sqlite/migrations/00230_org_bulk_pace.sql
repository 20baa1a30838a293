-- +goose Up
-- How long the org took per record of a Bulk ingest job (nanoseconds; 0
-- when not known yet), kept with its pin so the next process polls a new
-- job about when it should be done instead of learning the pace again.
ALTER TABLE org_pins ADD COLUMN bulk_pace_ns INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE org_pins DROP COLUMN bulk_pace_ns;
