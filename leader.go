package forcesync

import (
	"context"
	"time"
)

// LeaderStore hands out named leader leases, so a duty that must run in one
// replica of serve at a time (polling a pulled mapping, firing a schedule,
// a scheduled reconcile) runs in one, and moves to another replica seconds
// after its leader died. Names are free text; serve uses "pull:<mapping>",
// "schedule:<mapping>:<job>" and "reconcile:<mapping>". Both stores
// implement it; find it with StoreAs.
//
// Terms are measured by the store's clock (each replica's own clock on
// PostgreSQL: replicas' clocks must agree to well within a term, as NTP
// keeps them). A leader that cannot renew must stop acting before its term
// ends by its own clock; writes that must not come from a deposed leader
// carry the lease's token and are fenced (MarkLease).
type LeaderStore interface {
	// AcquireLease gives owner the named lease for ttl from now when no
	// one holds it, its holder's term ran out or was released, or owner
	// holds it already (then only the term is extended). A lease that
	// changes hands, or is taken again after it lapsed, gets a token
	// greater than every token it had before. It returns the lease as it
	// stands after the call and whether owner holds it.
	AcquireLease(ctx context.Context, name, owner string, ttl time.Duration) (Lease, bool, error)
	// RenewLease extends owner's term to ttl from now while owner still
	// holds the lease under token (its term has not run out); false when
	// the lease is lost.
	RenewLease(ctx context.Context, name, owner string, token int64, ttl time.Duration) (bool, error)
	// ReleaseLease ends owner's term under token at once, so another
	// replica can take over without waiting for it to run out. A lease
	// owner no longer holds is left as it is.
	ReleaseLease(ctx context.Context, name, owner string, token int64) error
	// MarkLease records mark on the lease (a schedule's last firing) when
	// token is still the lease's token and its term has not run out; it
	// reports false otherwise. The token is the fence: a leader that was
	// paused past its term, and replaced, has its late write refused. The
	// mark outlives terms and owners.
	MarkLease(ctx context.Context, name string, token int64, mark time.Time) (bool, error)
	// Leases lists the leases whose names start with prefix, by name.
	Leases(ctx context.Context, prefix string) ([]Lease, error)
}

// Lease is the state of one named leader lease.
type Lease struct {
	Name string
	// Owner is who holds or last held it ("" after a release).
	Owner string
	// Token increases each time the lease is granted to an owner that did
	// not hold it at that moment (first grant 1).
	Token int64
	// Until is when the holder's term runs out (zero after a release).
	Until time.Time
	// Mark is what holders recorded with MarkLease; zero if never.
	Mark time.Time
}

// Held reports whether someone holds the lease at now.
func (l Lease) Held(now time.Time) bool { return l.Owner != "" && now.Before(l.Until) }

// Replayer queues a mapping's source records again: the scheduled replay
// and full resync of a push mapping (a mapping's schedule: block). Both
// stores implement it; find it with StoreAs.
type Replayer interface {
	// Replay queues every live (not deleted) record of source under
	// mapping at backfill priority, and returns how many it queued. A
	// record whose next payload equals its last push is then settled by
	// the engine without an API call, unless forced (a full resync), which
	// pushes every record again. A record already queued keeps its place
	// and data; forced marks it forced, except that a record whose push is
	// in flight is settled by that push (Complete clears the mark): the
	// next resync covers it.
	Replay(ctx context.Context, mapping, source string, forced bool) (int, error)
}
