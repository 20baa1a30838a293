-- +goose Up
-- A claim's lease is one row: the outbox rows it holds name it (lease), so
-- renewing a claim of 100,000 rows writes one row instead of 100,000. A
-- row is leased while its lease's until is in the future; the sweep frees
-- the rows of leases that ran out and deletes those leases. A lease is
-- deleted only with its rows freed, or once it holds none. ids may be
-- reused once their lease is gone: no row names a deleted lease.
CREATE TABLE claim_leases (
    id      INTEGER PRIMARY KEY,
    mapping TEXT    NOT NULL,
    owner   TEXT    NOT NULL,
    until   INTEGER NOT NULL
);
-- Renewals look up an owner's latest claim of a mapping.
CREATE INDEX claim_leases_owner ON claim_leases (mapping, owner, id);

ALTER TABLE outbox ADD COLUMN lease INTEGER;

-- Rows leased when the store is upgraded keep their leases: one lease per
-- owner, mapping and end, the latest end last, so that a renewal of the
-- owner (its latest claim) extends the rows it renewed last.
INSERT INTO claim_leases (mapping, owner, until)
    SELECT mapping, lease_owner, lease_until FROM outbox WHERE lease_owner IS NOT NULL
    GROUP BY mapping, lease_owner, lease_until ORDER BY lease_until;
UPDATE outbox SET lease = (SELECT l.id FROM claim_leases l
        WHERE l.mapping = outbox.mapping AND l.owner = outbox.lease_owner AND l.until = outbox.lease_until)
    WHERE lease_owner IS NOT NULL;

DROP INDEX outbox_free;
ALTER TABLE outbox DROP COLUMN lease_owner;
ALTER TABLE outbox DROP COLUMN lease_until;
-- Claims look only at rows no lease names (see 00003).
CREATE INDEX outbox_free ON outbox (mapping, priority, due_at, enqueued) WHERE lease IS NULL;
-- The sweep and Complete find a lease's rows.
CREATE INDEX outbox_lease ON outbox (lease) WHERE lease IS NOT NULL;

-- +goose Down
DROP INDEX outbox_lease;
DROP INDEX outbox_free;
ALTER TABLE outbox ADD COLUMN lease_owner TEXT;
ALTER TABLE outbox ADD COLUMN lease_until INTEGER NOT NULL DEFAULT 0;
UPDATE outbox SET lease_owner = (SELECT l.owner FROM claim_leases l WHERE l.id = outbox.lease),
        lease_until = COALESCE((SELECT l.until FROM claim_leases l WHERE l.id = outbox.lease), 0)
    WHERE lease IS NOT NULL;
ALTER TABLE outbox DROP COLUMN lease;
CREATE INDEX outbox_free ON outbox (mapping, priority, due_at, enqueued) WHERE lease_owner IS NULL;
DROP TABLE claim_leases;
