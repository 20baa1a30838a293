package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/forcesync/forcesync"
)

func leaderStore(t *testing.T, s forcesync.Store) forcesync.LeaderStore {
	t.Helper()
	ls, ok := forcesync.StoreAs[forcesync.LeaderStore](s)
	if !ok {
		t.Skip("store does not implement LeaderStore")
	}
	return ls
}

func acquire(t *testing.T, ls forcesync.LeaderStore, name, owner string) (forcesync.Lease, bool) {
	t.Helper()
	l, held, err := ls.AcquireLease(ctx, name, owner, time.Minute)
	if err != nil {
		t.Fatalf("acquire %s for %s: %v", name, owner, err)
	}
	return l, held
}

// testLeaderLeases checks LeaderStore: one holder at a time; renewal keeps
// the token; a takeover after the term ran out, or after a release, raises
// it; the deposed holder can neither renew, release nor mark; the mark
// outlives owners.
func testLeaderLeases(t *testing.T, s forcesync.Store, clk *Clock) {
	ls := leaderStore(t, s)
	l, held := acquire(t, ls, "pull:m1", "r1")
	if !held || l.Owner != "r1" || l.Token != 1 || !l.Until.Equal(clk.Now().Add(time.Minute)) || !l.Mark.IsZero() {
		t.Fatalf("first acquire: %+v held=%v", l, held)
	}
	if l, held := acquire(t, ls, "pull:m1", "r2"); held || l.Owner != "r1" || l.Token != 1 {
		t.Fatalf("r2 acquired a held lease: %+v held=%v", l, held)
	}
	// Another name is another lease.
	if l, held := acquire(t, ls, "pull:m2", "r2"); !held || l.Token != 1 {
		t.Fatalf("r2 on pull:m2: %+v held=%v", l, held)
	}
	clk.Advance(40 * time.Second)
	// Acquiring what one holds extends the term, same token.
	if l, held := acquire(t, ls, "pull:m1", "r1"); !held || l.Token != 1 || !l.Until.Equal(clk.Now().Add(time.Minute)) {
		t.Fatalf("r1 again: %+v held=%v", l, held)
	}
	clk.Advance(40 * time.Second)
	if ok, err := ls.RenewLease(ctx, "pull:m1", "r1", 1, time.Minute); err != nil || !ok {
		t.Fatalf("renew: %v %v", ok, err)
	}
	if ok, err := ls.RenewLease(ctx, "pull:m1", "r2", 1, time.Minute); err != nil || ok {
		t.Fatalf("r2 renewed r1's lease: %v %v", ok, err)
	}
	if ok, err := ls.MarkLease(ctx, "pull:m1", 1, clk.Now()); err != nil || !ok {
		t.Fatalf("mark: %v %v", ok, err)
	}
	marked := clk.Now()

	// r1 stops renewing (paused, dead): after its term r2 takes over with
	// a greater token, and r1's late writes are refused.
	clk.Advance(61 * time.Second)
	l, held = acquire(t, ls, "pull:m1", "r2")
	if !held || l.Owner != "r2" || l.Token != 2 || !l.Mark.Equal(marked) {
		t.Fatalf("takeover: %+v held=%v (mark %v)", l, held, marked)
	}
	if ok, err := ls.RenewLease(ctx, "pull:m1", "r1", 1, time.Minute); err != nil || ok {
		t.Fatalf("deposed r1 renewed: %v %v", ok, err)
	}
	if ok, err := ls.MarkLease(ctx, "pull:m1", 1, clk.Now()); err != nil || ok {
		t.Fatalf("deposed r1's mark accepted: %v %v", ok, err)
	}
	if err := ls.ReleaseLease(ctx, "pull:m1", "r1", 1); err != nil {
		t.Fatal(err)
	}
	if l, held := acquire(t, ls, "pull:m1", "r3"); held || l.Owner != "r2" {
		t.Fatalf("a deposed holder's release freed the lease: %+v", l)
	}

	// A release frees the lease at once; the mark stays.
	if err := ls.ReleaseLease(ctx, "pull:m1", "r2", 2); err != nil {
		t.Fatal(err)
	}
	l, held = acquire(t, ls, "pull:m1", "r3")
	if !held || l.Token != 3 || !l.Mark.Equal(marked) {
		t.Fatalf("after release: %+v held=%v", l, held)
	}
	// A mark after the term ran out is refused even with the right token.
	clk.Advance(61 * time.Second)
	if ok, err := ls.MarkLease(ctx, "pull:m1", 3, clk.Now()); err != nil || ok {
		t.Fatalf("mark after the term: %v %v", ok, err)
	}
	// The same owner taking a lapsed lease again gets a new token: what it
	// did under the old one may have been overtaken.
	if l, held := acquire(t, ls, "pull:m1", "r3"); !held || l.Token != 4 {
		t.Fatalf("r3 again after its term: %+v held=%v", l, held)
	}

	if _, held := acquire(t, ls, "schedule:m1:replay", "r1"); !held {
		t.Fatal("schedule lease not granted")
	}
	all, err := ls.Leases(ctx, "pull:")
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || all[0].Name != "pull:m1" || all[0].Owner != "r3" || all[1].Name != "pull:m2" {
		t.Fatalf("leases pull:: %+v", all)
	}
	if all, err := ls.Leases(ctx, ""); err != nil || len(all) != 3 {
		t.Fatalf("every lease: %+v %v", all, err)
	}
}

