-- +goose Up
-- Reconcile runs (issue 12): one row per comparison of a mapping's records
-- with Salesforce, and one row per drifted record it found.
CREATE TABLE reconcile_runs (
    id        BIGSERIAL PRIMARY KEY,
    mapping   TEXT    NOT NULL,
    started   BIGINT  NOT NULL,
    finished  BIGINT  NOT NULL,
    checked   INTEGER NOT NULL,
    api       TEXT    NOT NULL,
    api_calls INTEGER NOT NULL,
    counts    TEXT    NOT NULL,
    healed    INTEGER NOT NULL,
    error     TEXT    NOT NULL
);
CREATE INDEX reconcile_runs_mapping ON reconcile_runs (mapping, id);

CREATE TABLE reconcile_findings (
    run_id  BIGINT  NOT NULL REFERENCES reconcile_runs (id) ON DELETE CASCADE,
    key     TEXT    NOT NULL,
    kind    TEXT    NOT NULL,
    sf_id   TEXT    NOT NULL,
    fields  TEXT    NOT NULL,
    detail  TEXT    NOT NULL,
    healed  BOOLEAN NOT NULL,
    PRIMARY KEY (run_id, key, kind, sf_id)
);

-- +goose Down
DROP TABLE reconcile_findings;
DROP TABLE reconcile_runs;
