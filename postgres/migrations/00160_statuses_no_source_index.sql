-- +goose Up
-- A record's statuses are read by walking the mappings of the primary key
-- (storeplan.StatusesOfRecord); the (source, key) index cost every status
-- write a b-tree insert for that rare read.
DROP INDEX statuses_source;

-- +goose Down
CREATE INDEX statuses_source ON statuses (source, key);
