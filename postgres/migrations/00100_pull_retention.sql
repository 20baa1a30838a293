-- +goose Up
-- Pull retention (issue 10): the Contact a converted Lead became, carried
-- by its convert event; the highest Seq pruned per mapping, which tells a
-- changes-feed cursor older than the retention from a current one; and an
-- index to find old events by mapping and time.
ALTER TABLE pull_events ADD COLUMN converted_to TEXT NOT NULL DEFAULT '';
CREATE INDEX pull_events_at ON pull_events (mapping, at);
CREATE TABLE pull_pruned (
    mapping TEXT    NOT NULL PRIMARY KEY,
    through BIGINT NOT NULL
);

-- +goose Down
DROP TABLE pull_pruned;
DROP INDEX pull_events_at;
ALTER TABLE pull_events DROP COLUMN converted_to;
