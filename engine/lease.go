package engine

import (
	"context"
	"sync"
	"time"

	"github.com/forcesync/forcesync"
)

// keepLeases renews the lease of owner's claim of p's work (one row in the
// store, however large the claim) every third of the lease while a batch
// is in flight, when the store can (forcesync.LeaseRenewer),
// so leases can be short and a dead worker's work is taken over soon after
// it died, however long a Bulk job takes. claimed is when the claim began
// (its leases run from then): a claim that took more than a third of the
// lease, as a claim of a large backlog can, is renewed at once, and so is
// one leased for longer than the usual lease (long). The
// returned stop ends the renewals and waits for the last one, then renews
// once more if the last renewal is a third of a lease old, so what follows
// (Complete) has a lease of its own; it may be called more than once.
func (e *Engine) keepLeases(ctx context.Context, p *Pipe, owner string, claimed time.Time, long bool) (stop func()) {
	lr, ok := forcesync.StoreAs[forcesync.LeaseRenewer](e.store)
	if !ok {
		return func() {}
	}
	// The renewals run on a context that never ends: stop waits for the
	// one in flight rather than cutting a store transaction short.
	ctx = context.WithoutCancel(ctx)
	every := max(e.cfg.Lease/3, 10*time.Millisecond)
	var last time.Time // when the leases last ran from; only the goroutine, then stop, touch it
	renew := func() {
		at := e.cfg.Now()
		if _, err := lr.RenewLeases(ctx, p.Mapping.Name, owner, at.Add(e.cfg.Lease)); err != nil {
			e.cfg.Logger.Warn("renew leases", "event", "lease.renew_error", "mapping", p.Mapping.Name, "err", err)
			return
		}
		last = at
	}
	last = claimed
	if long || e.cfg.Now().Sub(claimed) >= every {
		renew()
	}
	quit := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-t.C:
			}
			renew()
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			close(quit)
			<-done
			if e.cfg.Now().Sub(last) >= every {
				renew()
			}
		})
	}
}
