-- +goose Up
-- Mappings paused by a breaking schema change (issue 12), kept so that a
-- restart starts them paused, with the describe they last compiled against.
CREATE TABLE schema_pauses (
    mapping  TEXT   PRIMARY KEY,
    reason   TEXT   NOT NULL,
    since    BIGINT NOT NULL,
    describe BYTEA  NOT NULL
);

-- +goose Down
DROP TABLE schema_pauses;
