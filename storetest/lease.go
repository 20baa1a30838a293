package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/forcesync/forcesync"
)

// renewer returns s as a LeaseRenewer, or skips the test.
func renewer(t *testing.T, s forcesync.Store) forcesync.LeaseRenewer {
	t.Helper()
	lr, ok := s.(forcesync.LeaseRenewer)
	if !ok {
		t.Skip("store does not implement LeaseRenewer")
	}
	return lr
}

// testRenewLeases checks LeaseRenewer: a renewed lease outlives its first
// term; a lease another owner took over is not renewed.
func testRenewLeases(t *testing.T, s forcesync.Store, clk *Clock) {
	lr := renewer(t, s)
	accept(t, s, []string{"m1"},
		forcesync.Change{Key: "a", Op: forcesync.OpUpsert, Fields: map[string]any{"n": 1}},
		forcesync.Change{Key: "b", Op: forcesync.OpUpsert, Fields: map[string]any{"n": 2}})
	if got := keys(claim(t, s, clk, "m1", "w1", 1)); len(got) != 1 {
		t.Fatalf("w1 claimed %v", got)
	}
	clk.Advance(50 * time.Second)
	n, err := lr.RenewLeases(ctx, "m1", "w1", clk.Now().Add(time.Minute))
	if err != nil || n != 1 {
		t.Fatalf("renew: %d, %v; want 1", n, err)
	}
	// The first lease (one minute) would have run out by now.
	clk.Advance(30 * time.Second)
	if got := keys(claim(t, s, clk, "m1", "w2", 10)); len(got) != 1 {
		t.Fatalf("w2 claimed %v while w1's renewed lease holds the other key", got)
	}
	// w1 stops renewing: its lease runs out and w3 takes the key over;
	// w1's renewal then extends nothing.
	clk.Advance(31 * time.Second)
	if got := keys(claim(t, s, clk, "m1", "w3", 10)); len(got) != 1 {
		t.Fatalf("w3 claimed %v after w1's lease ran out", got)
	}
	if n, err := lr.RenewLeases(ctx, "m1", "w1", clk.Now().Add(time.Minute)); err != nil || n != 0 {
		t.Fatalf("renew of a lost lease: %d, %v; want 0", n, err)
	}
}

// testReady checks ReadyCounter: only due work that no live lease holds
// counts; a lease that ran out counts again.
func testReady(t *testing.T, s forcesync.Store, clk *Clock) {
	rc, ok := s.(forcesync.ReadyCounter)
	if !ok {
		t.Skip("store does not implement ReadyCounter")
	}
	ready := func(want int) {
		t.Helper()
		if n, err := rc.Ready(ctx, "m1", clk.Now()); err != nil || n != want {
			t.Fatalf("Ready: %d, %v; want %d", n, err, want)
		}
	}
	ready(0)
	accept(t, s, []string{"m1", "m2"},
		forcesync.Change{Key: "a", Op: forcesync.OpUpsert, Fields: map[string]any{"n": 1}},
		forcesync.Change{Key: "b", Op: forcesync.OpUpsert, Fields: map[string]any{"n": 2}},
		forcesync.Change{Key: "c", Op: forcesync.OpUpsert, Fields: map[string]any{"n": 3}, Priority: forcesync.PriorityBackfill})
	ready(3)
	if got := claim(t, s, clk, "m1", "w1", 2); len(got) != 2 {
		t.Fatalf("w1 claimed %v", keys(got))
	}
	ready(1) // the two leased do not count; m2's work is m2's
	clk.Advance(61 * time.Second)
	ready(3) // w1's lease ran out
}

