-- +goose Up
-- Pull (issue 10): how far each pulled mapping has read, the last agreed
-- value of each pulled field per record, payloads noted before a push (to
-- recognise their echo), pulled changes (the changes feed), their webhook
-- deliveries, and conflicts.
CREATE TABLE pull_watermarks (
    mapping TEXT    PRIMARY KEY,
    instant INTEGER NOT NULL,
    seen    TEXT    NOT NULL, -- {"<Salesforce Id>": <SystemModstamp ms>}
    updated INTEGER NOT NULL,
    gen     INTEGER NOT NULL DEFAULT 0 -- commits that moved it (a replica's stale commit is refused)
) WITHOUT ROWID;

CREATE TABLE pull_bases (
    mapping TEXT NOT NULL,
    key     TEXT NOT NULL,
    base    TEXT NOT NULL, -- {"<Salesforce field>": value}
    PRIMARY KEY (mapping, key)
) WITHOUT ROWID;

CREATE TABLE push_notes (
    mapping     TEXT    NOT NULL,
    key         TEXT    NOT NULL,
    fingerprint TEXT    NOT NULL,
    fields      TEXT    NOT NULL,
    at          INTEGER NOT NULL,
    PRIMARY KEY (mapping, key, fingerprint)
) WITHOUT ROWID;

CREATE INDEX bindings_sf_id ON bindings (mapping, sf_id);

CREATE TABLE pull_events (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id    TEXT    NOT NULL,
    mapping     TEXT    NOT NULL,
    source      TEXT    NOT NULL,
    key         TEXT    NOT NULL,
    op          TEXT    NOT NULL,
    sf_id       TEXT    NOT NULL,
    fields      TEXT    NOT NULL,
    changed     TEXT    NOT NULL,
    merged_into TEXT    NOT NULL,
    modstamp    INTEGER NOT NULL,
    at          INTEGER NOT NULL
);
CREATE INDEX pull_events_mapping ON pull_events (mapping, seq);

CREATE TABLE pull_deliveries (
    sink         TEXT    NOT NULL,
    seq          INTEGER NOT NULL,
    mapping      TEXT    NOT NULL,
    key          TEXT    NOT NULL,
    state        TEXT    NOT NULL, -- pending, done, dead
    attempts     INTEGER NOT NULL DEFAULT 0,
    next_attempt INTEGER NOT NULL,
    last_error   TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (sink, seq)
) WITHOUT ROWID;
CREATE INDEX pull_deliveries_pending ON pull_deliveries (sink, mapping, key, seq) WHERE state = 'pending';

CREATE TABLE pull_conflicts (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    mapping  TEXT    NOT NULL,
    key      TEXT    NOT NULL,
    field    TEXT    NOT NULL,
    app      TEXT    NOT NULL,
    remote   TEXT    NOT NULL,
    policy   TEXT    NOT NULL,
    winner   TEXT    NOT NULL,
    modstamp INTEGER NOT NULL,
    at       INTEGER NOT NULL
);
CREATE INDEX pull_conflicts_key ON pull_conflicts (mapping, key, id);

-- +goose Down
DROP TABLE pull_conflicts;
DROP TABLE pull_deliveries;
DROP TABLE pull_events;
DROP INDEX bindings_sf_id;
DROP TABLE push_notes;
DROP TABLE pull_bases;
DROP TABLE pull_watermarks;
