package storetest

import (
	"testing"
	"time"

	"github.com/forcesync/forcesync"
)

// testSettled checks SettledReader: the stored fields, state, binding
// fingerprint and queued flag a file push compares rows against.
func testSettled(t *testing.T, s forcesync.Store, clk *Clock) {
	sr, ok := s.(forcesync.SettledReader)
	if !ok {
		t.Skip("store does not implement SettledReader")
	}
	accept(t, s, []string{"m1", "m2"},
		forcesync.Change{Key: "a", Op: forcesync.OpUpsert, Fields: map[string]any{"email": "a@x.com"}},
		forcesync.Change{Key: "b", Op: forcesync.OpUpsert, Fields: map[string]any{"email": "b@x.com"}})
	got, err := sr.Settled(ctx, "contact", []string{"m1", "m2"}, []string{"a", "b", "nobody"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("got %d records, want a and b: %+v", len(got), got)
	}
	a := got["a"]
	if a.Version != 1 || a.Deleted || a.Fields != `{"email":"a@x.com"}` {
		t.Fatalf("a = %+v", a)
	}
	if m := a.Mappings["m1"]; m.State != forcesync.StatePending || !m.Queued || m.Fingerprint != "" {
		t.Fatalf("a under m1 before the push = %+v", m)
	}
	// Push a under m1: bound, synced, nothing queued; m2 still queued.
	items, err := s.Claim(ctx, forcesync.ClaimRequest{Mapping: "m1", Owner: "w", Lease: time.Minute, Limit: 10, Now: clk.Now()})
	if err != nil {
		t.Fatal(err)
	}
	var outs []forcesync.Outcome
	for _, it := range items {
		st := forcesync.StateSynced
		if it.Key == "b" {
			st = forcesync.StateHeld
		}
		outs = append(outs, forcesync.Outcome{Item: it, State: st, SalesforceID: "00Q000000000001AAA", Fingerprint: "fp-" + it.Key,
			Error: map[bool]*forcesync.RecordError{true: {Code: "X", Message: "no"}}[st == forcesync.StateHeld]})
	}
	complete(t, s, "w", outs...)
	got, err = sr.Settled(ctx, "contact", []string{"m1", "m2"}, []string{"a", "b"})
	if err != nil {
		t.Fatal(err)
	}
	if m := got["a"].Mappings["m1"]; m.State != forcesync.StateSynced || m.Queued || m.Fingerprint != "fp-a" || m.SalesforceID != "00Q000000000001AAA" {
		t.Fatalf("a under m1 after the push = %+v", m)
	}
	if m := got["a"].Mappings["m2"]; m.State != forcesync.StatePending || !m.Queued {
		t.Fatalf("a under m2 = %+v", m)
	}
	if m := got["b"].Mappings["m1"]; m.State != forcesync.StateHeld || m.Queued {
		t.Fatalf("b under m1 = %+v", m)
	}
	// A delete shows as deleted.
	accept(t, s, []string{"m1"}, forcesync.Change{Key: "a", Op: forcesync.OpDelete})
	got, err = sr.Settled(ctx, "contact", []string{"m1"}, []string{"a"})
	if err != nil {
		t.Fatal(err)
	}
	if !got["a"].Deleted || got["a"].Version != 2 || !got["a"].Mappings["m1"].Queued {
		t.Fatalf("a after delete = %+v", got["a"])
	}
}
