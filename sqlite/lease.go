package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/forcesync/forcesync"
)

var _ forcesync.LeaseRenewer = (*Store)(nil)

// RenewLeases implements forcesync.LeaseRenewer: it writes the one lease
// row of owner's latest claim of mapping, however many rows the claim
// holds, if the claim still holds any.
func (s *Store) RenewLeases(ctx context.Context, mapping, owner string, until time.Time) (int, error) {
	tx, err := s.begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("renew leases %s: %w", mapping, err)
	}
	defer tx.Rollback()
	u := ms(until)
	res, err := tx.ExecContext(ctx, `UPDATE claim_leases SET until = ?
		WHERE id = (SELECT MAX(id) FROM claim_leases WHERE mapping = ? AND owner = ?)
			AND EXISTS (SELECT 1 FROM outbox o WHERE o.lease = claim_leases.id)`, u, mapping, owner)
	if err != nil {
		return 0, fmt.Errorf("renew leases %s: %w", mapping, err)
	}
	n, _ := res.RowsAffected()
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("renew leases %s: commit: %w", mapping, err)
	}
	if n > 0 {
		s.sweepBy(u) // a renewal may also cut a lease short
	}
	return int(n), nil
}

var _ forcesync.ReadyCounter = (*Store)(nil)

// Ready implements forcesync.ReadyCounter: the due rows no lease names,
// and those of leases that ran out (which the next claim's sweep frees).
func (s *Store) Ready(ctx context.Context, mapping string, now time.Time) (int, error) {
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT
		(SELECT COUNT(*) FROM outbox WHERE mapping = ?1 AND lease IS NULL AND due_at <= ?2) +
		(SELECT COUNT(*) FROM claim_leases l CROSS JOIN outbox o ON o.lease = l.id -- CROSS: from the few leases to their rows
			WHERE l.mapping = ?1 AND l.until <= ?2 AND o.mapping = ?1 AND o.due_at <= ?2)`, mapping, ms(now)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("ready %s: %w", mapping, err)
	}
	return n, nil
}
