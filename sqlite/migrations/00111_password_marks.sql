-- +goose Up
-- A User's password accepted and not yet set: the mark only, never the
-- password, so a restart that lost the password (kept in memory) shows it.
CREATE TABLE password_marks (
    source TEXT    NOT NULL,
    key    TEXT    NOT NULL,
    at     INTEGER NOT NULL,
    PRIMARY KEY (source, key)
) WITHOUT ROWID;

-- +goose Down
DROP TABLE password_marks;
