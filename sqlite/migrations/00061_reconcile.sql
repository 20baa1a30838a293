-- +goose Up
-- Reconcile runs (issue 12): one row per comparison of a mapping's records
-- with Salesforce, and one row per drifted record it found.
CREATE TABLE reconcile_runs (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    mapping   TEXT    NOT NULL,
    started   INTEGER NOT NULL,
    finished  INTEGER NOT NULL,
    checked   INTEGER NOT NULL,
    api       TEXT    NOT NULL,
    api_calls INTEGER NOT NULL,
    counts    TEXT    NOT NULL,
    healed    INTEGER NOT NULL,
    error     TEXT    NOT NULL
);
CREATE INDEX reconcile_runs_mapping ON reconcile_runs (mapping, id);

CREATE TABLE reconcile_findings (
    run_id  INTEGER NOT NULL REFERENCES reconcile_runs (id) ON DELETE CASCADE,
    key     TEXT    NOT NULL,
    kind    TEXT    NOT NULL,
    sf_id   TEXT    NOT NULL,
    fields  TEXT    NOT NULL,
    detail  TEXT    NOT NULL,
    healed  INTEGER NOT NULL,
    PRIMARY KEY (run_id, key, kind, sf_id)
) WITHOUT ROWID;

-- +goose Down
DROP TABLE reconcile_findings;
DROP TABLE reconcile_runs;
