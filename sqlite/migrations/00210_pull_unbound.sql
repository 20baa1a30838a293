-- +goose Up
-- The bindings a pull removed because Salesforce deleted the record (or
-- merged it away): the Salesforce Id, the key it was bound to and when
-- (Unix ms). A record restored from Salesforce's recycle bin comes back
-- under that key instead of as a new sf:<Id> record. Kept a while past
-- the recycle bin's 15 days (pruned with the mapping's pulled changes).
CREATE TABLE pull_unbound (
    mapping TEXT    NOT NULL,
    sf_id   TEXT    NOT NULL,
    key     TEXT    NOT NULL,
    at      INTEGER NOT NULL,
    PRIMARY KEY (mapping, sf_id)
) WITHOUT ROWID;

-- +goose Down
DROP TABLE pull_unbound;
