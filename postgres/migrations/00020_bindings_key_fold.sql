-- +goose Up
-- Finds a binding whose key differs only in case (engine's KEY_COLLISION).
CREATE INDEX bindings_key_fold ON bindings (mapping, lower(key));

-- +goose Down
DROP INDEX bindings_key_fold;
