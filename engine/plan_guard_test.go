package engine_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
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
	p, err := planOf(ctx, t, r, engine.Config{}, leads)
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

// TestPlanShowsAConfigChangesSweep: planning a narrower filter shows the
// bound records the changed config's start would deprovision (serve's
// sweep queues them), not only the held records it requeues; and the
// plan queues nothing itself.
func TestPlanShowsAConfigChangesSweep(t *testing.T) {
	ctx := context.Background()
	leads := leadByExtID()
	leads.Operations.Delete = forcesync.DeleteDelete
	r := newRig(t, engine.Config{BulkThreshold: -1}, leads)
	r.accept("contact", contact("k1", "One", "k1@example.com", 60), contact("k2", "Two", "k2@example.com", 90))
	r.drain()
	narrower := leads
	narrower.Filter = "score >= 70"
	p, err := planOf(ctx, t, r, engine.Config{}, narrower)
	if err != nil {
		t.Fatal(err)
	}
	mp := p.Mappings[0]
	if !mp.Changed || mp.Counts.Delete != 1 || len(mp.Records) != 1 || mp.Records[0].Key != "k1" || mp.Records[0].Action != engine.ActionDelete {
		t.Fatalf("plan of the narrower filter: changed %v, counts %+v, records %+v; want k1 deleted", mp.Changed, mp.Counts, mp.Records)
	}
	if n := r.drain(); n != 0 {
		t.Fatalf("the plan queued %d records", n)
	}
}

// TestPlanLogsNoPushes: the plan's make-believe pushes log nothing (a
// "records held" push.held line from a plan would tell a log collector of
// a push that never happened).
func TestPlanLogsNoPushes(t *testing.T) {
	ctx := context.Background()
	leads := leadByExtID()
	r := newRig(t, engine.Config{BulkThreshold: -1}, leads)
	r.accept("contact", contact("k1", "One", "not-an-email", 60))
	var logs bytes.Buffer
	p, err := planOf(ctx, t, r, engine.Config{Logger: slog.New(slog.NewTextHandler(&logs, nil))}, leads)
	if err != nil || p.Mappings[0].Counts.Held != 1 {
		t.Fatalf("plan %+v %v; want k1 held", p, err)
	}
	if strings.Contains(logs.String(), "push.held") {
		t.Fatalf("the plan logged a push:\n%s", logs.String())
	}
}

// planOf plans mappings on r's store and org with cfg: what `forcesync
// plan` shows of them. Compiling or building the planner failing ends the
// test; the plan's own error is returned.
func planOf(ctx context.Context, t *testing.T, r *rig, cfg engine.Config, mappings ...forcesync.Mapping) (*engine.Plan, error) {
	t.Helper()
	pipes, err := engine.Compile(ctx, r.api, mappings)
	if err != nil {
		t.Fatal(err)
	}
	pl, err := engine.NewPlanner(r.store, r.api, pipes, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return pl.Plan(ctx, engine.PlanOptions{})
}
