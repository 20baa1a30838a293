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
