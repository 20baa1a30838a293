-- +goose Up
-- The two-way fields a push held back (Salesforce changed them since the
-- last sync), each with the SystemModstamp the push read: JSON
-- {"<Salesforce field>": Unix ms}, '' when none. A poll judges
-- newest_wins for such a field by it, not by the SystemModstamp the
-- push's own write gave the record.
ALTER TABLE push_notes ADD COLUMN held TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE push_notes DROP COLUMN held;
