-- +goose Up
-- The org each connection is pinned to (its first login's), so a login that
-- reaches another org is refused.
CREATE TABLE org_pins (
    connection   TEXT    PRIMARY KEY,
    org_id       TEXT    NOT NULL,
    instance_url TEXT    NOT NULL,
    pinned       INTEGER NOT NULL
) WITHOUT ROWID;

-- +goose Down
DROP TABLE org_pins;
