package engine_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/emulator"
	"github.com/forcesync/forcesync/engine"
	"github.com/forcesync/forcesync/sqlite"
	"github.com/forcesync/forcesync/storetest"
)

// fakeLimits is an org's /limits as the governor reads it.
type fakeLimits struct {
	mu        sync.Mutex
	used, max int
	reads     int
}

func (f *fakeLimits) read(context.Context) (int, int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	return f.used, f.max, nil
}

func (f *fakeLimits) set(used, max int) { f.mu.Lock(); f.used, f.max = used, max; f.mu.Unlock() }

func (f *fakeLimits) count() int { f.mu.Lock(); defer f.mu.Unlock(); return f.reads }

func openLedger(t *testing.T, path string, clk *storetest.Clock) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), path, sqlite.Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func newGov(t *testing.T, st forcesync.Ledger, clk *storetest.Clock, lim *fakeLimits) *engine.Governor {
	t.Helper()
	g, err := engine.NewGovernor(context.Background(), engine.GovernorConfig{Connection: "org", Ledger: st,
		Share: 0.5, Reserve: 0.1, RealtimeLane: 0.2, Limits: lim.read, Recheck: time.Minute, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// TestGovernorCountsItsOwnCallsAcrossRestarts: forcesync's own calls, not
// the org's usage, are held against its share; they are kept in the store,
// so a new governor (a restart) still knows them, says when the share
// frees up, and resumes then by itself.
func TestGovernorCountsItsOwnCallsAcrossRestarts(t *testing.T) {
	ctx := context.Background()
	clk := storetest.NewClock()
	path := filepath.Join(t.TempDir(), "fs.db")
	lim := &fakeLimits{used: 10, max: 100} // budget: 50 calls a day
	g := newGov(t, openLedger(t, path, clk), clk, lim)
	if ok, why := g.Allow(ctx, forcesync.LaneRealtime, 2); !ok {
		t.Fatalf("fresh governor refuses: %s", why)
	}
	g.Spent(ctx, forcesync.LaneRealtime, 30)
	clk.Advance(time.Hour)
	g.Spent(ctx, forcesync.LaneRealtime, 19)
	lim.set(60, 100) // the org's usage alone would leave room
	g.Allow(ctx, forcesync.LaneBackfill, 2)
	ok, why := g.Allow(ctx, forcesync.LaneRealtime, 2)
	if ok || !strings.Contains(why, "share is spent") {
		t.Fatalf("allowed past the share: %v %q", ok, why)
	}
	st := g.State()
	want := clk.Now().Add(-time.Hour).Truncate(time.Minute).Add(24*time.Hour + time.Minute)
	if len(st.Paused) != 2 || !st.ResumeAt.Equal(want) || st.Own < 49 {
		t.Fatalf("state %+v, want both lanes paused until %v", st, want)
	}

	// A restart: a new store handle and governor on the same file.
	clk2 := storetest.NewClock()
	clk2.Advance(clk.Now().Sub(clk2.Now()))
	g2 := newGov(t, openLedger(t, path, clk2), clk2, lim)
	if ok, _ := g2.Allow(ctx, forcesync.LaneRealtime, 2); ok {
		t.Fatal("a restarted governor forgot the calls of the last 24 hours")
	}
	// The stored state shows the pause to `forcesync status`.
	bs, err := openLedger(t, path, clk2).BudgetState(ctx, "org")
	if err != nil || bs == nil || len(bs.Paused) == 0 || !strings.Contains(bs.Reason, "share is spent") {
		t.Fatalf("stored state %+v %v", bs, err)
	}
	// When the first 30 calls leave the window, it resumes by itself.
	clk2.Advance(want.Sub(clk2.Now()))
	if ok, why := g2.Allow(ctx, forcesync.LaneRealtime, 2); !ok {
		t.Fatalf("did not resume at %v: %s", want, why)
	}
	if st := g2.State(); len(st.Paused) != 0 {
		t.Fatalf("still paused: %+v", st)
	}
}

// TestGovernorReserveAndRecheck: the org's own usage near its allowance
// pauses forcesync before it spends; while paused /limits is read at most
// once per Recheck, and a restored allowance resumes it unattended.
func TestGovernorReserveAndRecheck(t *testing.T) {
	ctx := context.Background()
	clk := storetest.NewClock()
	lim := &fakeLimits{used: 99_990, max: 100_000}
	g := newGov(t, openLedger(t, filepath.Join(t.TempDir(), "fs.db"), clk), clk, lim)
	ok, why := g.Allow(ctx, forcesync.LaneRealtime, 1)
	if ok || !strings.Contains(why, "reserve") || lim.count() != 1 {
		t.Fatalf("at 99,990/100,000: allowed %v (%q), %d reads", ok, why, lim.count())
	}
	for range 5 {
		clk.Advance(10 * time.Second)
		if ok, _ := g.Allow(ctx, forcesync.LaneRealtime, 1); ok {
			t.Fatal("resumed without news")
		}
	}
	if lim.count() != 1 {
		t.Fatalf("/limits read %d times within a minute", lim.count())
	}
	lim.set(10, 100_000) // the rolling window moved on
	clk.Advance(10 * time.Second)
	if ok, why := g.Allow(ctx, forcesync.LaneRealtime, 1); !ok || lim.count() != 2 {
		t.Fatalf("after a minute: allowed %v (%q), %d reads", ok, why, lim.count())
	}
	// While running on fresh news no /limits read is made.
	g.ObserveUsage(12, 100_000)
	g.Allow(ctx, forcesync.LaneRealtime, 1)
	if lim.count() != 2 {
		t.Fatalf("read /limits while the answers bring the usage: %d reads", lim.count())
	}
}

// TestGovernorRealtimeLane: backfills stop short of the share, keeping a
// lane that only realtime work may spend.
func TestGovernorRealtimeLane(t *testing.T) {
	ctx := context.Background()
	clk := storetest.NewClock()
	lim := &fakeLimits{used: 0, max: 1000} // budget 500, realtime lane 100
	g := newGov(t, openLedger(t, filepath.Join(t.TempDir(), "fs.db"), clk), clk, lim)
	g.Allow(ctx, forcesync.LaneBackfill, 1) // reads /limits: one call
	g.Spent(ctx, forcesync.LaneBackfill, 398)
	lim.set(399, 1000)
	if ok, why := g.Allow(ctx, forcesync.LaneBackfill, 1); !ok {
		t.Fatalf("backfill refused below its part: %s", why)
	}
	g.Spent(ctx, forcesync.LaneBackfill, 1)
	if ok, why := g.Allow(ctx, forcesync.LaneBackfill, 1); ok || !strings.Contains(why, "realtime lane") {
		t.Fatalf("backfill took the realtime lane: %v %q", ok, why)
	}
	if ok, why := g.Allow(ctx, forcesync.LaneRealtime, 100); !ok {
		t.Fatalf("realtime refused its lane: %s", why)
	}
	if st := g.State(); len(st.Paused) != 1 || st.Paused[0] != forcesync.LaneBackfill {
		t.Fatalf("state %+v", st)
	}
}

// TestEngineChecksBudgetBeforeSpending: with the org at 99,990 of 100,000
// calls, the engine spends nothing on records, even with a share of 100%:
// the reserve is the org's other users' (main spent a call for 50 records).
func TestEngineChecksBudgetBeforeSpending(t *testing.T) {
	r := newRig(t, engine.Config{BulkThreshold: -1, APIShare: 1}, leadByExtID())
	r.emu.SetAPIUsage(99_990, 100_000)
	r.query("SELECT Id FROM Lead") // an answer tells the client
	var cs []forcesync.Change
	for i := range 50 {
		cs = append(cs, contact(fmt.Sprint(i), "L", fmt.Sprintf("p%d@example.com", i), 60))
	}
	r.accept("contact", cs...)
	r.emu.ResetStats()
	r.drain()
	if st := r.emu.Stats(); st[emulator.KindCollections] != 0 || r.calls() != 0 {
		t.Fatalf("spent calls at 99,990/100,000: %v", st)
	}
	if n := len(r.query("SELECT Id FROM Lead")); n != 0 {
		t.Fatalf("%d leads written", n)
	}
	if why := r.Eng.Paused(); !strings.Contains(why, "reserve") {
		t.Fatalf("paused %q", why)
	}
}

// TestEngineResumesByItself: paused by the org's usage, the engine
// resumes once /limits shows room again, without a restart (main stayed
// paused: it read usage only from answers to calls it no longer made).
func TestEngineResumesByItself(t *testing.T) {
	clk := storetest.NewClock()
	clk.Advance(time.Since(clk.Now()) + time.Hour) // ahead of the store's clock: work is due
	r := newRig(t, engine.Config{BulkThreshold: -1, Now: clk.Now}, leadByExtID())
	r.emu.SetAPIUsage(95_000, 100_000)
	r.query("SELECT Id FROM Lead")
	for i := range 20 {
		r.accept("contact", contact(fmt.Sprint(i), "L", fmt.Sprintf("p%d@example.com", i), 60))
	}
	r.drain()
	if r.Eng.Paused() == "" || len(r.query("SELECT Id FROM Lead")) != 0 {
		t.Fatal("not paused at 95%")
	}
	r.emu.SetAPIUsage(10, 100_000) // the window moved on
	r.drain()
	if r.Eng.Paused() == "" {
		t.Fatal("resumed before re-reading /limits a minute later")
	}
	clk.Advance(time.Minute)
	r.drain()
	if why := r.Eng.Paused(); why != "" {
		t.Fatalf("still paused: %s", why)
	}
	if n := len(r.query("SELECT Id FROM Lead")); n != 20 {
		t.Fatalf("%d of 20 leads after resuming", n)
	}
}

// TestEngineRealtimeLaneKeepsFlowing: when backfills have used their part
// of the share, realtime changes are still pushed and backfills wait.
func TestEngineRealtimeLaneKeepsFlowing(t *testing.T) {
	r := newRig(t, engine.Config{BulkThreshold: -1}, leadByExtID())
	r.emu.SetAPIUsage(0, 1000) // budget 500; backfills stop at 400
	r.query("SELECT Id FROM Lead")
	r.Eng.Governor().Spent(context.Background(), forcesync.LaneBackfill, 399)
	bf := contact("bf", "Back", "bf@example.com", 60)
	bf.Priority = forcesync.PriorityBackfill
	rt := contact("rt", "Real", "rt@example.com", 60)
	r.accept("contact", bf, rt)
	r.drain()
	if st := r.status("contact", "rt"); st.State != forcesync.StateSynced {
		t.Fatalf("realtime record %+v", st)
	}
	if st := r.status("contact", "bf"); st.State != forcesync.StatePending {
		t.Fatalf("backfill record %+v", st)
	}
	if st := r.Eng.Governor().State(); len(st.Paused) != 1 || st.Paused[0] != forcesync.LaneBackfill {
		t.Fatalf("governor %+v", st)
	}
}