// testRenewOneLease checks that a claim's rows share one lease: a renewal
// reports one lease extended, however many rows the claim holds, and
// every row of the claim is held by it.
func testRenewOneLease(t *testing.T, s forcesync.Store, clk *Clock) {
	lr := renewer(t, s)
	var cs []forcesync.Change
	for i := range 5 {
		cs = append(cs, forcesync.Change{Key: fmt.Sprintf("k%d", i), Op: forcesync.OpUpsert, Fields: map[string]any{"n": i}})
	}
	accept(t, s, []string{"m1"}, cs...)
	if got := claim(t, s, clk, "m1", "w", 10); len(got) != 5 {
		t.Fatalf("claimed %v", keys(got))
	}
	clk.Advance(50 * time.Second)
	if n, err := lr.RenewLeases(ctx, "m1", "w", clk.Now().Add(time.Minute)); err != nil || n != 1 {
		t.Fatalf("renew: %d, %v; want the claim's one lease", n, err)
	}
	clk.Advance(20 * time.Second)
	if got := claim(t, s, clk, "m1", "w2", 10); len(got) != 0 {
		t.Fatalf("w2 claimed %v under the renewed lease", keys(got))
	}
}

// testRenewOwnLease checks that a renewal extends only the given owner's
// lease: another owner's claim of the same mapping runs out on time.
func testRenewOwnLease(t *testing.T, s forcesync.Store, clk *Clock) {
	lr := renewer(t, s)
	accept(t, s, []string{"m1"},
		forcesync.Change{Key: "a", Op: forcesync.OpUpsert, Fields: map[string]any{"n": 1}},
		forcesync.Change{Key: "b", Op: forcesync.OpUpsert, Fields: map[string]any{"n": 2}})
	k1 := keys(claim(t, s, clk, "m1", "w1", 1))
	k2 := keys(claim(t, s, clk, "m1", "w2", 1))
	if len(k1) != 1 || len(k2) != 1 {
		t.Fatalf("w1 claimed %v, w2 %v", k1, k2)
	}
	clk.Advance(50 * time.Second)
	if n, err := lr.RenewLeases(ctx, "m1", "w1", clk.Now().Add(time.Minute)); err != nil || n != 1 {
		t.Fatalf("renew: %d, %v; want 1", n, err)
	}
	// w2's lease (one minute) ran out; w1's renewed lease holds.
	clk.Advance(20 * time.Second)
	if got := keys(claim(t, s, clk, "m1", "w3", 10)); fmt.Sprint(got) != fmt.Sprint(k2) {
		t.Fatalf("w3 claimed %v, want w2's %v only", got, k2)
	}
}

// testRenewLatestClaim checks that a renewal extends the owner's latest
// claim of the mapping only: an earlier claim of the same owner, left
// uncompleted (its Complete failed), runs out on time rather than live as
// long as the owner's later batches.
func testRenewLatestClaim(t *testing.T, s forcesync.Store, clk *Clock) {
	lr := renewer(t, s)
	accept(t, s, []string{"m1"}, forcesync.Change{Key: "a", Op: forcesync.OpUpsert, Fields: map[string]any{"n": 1}})
	if got := keys(claim(t, s, clk, "m1", "w", 10)); fmt.Sprint(got) != "[a]" {
		t.Fatalf("first claim %v", got)
	}
	clk.Advance(10 * time.Second)
	accept(t, s, []string{"m1"}, forcesync.Change{Key: "b", Op: forcesync.OpUpsert, Fields: map[string]any{"n": 2}})
	if got := keys(claim(t, s, clk, "m1", "w", 10)); fmt.Sprint(got) != "[b]" {
		t.Fatalf("second claim %v", got)
	}
	clk.Advance(40 * time.Second)
	if n, err := lr.RenewLeases(ctx, "m1", "w", clk.Now().Add(time.Minute)); err != nil || n != 1 {
		t.Fatalf("renew: %d, %v; want 1", n, err)
	}
	// The first claim's lease ran out; the second's, renewed, holds.
	clk.Advance(15 * time.Second)
	if got := keys(claim(t, s, clk, "m1", "w2", 10)); fmt.Sprint(got) != "[a]" {
		t.Fatalf("w2 claimed %v, want the first claim's [a]", got)
	}
}

