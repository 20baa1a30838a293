package engine

import (
	"context"
	"time"

	"github.com/forcesync/forcesync"
)

// keepLeases renews owner's leases on p's work every third of the lease
// while a batch is in flight, when the store can (forcesync.LeaseRenewer),
// so leases can be short and a dead worker's work is taken over soon after
// it died, however long a Bulk job takes. The returned stop ends the
// renewals and waits for the last one.
func (e *Engine) keepLeases(ctx context.Context, p *Pipe, owner string) (stop func()) {
	lr, ok := forcesync.StoreAs[forcesync.LeaseRenewer](e.store)
	if !ok {
		return func() {}
	}
	// The renewals run on a context that never ends: stop waits for the
	// one in flight rather than cutting a store transaction short.
	ctx = context.WithoutCancel(ctx)
	quit := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(max(e.cfg.Lease/3, 10*time.Millisecond))
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-t.C:
			}
			if _, err := lr.RenewLeases(ctx, p.Mapping.Name, owner, e.cfg.Now().Add(e.cfg.Lease)); err != nil {
				e.cfg.Logger.Warn("renew leases", "mapping", p.Mapping.Name, "err", err)
			}
		}
	}()
	return func() { close(quit); <-done }
}
