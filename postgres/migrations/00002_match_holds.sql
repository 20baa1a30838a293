-- +goose Up
-- Match values (say, an email) a worker is looking up in Salesforce right
-- now, so another worker, on any replica, waits instead of finding nothing
-- too and creating a twin. A hold whose until passed (its replica died) is
-- free.
CREATE TABLE match_holds (
    mapping TEXT   NOT NULL,
    value   TEXT   NOT NULL,
    owner   TEXT   NOT NULL,
    until   BIGINT NOT NULL,
    PRIMARY KEY (mapping, value)
);

-- +goose Down
DROP TABLE match_holds;
