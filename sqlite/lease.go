package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/forcesync/forcesync"
)

var _ forcesync.LeaseRenewer = (*Store)(nil)

// RenewLeases implements forcesync.LeaseRenewer.
func (s *Store) RenewLeases(ctx context.Context, mapping, owner string, until time.Time) (int, error) {
	tx, err := s.begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("renew leases %s: %w", mapping, err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE outbox SET lease_until = ? WHERE mapping = ? AND lease_owner = ?`, ms(until), mapping, owner)
	if err != nil {
		return 0, fmt.Errorf("renew leases %s: %w", mapping, err)
	}
	n, _ := res.RowsAffected()
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("renew leases %s: commit: %w", mapping, err)
	}
	return int(n), nil
}

var _ forcesync.ReadyCounter = (*Store)(nil)

// Ready implements forcesync.ReadyCounter.
func (s *Store) Ready(ctx context.Context, mapping string, now time.Time) (int, error) {
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM outbox WHERE mapping = ? AND due_at <= ?
		AND (lease_owner IS NULL OR lease_until <= ?)`, mapping, ms(now), ms(now)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("ready %s: %w", mapping, err)
	}
	return n, nil
}
