-- +goose Up
-- What the store remembers of each mapping an engine served (JSON of
-- forcesync.MappingMemo), so a mapping removed from the config is noticed
-- after a restart or reload, and a narrowed scope is swept once.
CREATE TABLE mapping_memos (
    name       TEXT    PRIMARY KEY,
    connection TEXT    NOT NULL,
    memo       TEXT    NOT NULL,
    updated    INTEGER NOT NULL
) WITHOUT ROWID;

-- +goose Down
DROP TABLE mapping_memos;
