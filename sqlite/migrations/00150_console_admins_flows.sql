-- +goose Up
-- Console admins kept in the store (forcesync admin add), beside the
-- config's. password_hash is bcrypt; times in Unix milliseconds.
CREATE TABLE console_admins (
    username      TEXT    NOT NULL PRIMARY KEY,
    password_hash TEXT    NOT NULL,
    created       INTEGER NOT NULL,
    updated       INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX console_sessions_username ON console_sessions (username);

-- OAuth flows started in a browser and not yet back (Connect to
-- Salesforce, OIDC sign-in). id is the SHA-256 of the state parameter;
-- data is sealed by the console. Taken once.
CREATE TABLE oauth_flows (
    id      TEXT    NOT NULL PRIMARY KEY,
    kind    TEXT    NOT NULL,
    data    TEXT    NOT NULL,
    created INTEGER NOT NULL,
    expires INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX oauth_flows_expires ON oauth_flows (expires);

-- +goose Down
DROP TABLE oauth_flows;
DROP INDEX console_sessions_username;
DROP TABLE console_admins;
