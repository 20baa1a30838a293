package storetest

import (
	"testing"
	"time"

	"github.com/forcesync/forcesync"
)

// testRenewLeases checks LeaseRenewer: a renewed lease outlives its first
// term; a lease another owner took over is not renewed.
func testRenewLeases(t *testing.T, s forcesync.Store, clk *Clock) {
	lr, ok := s.(forcesync.LeaseRenewer)
	if !ok {
		t.Skip("store does not implement LeaseRenewer")
	}
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
