package engine_test

import (
	"context"
	"testing"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/engine"
)

// TestPlanLeavesTheGuardAlone: a plan of queued deletes asks no real
// mass-change guard: it writes nothing to the store, so it neither counts
// the deletes in the guard's window nor pauses the mapping's removals.
func TestPlanLeavesTheGuardAlone(t *testing.T) {
	ctx := context.Background()
	leads := leadByExtID()
	leads.Operations.Delete = forcesync.DeleteDelete
	leads.Guard.MaxRecords = 1
	r := newRig(t, engine.Config{BulkThreshold: -1}, leads)
	r.accept("contact", contact("k1", "One", "k1@example.com", 60), contact("k2", "Two", "k2@example.com", 60))
	r.drain()
	r.accept("contact", forcesync.Change{Key: "k1", Op: forcesync.OpDelete}, forcesync.Change{Key: "k2", Op: forcesync.OpDelete})
	before, err := r.store.GuardStates(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pipes, err := engine.Compile(ctx, r.api, []forcesync.Mapping{leads})
	if err != nil {
		t.Fatal(err)
	}
	pl, err := engine.NewPlanner(r.store, r.api, pipes, engine.Config{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := pl.Plan(ctx, engine.PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Mappings[0].Held[forcesync.CodeMassChangePaused]; got != 2 {
		t.Fatalf("plan held %v; want the 2 deletes held by the guard, as the push would", p.Mappings[0].Held)
	}
	after, err := r.store.GuardStates(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before) || (len(after) > 0 && after[0] != before[0]) {
		t.Fatalf("the plan changed the guard: before %+v, after %+v", before, after)
	}
}
