-- +goose Up
-- Times are Unix milliseconds (BIGINT), as in the SQLite store, so both
-- stores share one model and no time zone ever enters the data.
CREATE TABLE source_records (
    source   TEXT    NOT NULL,
    key      TEXT    NOT NULL,
    version  BIGINT  NOT NULL,
    deleted  BOOLEAN NOT NULL DEFAULT false,
    op       TEXT    NOT NULL,
    fields   TEXT    NOT NULL, -- the JSON object as received
    updated  BIGINT  NOT NULL,
    PRIMARY KEY (source, key)
);

-- One row per (mapping, key) with work to do; the data lives in
-- source_records. A leased row is claimable again once lease_until passes
-- (its replica died), so no sweep is needed.
CREATE SEQUENCE outbox_seq;
CREATE TABLE outbox (
    mapping     TEXT     NOT NULL,
    key         TEXT     NOT NULL,
    source      TEXT     NOT NULL,
    priority    INTEGER  NOT NULL,
    seq         BIGINT   NOT NULL,
    attempts    INTEGER  NOT NULL DEFAULT 0,
    due_at      BIGINT   NOT NULL,
    lease_owner TEXT,
    lease_until BIGINT   NOT NULL DEFAULT 0,
    forced      BOOLEAN  NOT NULL DEFAULT false,
    enqueued    BIGINT   NOT NULL,
    PRIMARY KEY (mapping, key)
);
CREATE INDEX outbox_due ON outbox (mapping, priority, due_at, enqueued);

CREATE TABLE bindings (
    mapping     TEXT   NOT NULL,
    key         TEXT   NOT NULL,
    sf_id       TEXT   NOT NULL,
    fingerprint TEXT   NOT NULL,
    modstamp    BIGINT NOT NULL DEFAULT 0,
    updated     BIGINT NOT NULL,
    PRIMARY KEY (mapping, key)
);

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
    next_attempt  BIGINT  NOT NULL DEFAULT 0,
    version       BIGINT  NOT NULL DEFAULT 0,
    updated       BIGINT  NOT NULL,
    PRIMARY KEY (mapping, key)
);
-- Records with a problem are listed by state; synced and pending ones, the
-- great majority, do not move in an index at every write.
CREATE INDEX statuses_problems ON statuses (mapping, state, updated) WHERE state IN ('held', 'retrying');
CREATE INDEX statuses_source ON statuses (source, key);

CREATE TABLE intents (
    mapping TEXT   NOT NULL,
    key     TEXT   NOT NULL,
    match   TEXT   NOT NULL,
    at      BIGINT NOT NULL,
    PRIMARY KEY (mapping, key)
);

CREATE TABLE mappings (
    name        TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL
);

CREATE TABLE runs (
    id        BIGSERIAL PRIMARY KEY,
    mapping   TEXT    NOT NULL,
    api       TEXT    NOT NULL,
    started   BIGINT  NOT NULL,
    finished  BIGINT  NOT NULL,
    records   INTEGER NOT NULL,
    created   INTEGER NOT NULL,
    updated   INTEGER NOT NULL,
    unchanged INTEGER NOT NULL DEFAULT 0,
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
    at         BIGINT  NOT NULL
);

-- +goose Down
DROP TABLE api_usage;
DROP TABLE runs;
DROP TABLE mappings;
DROP TABLE intents;
DROP TABLE statuses;
DROP TABLE bindings;
DROP TABLE outbox;
DROP SEQUENCE outbox_seq;
DROP TABLE source_records;
