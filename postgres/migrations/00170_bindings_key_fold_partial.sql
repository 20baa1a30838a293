-- +goose Up
-- The folded-key index holds only keys with a letter lower() changes: an
-- all-lower-case key (numbers, most UUIDs and e-mail addresses) is found
-- by the primary key under its own spelling, so its binding writes pay no
-- second b-tree insert.
DROP INDEX bindings_key_fold;
CREATE INDEX bindings_key_fold ON bindings (mapping, lower(key)) WHERE key <> lower(key);

-- +goose Down
DROP INDEX bindings_key_fold;
CREATE INDEX bindings_key_fold ON bindings (mapping, lower(key));
