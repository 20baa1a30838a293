package engine_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/emulator"
	"github.com/forcesync/forcesync/engine"
)

// TestDeadReplicaWorkTakenOver: work a replica claimed before it died (its
// leases are never renewed nor its batch completed) is pushed by another
// once the short lease has run out.
func TestDeadReplicaWorkTakenOver(t *testing.T) {
	cfg := engine.Config{BulkThreshold: -1, Workers: 1, Idle: 10 * time.Millisecond, Lease: 300 * time.Millisecond, SchemaEvery: -1}
	r := newRig(t, cfg, leadByExtID())
	for i := range 5 {
		r.accept("contact", contact(fmt.Sprint(i), "D", fmt.Sprintf("d%d@example.com", i), 80))
	}
	ctx := context.Background()
	claimed := time.Now()
	dead, err := r.store.Claim(ctx, forcesync.ClaimRequest{Mapping: "contacts_to_leads", Owner: "dead-replica/0",
		Lease: cfg.Lease, Limit: 200, Now: claimed})
	if err != nil || len(dead) != 5 {
		t.Fatalf("the dead replica claimed %d: %v", len(dead), err)
	}
	rctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); r.Eng.Run(rctx) }()
	defer func() { cancel(); wg.Wait() }()
	waitFor(t, "the dead replica's work", func() bool { return r.synced("contacts_to_leads") == 5 })
	runs, err := r.store.Runs(ctx, 10)
	if err != nil || len(runs) != 1 || runs[0].Records != 5 {
		t.Fatalf("runs %+v, %v; want one batch of the 5 records", runs, err)
	}
	if runs[0].Started.Before(claimed.Add(cfg.Lease).Truncate(time.Millisecond)) {
		t.Fatalf("taken over at %v, before the dead replica's lease ran out at %v", runs[0].Started, claimed.Add(cfg.Lease))
	}
	if n := len(r.query("SELECT Id FROM Lead")); n != 5 {
		t.Fatalf("%d Leads, want 5", n)
	}
}

// TestLeaseRenewedWhileBatchInFlight: a batch whose call takes several
// leases' time keeps its work: a second replica sharing the store does not
// take it over and push it again.
func TestLeaseRenewedWhileBatchInFlight(t *testing.T) {
	// Renewed every third of a second: a loaded machine may delay one a
	// few hundred milliseconds without losing the lease.
	cfg := engine.Config{BulkThreshold: -1, Workers: 1, Idle: 10 * time.Millisecond, Lease: time.Second, SchemaEvery: -1}
	r := newRig(t, cfg, leadByExtID())
	other, err := engine.New(context.Background(), r.store, r.api, []forcesync.Mapping{leadByExtID()}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.emu.AddFault(emulator.Fault{Type: emulator.FaultLatency, Method: "PATCH", Path: "/services/data/**",
		Latency: 4 * cfg.Lease, Count: 1}); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		r.accept("contact", contact(fmt.Sprint(i), "R", fmt.Sprintf("r%d@example.com", i), 80))
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, e := range []*engine.Engine{r.Eng, other} {
		wg.Add(1)
		go func() { defer wg.Done(); e.Run(ctx) }()
	}
	defer func() { cancel(); wg.Wait() }()
	waitFor(t, "the batch", func() bool { return r.synced("contacts_to_leads") == 5 })
	if n := r.emu.Stats()[emulator.KindCollections]; n != 1 {
		t.Fatalf("%d Collections calls; want 1 (the slow batch's work was taken over while in flight)", n)
	}
}
