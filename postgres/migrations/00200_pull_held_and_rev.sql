-- +goose Up
-- The two-way fields a push held back (Salesforce changed them since the
-- last sync), each with the SystemModstamp the push read: JSON
-- {"<Salesforce field>": Unix ms}, '' when none. A poll judges
-- newest_wins for such a field by it, not by the SystemModstamp the
-- push's own write gave the record.
ALTER TABLE push_notes ADD COLUMN held TEXT NOT NULL DEFAULT '';

-- The pulled changes written to a source record. A pulled change keeps
-- the record's version (the application's numbering of its own changes,
-- whose next one must not be refused as old) and counts itself here, so
-- a pull deciding on a record can tell that another pull changed it.
ALTER TABLE source_records ADD COLUMN pull_rev BIGINT NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE source_records DROP COLUMN pull_rev;
ALTER TABLE push_notes DROP COLUMN held;
