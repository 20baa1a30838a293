package forcesync

import (
	"context"
	"time"
)

// LeaseRenewer is implemented by stores whose leases can be extended while
// their work is in flight, so leases can be short: a worker renews its
// batch's leases every few seconds, and a dead worker's work is claimable
// again seconds after it died rather than after a long lease. Both stores
// implement it.
type LeaseRenewer interface {
	// RenewLeases extends to until every lease owner holds on mapping's
	// work and returns how many it extended. A lease another owner took
	// over (after it ran out) is not owner's any more and stays as it is.
	RenewLeases(ctx context.Context, mapping, owner string, until time.Time) (int, error)
}

// ReadyCounter is implemented by stores that can count a mapping's work a
// claim could take now: due, and leased by no one (or by a lease that ran
// out). The engine looks at it to tell a growing backfill from a settled
// one without counting what other replicas have in flight. Both stores
// implement it.
type ReadyCounter interface {
	Ready(ctx context.Context, mapping string, now time.Time) (int, error)
}
