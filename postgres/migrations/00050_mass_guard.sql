-- +goose Up
-- The mass-change guard's state per guarded name (a mapping, or another
-- bulk operation): destructive changes counted in the current window, and
-- the pause that waits for a person's approval.
CREATE TABLE mass_guard (
    name           TEXT    PRIMARY KEY,
    count          INTEGER NOT NULL,
    window_start   BIGINT  NOT NULL,
    paused         BOOLEAN NOT NULL,
    pending        INTEGER NOT NULL,
    lim            INTEGER NOT NULL,
    approved_until BIGINT  NOT NULL
);

-- +goose Down
DROP TABLE mass_guard;
