-- +goose Up
-- Each record's newest push attempts (console record page, the history
-- API): at most forcesync.HistoryKept rows per (mapping, key), the slot
-- being n modulo that, so a newer attempt overwrites the oldest.
CREATE TABLE record_history (
    mapping       TEXT    NOT NULL,
    key           TEXT    NOT NULL,
    slot          INTEGER NOT NULL,
    n             BIGINT  NOT NULL,
    at            BIGINT  NOT NULL,
    run_id        BIGINT  NOT NULL,
    op            TEXT    NOT NULL,
    state         TEXT    NOT NULL,
    sf_id         TEXT    NOT NULL,
    error_code    TEXT    NOT NULL,
    error_message TEXT    NOT NULL,
    error_fields  TEXT    NOT NULL,
    fingerprint   TEXT    NOT NULL,
    version       BIGINT  NOT NULL,
    PRIMARY KEY (mapping, key, slot)
);

-- +goose Down
DROP TABLE record_history;
