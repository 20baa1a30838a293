package storetest

import (
	"fmt"
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
	// While claimed, the rows are queued, the claim holds their latest
	// version: not overtaken.
	got, err = sr.Settled(ctx, "contact", []string{"m1", "m2"}, []string{"a", "b"})
	if err != nil {
		t.Fatal(err)
	}
	if m := got["a"].Mappings["m1"]; !m.Queued || m.Overtaken {
		t.Fatalf("a under m1 while claimed = %+v, want queued, not overtaken", m)
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

// testSettledChunks checks Settled over chunks of keys as a file push
// reads them: a chunk in key order among stored records it does not ask
// for, and one spread over many more stored records than it asks for, give
// the same answers. The fingerprint and Id are the binding's, which can
// differ from what the status was written with (a match, a pull).
func testSettledChunks(t *testing.T, s forcesync.Store, clk *Clock) {
	sr, ok := s.(forcesync.SettledReader)
	if !ok {
		t.Skip("store does not implement SettledReader")
	}
	pr, ok := forcesync.StoreAs[forcesync.PushRecorder](s)
	if !ok {
		t.Skip("store does not implement PushRecorder")
	}
	var rows []forcesync.PushedRecord
	for i := range 10 {
		r := forcesync.PushedRecord{Key: fmt.Sprintf("k%d", i), Version: 1, Fields: fmt.Sprintf(`{"n":%d}`, i),
			State: forcesync.StateSynced, SalesforceID: fmt.Sprintf("00Q00000000000%dAAA", i), Fingerprint: fmt.Sprintf("fp-%d", i)}
		if i == 5 {
			r.State, r.SalesforceID, r.Error = forcesync.StateHeld, "", &forcesync.RecordError{Code: "X", Message: "no"}
		}
		rows = append(rows, r)
	}
	if err := pr.RecordPushed(ctx, "contact", "m1", rows, nil); err != nil {
		t.Fatal(err)
	}
	// k3 matched to another Salesforce record since; k7 changed again.
	if err := s.Bind(ctx, forcesync.Binding{Mapping: "m1", Key: "k3", SalesforceID: "00Q000000000099AAA", Fingerprint: "fp-other"}); err != nil {
		t.Fatal(err)
	}
	accept(t, s, []string{"m1"}, forcesync.Change{Key: "k7", Op: forcesync.OpUpsert, Fields: map[string]any{"n": 70}})
	// k7's change is in flight, and k7 changes again meanwhile: the claim
	// holds an older version, overtaken.
	if items, err := s.Claim(ctx, forcesync.ClaimRequest{Mapping: "m1", Owner: "w", Lease: time.Minute, Limit: 10, Now: clk.Now()}); err != nil || len(items) != 1 {
		t.Fatalf("claim k7: %d items, %v", len(items), err)
	}
	accept(t, s, []string{"m1"}, forcesync.Change{Key: "k7", Op: forcesync.OpUpsert, Fields: map[string]any{"n": 71}})
	want := func(k string) forcesync.SettledMapping {
		switch k {
		case "k3":
			return forcesync.SettledMapping{State: forcesync.StateSynced, Fingerprint: "fp-other", SalesforceID: "00Q000000000099AAA"}
		case "k5":
			return forcesync.SettledMapping{State: forcesync.StateHeld}
		case "k7":
			return forcesync.SettledMapping{State: forcesync.StatePending, Fingerprint: "fp-7", SalesforceID: "00Q000000000007AAA", Queued: true, Overtaken: true}
		}
		i := k[1:]
		return forcesync.SettledMapping{State: forcesync.StateSynced, Fingerprint: "fp-" + i, SalesforceID: "00Q00000000000" + i + "AAA"}
	}
	for _, keys := range [][]string{
		{"k7", "k2", "k3", "k5", "k4"}, // k2..k7 in the store, k6 not asked for
		{"k9", "k0", "nobody", "k3"},   // ten stored records between k0 and nobody
		{"k3", "k3"},                   // one key twice
		{"a", "nobody", "k4", "zzzz"},  // one stored record among absent keys
		{"k0", "k1", "k2", "k5", "k6"}, // no binding for k5
		{"k1", "k8", "k6", "k4", "k9"}, // out of order
		{"k10", "k00", "k01", "k1000"}, // between stored keys, none stored
	} {
		got, err := sr.Settled(ctx, "contact", []string{"m1", "m2"}, keys)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, k := range keys {
			st, ok := got[k]
			var i int
			if _, err := fmt.Sscanf(k, "k%d", &i); err != nil || k != fmt.Sprintf("k%d", i) || i > 9 {
				if ok {
					t.Fatalf("%v: %s found: %+v", keys, k, st)
				}
				continue
			}
			if !ok {
				t.Fatalf("%v: %s missing", keys, k)
			}
			wantFields, wantVersion := fmt.Sprintf(`{"n":%d}`, i), int64(1)
			if k == "k7" {
				wantFields, wantVersion = `{"n":71}`, 3
			}
			if st.Fields != wantFields || st.Version != wantVersion || st.Deleted || len(st.Mappings) != 1 || st.Mappings["m1"] != want(k) {
				t.Fatalf("%v: %s = %+v, want fields %s, version %d, m1 %+v", keys, k, st, wantFields, wantVersion, want(k))
			}
			n++
		}
		if len(got) > n {
			t.Fatalf("%v: %d records, want %d: %+v", keys, len(got), n, got)
		}
	}
}