// testClaimExpiredLease checks that the rows of a lease that ran out are
// claimable by others, not before, in parts if a claim takes fewer, and
// that the first owner's late Complete then writes nothing.
func testClaimExpiredLease(t *testing.T, s forcesync.Store, clk *Clock) {
	rc, _ := s.(forcesync.ReadyCounter)
	ready := func(want int) {
		t.Helper()
		if rc == nil {
			return
		}
		if n, err := rc.Ready(ctx, "m1", clk.Now()); err != nil || n != want {
			t.Fatalf("Ready: %d, %v; want %d", n, err, want)
		}
	}
	accept(t, s, []string{"m1"},
		forcesync.Change{Key: "a", Op: forcesync.OpUpsert, Fields: map[string]any{"n": 1}},
		forcesync.Change{Key: "b", Op: forcesync.OpUpsert, Fields: map[string]any{"n": 2}},
		forcesync.Change{Key: "c", Op: forcesync.OpUpsert, Fields: map[string]any{"n": 3}})
	first := claim(t, s, clk, "m1", "dead", 10)
	if len(first) != 3 {
		t.Fatalf("dead claimed %v", keys(first))
	}
	clk.Advance(59 * time.Second)
	ready(0)
	if got := claim(t, s, clk, "m1", "w2", 10); len(got) != 0 {
		t.Fatalf("w2 claimed %v under a live lease", keys(got))
	}
	clk.Advance(2 * time.Second)
	ready(3)
	second := claim(t, s, clk, "m1", "w2", 2)
	third := claim(t, s, clk, "m1", "w3", 10)
	if len(second) != 2 || len(third) != 1 || fmt.Sprint(keys(append(second, third...))) != "[a b c]" {
		t.Fatalf("after the lease ran out w2 claimed %v, w3 %v", keys(second), keys(third))
	}
	ready(0)
	var late []forcesync.Outcome
	for _, it := range first {
		late = append(late, forcesync.Outcome{Item: it, State: forcesync.StateSynced, SalesforceID: "003000000000009AAA"})
	}
	complete(t, s, "dead", late...)
	for _, k := range []string{"a", "b", "c"} {
		if b, _ := s.Binding(ctx, "m1", k); b != nil {
			t.Fatalf("the dead owner's late outcome wrote a binding for %s: %+v", k, b)
		}
	}
	for owner, items := range map[string][]forcesync.WorkItem{"w2": second, "w3": third} {
		for _, it := range items {
			complete(t, s, owner, forcesync.Outcome{Item: it, State: forcesync.StateSynced, SalesforceID: "003000000000002AAA"})
		}
	}
	if n, _ := s.Backlog(ctx, "m1"); n != 0 {
		t.Fatalf("backlog %d after the new owners completed", n)
	}
}

// testRenewAfterTakeover checks that renewing a lease that ran out, whose
// rows another owner took over, does not take them back: the new owner's
// lease still runs out on its own terms, and the first owner's late
// Complete writes nothing.
func testRenewAfterTakeover(t *testing.T, s forcesync.Store, clk *Clock) {
	lr := renewer(t, s)
	accept(t, s, []string{"m1"}, forcesync.Change{Key: "a", Op: forcesync.OpUpsert, Fields: map[string]any{"n": 1}})
	first := claim(t, s, clk, "m1", "w1", 10)
	clk.Advance(61 * time.Second)
	if got := keys(claim(t, s, clk, "m1", "w2", 10)); fmt.Sprint(got) != "[a]" {
		t.Fatalf("w2 claimed %v after w1's lease ran out", got)
	}
	// w1 wakes up and renews, for an hour.
	if _, err := lr.RenewLeases(ctx, "m1", "w1", clk.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got := claim(t, s, clk, "m1", "w3", 10); len(got) != 0 {
		t.Fatalf("w3 claimed %v under w2's live lease", keys(got))
	}
	complete(t, s, "w1", forcesync.Outcome{Item: first[0], State: forcesync.StateSynced, SalesforceID: "003000000000009AAA"})
	if b, _ := s.Binding(ctx, "m1", "a"); b != nil {
		t.Fatalf("w1's late outcome wrote a binding: %+v", b)
	}
	// w2 stops renewing: its lease runs out although w1 renewed.
	clk.Advance(61 * time.Second)
	if got := keys(claim(t, s, clk, "m1", "w3", 10)); fmt.Sprint(got) != "[a]" {
		t.Fatalf("w3 claimed %v after w2's lease ran out; w1's renewal must not hold the row", got)
	}
}
