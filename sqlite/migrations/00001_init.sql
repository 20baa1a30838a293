-- +goose Up
CREATE TABLE source_records (
    source   TEXT    NOT NULL,
    key      TEXT    NOT NULL,
    version  INTEGER NOT NULL,
    deleted  INTEGER NOT NULL DEFAULT 0,
    op       TEXT    NOT NULL,
    fields   TEXT    NOT NULL,
    updated  INTEGER NOT NULL,
    PRIMARY KEY (source, key)
) WITHOUT ROWID;

-- One row per (mapping, key) with work to do; the data lives in source_records.
CREATE TABLE outbox (
    mapping     TEXT    NOT NULL,
    key         TEXT    NOT NULL,
    source      TEXT    NOT NULL,
    priority    INTEGER NOT NULL,
    seq         INTEGER NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    due_at      INTEGER NOT NULL,
    lease_owner TEXT,
    lease_until INTEGER NOT NULL DEFAULT 0,
    forced      INTEGER NOT NULL DEFAULT 0,
    enqueued    INTEGER NOT NULL,
    PRIMARY KEY (mapping, key)
) WITHOUT ROWID;
CREATE INDEX outbox_due ON outbox (mapping, priority, due_at);

CREATE TABLE bindings (
    mapping     TEXT NOT NULL,
    key         TEXT NOT NULL,
    sf_id       TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    modstamp    INTEGER NOT NULL DEFAULT 0,
    updated     INTEGER NOT NULL,
    PRIMARY KEY (mapping, key)
) WITHOUT ROWID;

CREATE TABLE statuses (
    mapping       TEXT    NOT NULL,
    key           TEXT    NOT NULL,
    source        TEXT    NOT NULL,
    state         TEXT    NOT NULL,
    sf_id         TEXT    NOT NULL DEFAULT '',
    error_code    TEXT    NOT NULL DEFAULT '',
    error_message TEXT    NOT NULL DEFAULT '',
    error_fields  TEXT    NOT NULL DEFAULT '',
    warnings      TEXT    NOT NULL DEFAULT '',
    fingerprint   TEXT    NOT NULL DEFAULT '',
    -- held_fp is the payload fingerprint Salesforce last refused permanently.
    held_fp       TEXT    NOT NULL DEFAULT '',
    attempts      INTEGER NOT NULL DEFAULT 0,
    next_attempt  INTEGER NOT NULL DEFAULT 0,
    version       INTEGER NOT NULL DEFAULT 0,
    updated       INTEGER NOT NULL,
    PRIMARY KEY (mapping, key)
) WITHOUT ROWID;
CREATE INDEX statuses_state ON statuses (mapping, state, updated);
CREATE INDEX statuses_source ON statuses (source, key);

CREATE TABLE intents (
    mapping TEXT    NOT NULL,
    key     TEXT    NOT NULL,
    match   TEXT    NOT NULL,
    at      INTEGER NOT NULL,
    PRIMARY KEY (mapping, key)
) WITHOUT ROWID;

CREATE TABLE mappings (
    name        TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE runs (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    mapping   TEXT    NOT NULL,
    api       TEXT    NOT NULL,
    started   INTEGER NOT NULL,
    finished  INTEGER NOT NULL,
    records   INTEGER NOT NULL,
    created   INTEGER NOT NULL,
    updated   INTEGER NOT NULL,
    deleted   INTEGER NOT NULL,
    failed    INTEGER NOT NULL,
    skipped   INTEGER NOT NULL,
    api_calls INTEGER NOT NULL
);

CREATE TABLE api_usage (
    connection TEXT PRIMARY KEY,
    used       INTEGER NOT NULL,
    max        INTEGER NOT NULL,
    day        TEXT    NOT NULL,
    calls      TEXT    NOT NULL,
    at         INTEGER NOT NULL
) WITHOUT ROWID;

-- +goose Down
DROP TABLE api_usage;
DROP TABLE runs;
DROP TABLE mappings;
DROP TABLE intents;
DROP TABLE statuses;
DROP TABLE bindings;
DROP TABLE outbox;
DROP TABLE source_records;
