-- +goose Up
-- Records whose payload equalled the last one pushed: settled with no call.
ALTER TABLE runs ADD COLUMN unchanged INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE runs DROP COLUMN unchanged;
