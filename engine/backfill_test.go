package engine_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/emulator"
	"github.com/forcesync/forcesync/engine"
)

// waitFor polls cond until it holds; the test fails after three minutes
// (a Bulk job under -race on a loaded machine can take one).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("still waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// lookCounter counts the engine's looks at the claimable backlog.
type lookCounter struct {
	forcesync.Store
	looks atomic.Int64
}

func (l *lookCounter) Unwrap() forcesync.Store { return l.Store }

func (l *lookCounter) Ready(ctx context.Context, mapping string, now time.Time) (int, error) {
	defer l.looks.Add(1)
	return l.Store.(forcesync.ReadyCounter).Ready(ctx, mapping, now)
}

// waitLooks waits until the engine has looked at the backlog twice more
// (so at least once after what the test just did).
func waitLooks(t *testing.T, l *lookCounter) {
	t.Helper()
	from := l.looks.Load()
	waitFor(t, "the engine to look at the backlog", func() bool { return l.looks.Load() >= from+2 })
}

// heldRig is a rig whose engine runs on a clock of its own (now) that the
// test moves, with a budget governor on the real clock; its store counts
// the engine's looks at the backlog.
func heldRig(t *testing.T, workers int, now func() time.Time) (*rig, *lookCounter) {
	r := newRig(t, engine.Config{SchemaEvery: -1}, leadByExtID())
	gov, err := engine.NewGovernor(context.Background(), engine.GovernorConfig{Connection: "default", Ledger: r.store, Share: 1,
		Limits: r.api.DailyAPIUsage})
	if err != nil {
		t.Fatal(err)
	}
	looks := &lookCounter{Store: r.store}
	r.Eng, err = engine.New(context.Background(), looks, r.api, []forcesync.Mapping{leadByExtID()},
		engine.Config{BulkThreshold: 2000, Workers: workers, Idle: 5 * time.Millisecond, Now: now, SchemaEvery: -1, Governor: gov})
	if err != nil {
		t.Fatal(err)
	}
	return r, looks
}

func (r *rig) synced(mapping string) int {
	c, err := r.store.Counts(context.Background(), mapping)
	if err != nil {
		r.t.Fatal(err)
	}
	return c[forcesync.StateSynced]
}

// TestRunHoldsGrowingBackfill: under Run, a backfill arriving in posts is
// held while it grows and then goes out as one Bulk job, while realtime
// work sent meanwhile goes out at once through Collections.
func TestRunHoldsGrowingBackfill(t *testing.T) {
	// The engine's clock stands still until the test moves it, so the
	// backlog never looks quiet before the last post is in.
	var offset atomic.Int64
	base := time.Now().Add(time.Hour)
	now := func() time.Time { return base.Add(time.Duration(offset.Load())) }
	r, looks := heldRig(t, 2, now)
	r.emu.SetFinishBulkJobsAtOnce(true)
	post := func(lo, hi int, prio forcesync.Priority) {
		var cs []forcesync.Change
		for i := lo; i < hi; i++ {
			c := contact(fmt.Sprint(i), "B", fmt.Sprintf("b%d@example.com", i), 80)
			c.Priority = prio
			cs = append(cs, c)
		}
		r.accept("contact", cs...)
		r.Eng.Notify()
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); r.Eng.Run(ctx) }()
	defer func() { cancel(); wg.Wait() }()

	post(0, 1000, forcesync.PriorityBackfill)
	post(1000, 1005, forcesync.PriorityRealtime)
	waitFor(t, "the realtime records", func() bool { return r.synced("contacts_to_leads") == 5 })
	for lo := 1005; lo < 3000; lo += 1000 {
		post(lo, min(lo+1000, 3000), forcesync.PriorityBackfill)
	}
	if n := r.synced("contacts_to_leads"); n != 5 {
		t.Fatalf("%d synced while the backfill grows; want only the 5 realtime records", n)
	}
	// Once the engine has seen the last post, the clock moves on: the
	// backlog has been quiet since.
	waitLooks(t, looks)
	offset.Store(int64(6 * time.Second))
	waitFor(t, "the backfill", func() bool { return r.synced("contacts_to_leads") == 3000 })

	runs, err := r.store.Runs(context.Background(), 100)
	if err != nil {
		t.Fatal(err)
	}
	var bulk, coll []int
	for _, run := range runs {
		if run.API == "bulk" {
			bulk = append(bulk, run.Records)
		} else {
			coll = append(coll, run.Records)
		}
	}
	if len(bulk) != 1 || bulk[0] != 2995 || len(coll) != 1 || coll[0] != 5 {
		t.Fatalf("bulk batches %v, collections batches %v; want one Bulk job of 2,995 and one Collections call of 5", bulk, coll)
	}
	if n := r.emu.Stats()[emulator.KindCollections]; n != 1 {
		t.Fatalf("%d Collections calls, want 1", n)
	}
}

// TestRunReleasesTrickleAfterMaxWait: a backfill that never stops growing
// is not held for ever.
func TestRunReleasesTrickleAfterMaxWait(t *testing.T) {
	var offset atomic.Int64
	base := time.Now().Add(time.Hour)
	now := func() time.Time { return base.Add(time.Duration(offset.Load())) }
	r, looks := heldRig(t, 1, now)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); r.Eng.Run(ctx) }()
	defer func() { cancel(); wg.Wait() }()
	// A new record every half second of the engine's clock: never quiet
	// for a second, never a full job.
	for i := 0; i < 100; i++ {
		c := contact(fmt.Sprint(i), "T", fmt.Sprintf("t%d@example.com", i), 80)
		c.Priority = forcesync.PriorityBackfill
		r.accept("contact", c)
		r.Eng.Notify()
		if r.synced("contacts_to_leads") > 0 {
			if i < 60 {
				t.Fatalf("backfill went out after %d records, %v of the engine's clock; want it held 30 s", i+1, time.Duration(offset.Load()))
			}
			return
		}
		// The engine sees each record before the clock moves on.
		waitLooks(t, looks)
		offset.Add(int64(500 * time.Millisecond))
	}
	waitFor(t, "the trickle", func() bool { return r.synced("contacts_to_leads") > 0 })
}
