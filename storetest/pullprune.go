package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/forcesync/forcesync"
)

// testPullPrune: pruning deletes a mapping's old events except those a
// webhook has not taken; a feed cursor below what was pruned answers
// EGone, after=0 reads from the oldest event kept, other mappings'
// cursors are untouched; a convert event keeps the Contact it names.
func testPullPrune(t *testing.T, _ forcesync.Store, ps forcesync.PullStore, clk *Clock) {
	ctx := context.Background()
	gen := map[string]int64{}
	commit := func(mapping, id string, webhook bool, ev *forcesync.PulledChange) *forcesync.PulledChange {
		t.Helper()
		stamp := clk.Now()
		ev.Key, ev.SalesforceID, ev.Modstamp = "sf:"+id, id, stamp
		if ev.Op == "" {
			ev.Op = forcesync.PulledUpsert
		}
		c := &forcesync.PullCommit{Mapping: mapping, Source: "s", Now: clk.Now(),
			Watermark: forcesync.Watermark{Instant: stamp, Seen: map[string]time.Time{id: stamp}, Gen: gen[mapping]},
			Records:   []forcesync.PulledRecord{{Key: "sf:" + id, SalesforceID: id, Bind: true, Modstamp: stamp, Event: ev}}}
		if webhook {
			c.Webhooks = []string{"hook"}
		}
		if err := ps.CommitPull(ctx, c); err != nil {
			t.Fatal(err)
		}
		gen[mapping]++
		clk.Advance(time.Minute)
		return c.Records[0].Event
	}
	done := commit("m", "00Q1", true, &forcesync.PulledChange{})
	pending := commit("m", "00Q2", true, &forcesync.PulledChange{})
	plain := commit("m", "00Q3", false, &forcesync.PulledChange{})
	other := commit("o", "00Q4", false, &forcesync.PulledChange{})
	conv := commit("m", "00Q5", false, &forcesync.PulledChange{Op: forcesync.PulledConvert, ConvertedTo: "003C1"})
	// 00Q1 delivered, 00Q2 still failing: only the first is taken.
	if err := ps.FinishDeliveries(ctx, "hook", []forcesync.DeliveryResult{{Seq: done.Seq, OK: true},
		{Seq: pending.Seq, Error: "502", NextAttempt: clk.Now().Add(time.Hour)}}); err != nil {
		t.Fatal(err)
	}
	n, err := ps.PrunePulled(ctx, "m", conv.At) // every event of m before the convert one
	if err != nil || n != 2 {
		t.Fatalf("pruned %d %v, want 2 (the delivered and the webhook-less one)", n, err)
	}
	evs, err := ps.Changes(ctx, 0, 100, nil)
	if err != nil {
		t.Fatal(err)
	}
	var seqs []int64
	for _, ev := range evs {
		seqs = append(seqs, ev.Seq)
	}
	if len(evs) != 3 || evs[0].Seq != pending.Seq || evs[1].Seq != other.Seq || evs[2].Seq != conv.Seq {
		t.Fatalf("kept %v, want the pending, the other mapping's and the convert event %v", seqs, []int64{pending.Seq, other.Seq, conv.Seq})
	}
	if evs[2].Op != forcesync.PulledConvert || evs[2].ConvertedTo != "003C1" {
		t.Fatalf("convert event read back as %+v", evs[2])
	}
	if ds, _ := ps.ClaimDeliveries(ctx, "hook", clk.Now().Add(2*time.Hour), 10); len(ds) != 1 || ds[0].Change.Seq != pending.Seq {
		t.Fatalf("the pending delivery after pruning: %+v", ds)
	}
	for _, after := range []int64{done.Seq, pending.Seq} {
		if _, err := ps.Changes(ctx, after, 100, nil); forcesync.ErrorCode(err) != forcesync.EGone {
			t.Fatalf("cursor %d below the pruned %d: %v, want gone", after, plain.Seq, err)
		}
		if _, err := ps.Changes(ctx, after, 100, []string{"m"}); forcesync.ErrorCode(err) != forcesync.EGone {
			t.Fatalf("cursor %d of m: %v, want gone", after, err)
		}
		if _, err := ps.Changes(ctx, after, 100, []string{"o"}); err != nil {
			t.Fatalf("cursor %d of another mapping: %v", after, err)
		}
	}
	if evs, err := ps.Changes(ctx, plain.Seq, 100, nil); err != nil || len(evs) != 2 {
		t.Fatalf("cursor at the pruned edge: %d %v", len(evs), err)
	}
	// A cursor past the newest change is not from this feed: gone, not an
	// empty answer that would skip every change until the numbers got there.
	if evs, err := ps.Changes(ctx, conv.Seq, 100, nil); err != nil || len(evs) != 0 {
		t.Fatalf("cursor at the newest change: %d %v, want none yet", len(evs), err)
	}
	if _, err := ps.Changes(ctx, conv.Seq+1000, 100, nil); forcesync.ErrorCode(err) != forcesync.EGone {
		t.Fatalf("cursor past the newest change: %v, want gone", err)
	}
	if n, err := ps.PrunePulled(ctx, "m", conv.At); err != nil || n != 0 {
		t.Fatalf("pruning again: %d %v", n, err)
	}
}
