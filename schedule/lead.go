package schedule

import (
	"context"
	"log/slog"
	"time"

	"github.com/forcesync/forcesync"
)

// DefaultTTL is a leader's term when Leader.TTL is zero: a replica that
// dies (no clean stop, which releases its leases at once) is replaced
// within about a term and a third.
const DefaultTTL = 6 * time.Second

// Leader runs duties under named leader leases of a store. Every replica
// of serve runs the same duties through its own Leader (its own Owner);
// the store grants each lease to one of them at a time.
//
// A leader renews its lease every third of a term. When a renewal is
// refused (the lease was lost) or the store cannot be reached for so long
// that the term may have run out by this replica's clock, the duty's
// context ends; it should then stop acting. Writes that must never come
// from a deposed leader are fenced with the lease's token
// (forcesync.LeaderStore.MarkLease).
type Leader struct {
	Store forcesync.LeaderStore
	// Owner names this replica among those sharing the store (host, pid
	// and a random part); it must differ between replicas.
	Owner string
	// TTL is a term; zero means DefaultTTL.
	TTL     time.Duration
	Logger  *slog.Logger
	Metrics *Metrics // may be nil
}

func (l *Leader) ttl() time.Duration {
	if l.TTL > 0 {
		return l.TTL
	}
	return DefaultTTL
}

func (l *Leader) logger() *slog.Logger {
	if l.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l.Logger
}

// Lead runs fn whenever this replica holds the lease named name, until ctx
// ends. fn's context ends when the lease is lost or ctx ends; fn should
// return then. Other replicas wait, asking for the lease every third of a
// term. When fn returns by itself, the lease is released and asked for
// again after a third of a term. When ctx ends, the lease is released, so
// another replica takes over at once.
func (l *Leader) Lead(ctx context.Context, name string, fn func(ctx context.Context, lease forcesync.Lease)) {
	ttl := l.ttl()
	every := ttl / 3
	log := l.logger()
	var lastErr string
	for ctx.Err() == nil {
		asked := time.Now()
		lease, held, err := l.Store.AcquireLease(ctx, name, l.Owner, ttl)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			if err.Error() != lastErr { // once per kind of failure, not every few seconds
				log.Warn("lease: store unreachable", "event", "lease.store_error", "lease", name, "err", err)
				lastErr = err.Error()
			}
		case held:
			lastErr = ""
			l.hold(ctx, name, lease, asked, fn)
		}
		if !sleep(ctx, every) {
			return
		}
	}
}

// hold runs fn under a lease just acquired (asked is when it was asked
// for, the start of its term by this replica's clock) and renews it until
// it is lost, fn returns or ctx ends.
func (l *Leader) hold(ctx context.Context, name string, lease forcesync.Lease, asked time.Time, fn func(context.Context, forcesync.Lease)) {
	ttl := l.ttl()
	log := l.logger()
	log.Info("lease acquired", "event", "lease.acquired", "lease", name, "owner", l.Owner, "token", lease.Token)
	l.Metrics.acquired(name)
	fctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(fctx, lease)
	}()
	// The duty stops a little before its term may have run out by this
	// replica's clock, unless a renewal extended it.
	margin := ttl / 10
	until := asked.Add(ttl - margin)
	dl := time.NewTimer(time.Until(until))
	defer dl.Stop()
	t := time.NewTicker(ttl / 3)
	defer t.Stop()
	var lost string
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-done:
			break loop
		case <-dl.C:
			lost = "could not renew it before its term ran out"
			break loop
		case <-t.C:
		}
		// A slow renewal is worth waiting for until the term may run out.
		asked := time.Now()
		rctx, rcancel := context.WithDeadline(ctx, until)
		ok, err := l.Store.RenewLease(rctx, name, l.Owner, lease.Token, ttl)
		rcancel()
		switch {
		case ctx.Err() != nil:
			break loop
		case err == nil && ok:
			until = asked.Add(ttl - margin)
			dl.Reset(time.Until(until))
		case err == nil:
			lost = "another replica holds it"
			break loop
		default:
			log.Warn("lease: renewal failed; retrying", "event", "lease.renew_error", "lease", name, "token", lease.Token, "err", err)
		}
	}
	cancel()
	<-done
	l.Metrics.released(name, lost != "")
	if lost != "" {
		log.Warn("lease lost", "event", "lease.lost", "lease", name, "owner", l.Owner, "token", lease.Token, "reason", lost)
		return
	}
	// A clean stop (or a duty that ended): let another replica take over
	// without waiting for the term to run out.
	rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer rcancel()
	if err := l.Store.ReleaseLease(rctx, name, l.Owner, lease.Token); err != nil {
		log.Warn("lease: release failed; it runs out at the end of its term", "event", "lease.release_error", "lease", name, "err", err)
		return
	}
	log.Info("lease released", "event", "lease.released", "lease", name, "owner", l.Owner, "token", lease.Token)
}

// sleep waits d or until ctx ends; false when ctx ended.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
