-- +goose Up
-- Pull (issue 10): how far each pulled mapping has read, the last agreed
-- value of each pulled field per record, payloads noted before a push (to
-- recognise their echo), pulled changes (the changes feed), their webhook
-- deliveries, and conflicts.
CREATE TABLE pull_watermarks (
    mapping TEXT    PRIMARY KEY,
    instant BIGINT NOT NULL,
    seen    TEXT    NOT NULL, -- {"<Salesforce Id>": <SystemModstamp ms>}
    updated BIGINT NOT NULL,
    gen     BIGINT NOT NULL DEFAULT 0 -- commits that moved it (a replica's stale commit is refused)
);

CREATE TABLE pull_bases (
    mapping TEXT NOT NULL,
    key     TEXT NOT NULL,
    base    TEXT NOT NULL, -- {"<Salesforce field>": value}
    PRIMARY KEY (mapping, key)
);

CREATE TABLE push_notes (
    mapping     TEXT    NOT NULL,
    key         TEXT    NOT NULL,
    fingerprint TEXT    NOT NULL,
    fields      TEXT    NOT NULL,
    at          BIGINT NOT NULL,
    PRIMARY KEY (mapping, key, fingerprint)
);

CREATE INDEX bindings_sf_id ON bindings (mapping, sf_id);

CREATE TABLE pull_events (
    seq         BIGSERIAL PRIMARY KEY,
    event_id    TEXT    NOT NULL,
    mapping     TEXT    NOT NULL,
    source      TEXT    NOT NULL,
    key         TEXT    NOT NULL,
    op          TEXT    NOT NULL,
    sf_id       TEXT    NOT NULL,
    fields      TEXT    NOT NULL,
    changed     TEXT    NOT NULL,
    merged_into TEXT    NOT NULL,
    modstamp    BIGINT NOT NULL,
    at          BIGINT NOT NULL
);
CREATE INDEX pull_events_mapping ON pull_events (mapping, seq);

CREATE TABLE pull_deliveries (
    sink         TEXT    NOT NULL,
    seq          BIGINT NOT NULL,
    mapping      TEXT    NOT NULL,
    key          TEXT    NOT NULL,
    state        TEXT    NOT NULL, -- pending, done, dead
    attempts     BIGINT NOT NULL DEFAULT 0,
    next_attempt BIGINT NOT NULL,
    last_error   TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (sink, seq)
);
CREATE INDEX pull_deliveries_pending ON pull_deliveries (sink, mapping, key, seq) WHERE state = 'pending';

CREATE TABLE pull_conflicts (
    id       BIGSERIAL PRIMARY KEY,
    mapping  TEXT    NOT NULL,
    key      TEXT    NOT NULL,
    field    TEXT    NOT NULL,
    app      TEXT    NOT NULL,
    remote   TEXT    NOT NULL,
    policy   TEXT    NOT NULL,
    winner   TEXT    NOT NULL,
    modstamp BIGINT NOT NULL,
    at       BIGINT NOT NULL
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
