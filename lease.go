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
	// RenewLeases extends to until the lease of owner's latest claim of
	// mapping, and returns how many leases it extended: 1, or 0 when owner
	// holds none (its work is done, or the lease ran out and another claim
	// took its rows over). A claim's lease is one row however many items
	// it holds, so a renewal costs one row write. Rows another owner took
	// over are not owner's any more and stay with that owner; leases of
	// owner's earlier claims of mapping (a batch whose Complete failed) are
	// not extended and run out on their own.
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
