package postgres

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
	tag, err := s.pool.Exec(ctx, `UPDATE claim_leases SET until = $1
		WHERE id = (SELECT MAX(id) FROM claim_leases WHERE mapping = $2 AND owner = $3)
			AND (SELECT 1 FROM outbox o WHERE o.lease = claim_leases.id LIMIT 1) IS NOT NULL`, ms(until), mapping, owner)
	if err != nil {
		return 0, fmt.Errorf("renew leases %s: %w", mapping, err)
	}
	return int(tag.RowsAffected()), nil
}

var _ forcesync.ReadyCounter = (*Store)(nil)

// Ready implements forcesync.ReadyCounter: the due rows no lease names,
// and those of leases that ran out, as Claim finds them.
func (s *Store) Ready(ctx context.Context, mapping string, now time.Time) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `SELECT
		(SELECT COUNT(*) FROM outbox WHERE mapping = $1 AND lease IS NULL AND due_at <= $2) +
		(SELECT COUNT(*) FROM claim_leases l JOIN outbox o ON o.lease = l.id
			WHERE l.mapping = $1 AND l.until <= $2 AND o.mapping = $1 AND o.due_at <= $2)`, mapping, ms(now)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("ready %s: %w", mapping, err)
	}
	return n, nil
}