// testLeaderLeasesConcurrent: owners asking for one lease at once, over
// several terms, are granted it one at a time, and each grant has a new
// token.
func testLeaderLeasesConcurrent(t *testing.T, s forcesync.Store, clk *Clock) {
	ls := leaderStore(t, s)
	const owners, rounds = 8, 5
	var last int64
	for round := range rounds {
		var wg sync.WaitGroup
		var mu sync.Mutex
		var winners []forcesync.Lease
		for i := range owners {
			wg.Add(1)
			go func() {
				defer wg.Done()
				l, held, err := ls.AcquireLease(ctx, "schedule:busy", fmt.Sprintf("r%d", i), time.Minute)
				if err != nil {
					t.Errorf("acquire: %v", err)
					return
				}
				if held {
					mu.Lock()
					winners = append(winners, l)
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if len(winners) != 1 {
			t.Fatalf("round %d: %d holders: %+v", round, len(winners), winners)
		}
		if winners[0].Token <= last {
			t.Fatalf("round %d: token %d after %d", round, winners[0].Token, last)
		}
		last = winners[0].Token
		clk.Advance(2 * time.Minute)
	}
}

// testReplay checks Replayer: every live record of the source is queued
// at backfill priority, unforced unless it is a resync; a record already
// queued keeps its place; records of other sources and deleted ones are
// left out; a mapping that never saw the records gets their statuses.
func testReplay(t *testing.T, s forcesync.Store, clk *Clock) {
	rp, ok := forcesync.StoreAs[forcesync.Replayer](s)
	if !ok {
		t.Skip("store does not implement Replayer")
	}
	accept(t, s, []string{"m1"},
		forcesync.Change{Key: "a", Fields: map[string]any{"n": 1}},
		forcesync.Change{Key: "b", Fields: map[string]any{"n": 2}},
		forcesync.Change{Key: "c", Fields: map[string]any{"n": 3}},
		forcesync.Change{Key: "d", Fields: map[string]any{"n": 4}})
	accept(t, s, []string{"m1"}, forcesync.Change{Key: "d", Op: forcesync.OpDelete})
	accept(t, s, []string{"other"}, forcesync.Change{Source: "vendor", Key: "v", Fields: map[string]any{"n": 5}})
	items := claim(t, s, clk, "m1", "w1", 10)
	var outs []forcesync.Outcome
	for i, it := range items {
		outs = append(outs, forcesync.Outcome{Item: it, State: forcesync.StateSynced, SalesforceID: fmt.Sprintf("00Q00000000000%dAAA", i), Fingerprint: "fp-" + it.Key})
	}
	complete(t, s, "w1", outs...)
	if n, _ := s.Backlog(ctx, "m1"); n != 0 {
		t.Fatalf("backlog %d before the replay", n)
	}

	n, err := rp.Replay(ctx, "m1", "contact", false)
	if err != nil || n != 3 {
		t.Fatalf("replay: %d %v; want 3", n, err)
	}
	items = claim(t, s, clk, "m1", "w1", 10)
	if got := keys(items); fmt.Sprint(got) != "[a b c]" {
		t.Fatalf("replayed %v, want [a b c]", got)
	}
	for _, it := range items {
		if it.Forced || it.Priority != forcesync.PriorityBackfill || it.Binding == nil || it.Binding.Fingerprint != "fp-"+it.Key {
			t.Fatalf("replayed item %+v", it)
		}
	}
	// Replaying what is queued (here: leased) changes nothing.
	if n, err := rp.Replay(ctx, "m1", "contact", false); err != nil || n != 0 {
		t.Fatalf("replay of queued records: %d %v; want 0", n, err)
	}
	// A resync while they are in flight marks the rows, but the push under
	// way settles them (Complete clears the mark with the row).
	if n, err := rp.Replay(ctx, "m1", "contact", true); err != nil || n != 3 {
		t.Fatalf("resync in flight: %d %v; want 3", n, err)
	}
	outs = outs[:0]
	for _, it := range items {
		outs = append(outs, forcesync.Outcome{Item: it, State: forcesync.StateSynced, SalesforceID: it.Binding.SalesforceID, Fingerprint: "fp-" + it.Key})
	}
	complete(t, s, "w1", outs...)
	if n, _ := s.Backlog(ctx, "m1"); n != 0 {
		t.Fatalf("backlog %d after the pushes in flight completed", n)
	}
	// A resync of queued records forces each, an unforced replay after it
	// takes nothing back.
	accept(t, s, []string{"m1"}, forcesync.Change{Key: "a", Fields: map[string]any{"n": 10}})
	if n, err := rp.Replay(ctx, "m1", "contact", true); err != nil || n != 3 {
		t.Fatalf("resync: %d %v; want 3", n, err)
	}
	if n, err := rp.Replay(ctx, "m1", "contact", false); err != nil || n != 0 {
		t.Fatalf("replay after the resync: %d %v; want 0", n, err)
	}
	items = claim(t, s, clk, "m1", "w1", 10)
	if got := keys(items); fmt.Sprint(got) != "[a b c]" {
		t.Fatalf("after the resync %v are queued, want [a b c]", got)
	}
	for _, it := range items {
		if !it.Forced {
			t.Fatalf("resynced item not forced: %+v", it)
		}
		if it.Key == "a" && (it.Priority != forcesync.PriorityRealtime || it.Fields["n"] != 10.0) {
			t.Fatalf("a queued change lost its place or data to the resync: %+v", it)
		}
	}

	// A mapping added later: its records get a status and are queued.
	if n, err := rp.Replay(ctx, "m2", "contact", false); err != nil || n != 3 {
		t.Fatalf("replay of a new mapping: %d %v; want 3", n, err)
	}
	if st := status(t, s, "b", "m2"); st.State != forcesync.StatePending {
		t.Fatalf("status under the new mapping: %+v", st)
	}
	// m1's statuses were left as they were.
	if st := status(t, s, "b", "m1"); st.State != forcesync.StateSynced {
		t.Fatalf("status under m1: %+v", st)
	}
	if n, _ := s.Backlog(ctx, "other"); n != 1 {
		t.Fatalf("other source's mapping backlog %d, want 1", n)
	}
}
