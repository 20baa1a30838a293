-- +goose Up
-- Console sessions: id is the SHA-256 of the browser's token, never the
-- token itself. Times in Unix milliseconds.
CREATE TABLE console_sessions (
    id       TEXT   NOT NULL PRIMARY KEY,
    username TEXT   NOT NULL,
    created  BIGINT NOT NULL,
    expires  BIGINT NOT NULL
);
CREATE INDEX console_sessions_expires ON console_sessions (expires);

-- +goose Down
DROP TABLE console_sessions;
