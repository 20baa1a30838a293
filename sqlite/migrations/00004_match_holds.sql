-- +goose Up
-- Match values (say, an email) a worker is looking up in Salesforce right
-- now, so another worker, in this process or another on the same file,
-- waits instead of finding nothing too and creating a twin.
CREATE TABLE match_holds (
    mapping TEXT    NOT NULL,
    value   TEXT    NOT NULL,
    owner   TEXT    NOT NULL,
    until   INTEGER NOT NULL,
    PRIMARY KEY (mapping, value)
) WITHOUT ROWID;

-- +goose Down
DROP TABLE match_holds;
