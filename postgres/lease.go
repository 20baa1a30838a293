package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/forcesync/forcesync"
)

var _ forcesync.LeaseRenewer = (*Store)(nil)

// RenewLeases implements forcesync.LeaseRenewer. A leased row's due_at is
// its lease's end (see Claim), so both move.
func (s *Store) RenewLeases(ctx context.Context, mapping, owner string, until time.Time) (int, error) {
	u := until.UnixMilli()
	tag, err := s.pool.Exec(ctx, `UPDATE outbox SET lease_until = $1, due_at = $1 WHERE mapping = $2 AND lease_owner = $3`, u, mapping, owner)
	if err != nil {
		return 0, fmt.Errorf("renew leases %s: %w", mapping, err)
	}
	return int(tag.RowsAffected()), nil
}

var _ forcesync.ReadyCounter = (*Store)(nil)

// Ready implements forcesync.ReadyCounter.
func (s *Store) Ready(ctx context.Context, mapping string, now time.Time) (int, error) {
	var n int
	u := now.UnixMilli()
	err := s.pool.QueryRow(ctx, `SELECT COUNT(*) FROM outbox WHERE mapping = $1 AND due_at <= $2
		AND (lease_owner IS NULL OR lease_until <= $2)`, mapping, u).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("ready %s: %w", mapping, err)
	}
	return n, nil
}
