package storetest

import (
	"testing"
	"time"

	"github.com/forcesync/forcesync"
)

// RunPlan runs the conformance cases of issue 12's store features (org
// pins; the read-only views plan and reconcile use; reconcile runs; schema
// pauses) against stores made by open. Stores must also implement
// forcesync.OrgPins, forcesync.Inspector and forcesync.SchemaPauses.
func RunPlan(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(*testing.T, forcesync.Store, *Clock)
	}{
		{"OrgPins", testOrgPins},
		{"Peek", testPeek},
		{"BindingsAndUnbind", testBindings},
		{"ReconcileRuns", testReconcileRuns},
		{"SchemaPauses", testSchemaPauses},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clk := NewClock()
			s := open(t, clk)
			t.Cleanup(func() { s.Close() })
			tc.fn(t, s, clk)
		})
	}
}

func testOrgPins(t *testing.T, s forcesync.Store, clk *Clock) {
	ps, ok := s.(forcesync.OrgPins)
	if !ok {
		t.Fatalf("%T does not implement forcesync.OrgPins", s)
	}
	if p, err := ps.OrgPin(ctx, "org"); err != nil || p != nil {
		t.Fatalf("OrgPin of a new connection = %+v, %v; want nil, nil", p, err)
	}
	first := forcesync.OrgPin{Connection: "org", OrgID: "00D000000000001AAA", InstanceURL: "https://a.example"}
	got, err := ps.PinOrg(ctx, first, false)
	if err != nil || got.OrgID != first.OrgID || got.InstanceURL != first.InstanceURL || !got.Pinned.Equal(clk.Now()) {
		t.Fatalf("first PinOrg = %+v, %v; want org %s pinned now", got, err, first.OrgID)
	}
	// Another org without replace: the first pin stays and is returned.
	clk.Advance(1e9)
	other := forcesync.OrgPin{Connection: "org", OrgID: "00D000000000002AAA", InstanceURL: "https://b.example"}
	got, err = ps.PinOrg(ctx, other, false)
	if err != nil || got.OrgID != first.OrgID {
		t.Fatalf("PinOrg without replace = %+v, %v; want the first pin kept", got, err)
	}
	// The pace learned of the org's Bulk jobs is kept with the pin.
	if err := ps.SaveBulkPace(ctx, "org", 6500*time.Nanosecond); err != nil {
		t.Fatal(err)
	}
	if p, err := ps.OrgPin(ctx, "org"); err != nil || p.BulkPace != 6500*time.Nanosecond {
		t.Fatalf("OrgPin after SaveBulkPace = %+v, %v; want a pace of 6.5µs", p, err)
	}
	if got, err = ps.PinOrg(ctx, other, false); err != nil || got.BulkPace != 6500*time.Nanosecond {
		t.Fatalf("PinOrg without replace = %+v, %v; want the pin with its pace", got, err)
	}
	got, err = ps.PinOrg(ctx, other, true)
	if err != nil || got.OrgID != other.OrgID || !got.Pinned.Equal(clk.Now()) || got.BulkPace != 0 {
		t.Fatalf("PinOrg with replace = %+v, %v; want org %s, its pace not known", got, err, other.OrgID)
	}
	if p, err := ps.OrgPin(ctx, "org"); err != nil || p.OrgID != other.OrgID || p.InstanceURL != other.InstanceURL {
		t.Fatalf("OrgPin = %+v, %v; want the replaced pin", p, err)
	}
	if p, err := ps.OrgPin(ctx, "another"); err != nil || p != nil {
		t.Fatalf("OrgPin of another connection = %+v, %v; want nil", p, err)
	}
	// A connection without a pin has no pace to keep.
	if err := ps.SaveBulkPace(ctx, "another", time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if p, err := ps.OrgPin(ctx, "another"); err != nil || p != nil {
		t.Fatalf("OrgPin after SaveBulkPace of a connection without a pin = %+v, %v; want nil", p, err)
	}
}

func inspector(t *testing.T, s forcesync.Store) forcesync.Inspector {
	t.Helper()
	in, ok := s.(forcesync.Inspector)
	if !ok {
		t.Fatalf("%T does not implement forcesync.Inspector", s)
	}
	return in
}

func peek(t *testing.T, in forcesync.Inspector, q forcesync.PeekQuery) []forcesync.WorkItem {
	t.Helper()
	items, err := in.Peek(ctx, q)
	if err != nil {
		t.Fatalf("Peek: %v", err)
	}
	return items
}

func itemKeys(items []forcesync.WorkItem) []string {
	var ks []string
	for _, it := range items {
		ks = append(ks, it.Key)
	}
	return ks
}

func testPeek(t *testing.T, s forcesync.Store, clk *Clock) {
	in := inspector(t, s)
	accept(t, s, []string{"m"}, forcesync.Change{Key: "a", Fields: map[string]any{"n": 1.0}})
	clk.Advance(time.Second)
	accept(t, s, []string{"m"}, forcesync.Change{Key: "b", Fields: map[string]any{"n": 2.0}})
	clk.Advance(time.Second)
	accept(t, s, []string{"m"}, forcesync.Change{Key: "c", Fields: map[string]any{"n": 3.0}, Priority: forcesync.PriorityBackfill})
	// Peek writes nothing: twice the same, and a claim still gets them all.
	got := peek(t, in, forcesync.PeekQuery{Mapping: "m", Now: clk.Now()})
	if ks := itemKeys(got); len(ks) != 3 || ks[0] != "a" || ks[1] != "b" || ks[2] != "c" {
		t.Fatalf("Peek keys %v; want [a b c] (realtime first, oldest first)", ks)
	}
	if got[1].Fields["n"] != 2.0 || got[1].Op != forcesync.OpUpsert || got[1].Binding != nil {
		t.Fatalf("Peek item %+v", got[1])
	}
	if ks := itemKeys(peek(t, in, forcesync.PeekQuery{Mapping: "m", Now: clk.Now(), Offset: 1, Limit: 1})); len(ks) != 1 || ks[0] != "b" {
		t.Fatalf("Peek offset 1 limit 1 = %v; want [b]", ks)
	}
	items := claim(t, s, clk, "m", "w", 1)
	if len(items) != 1 || items[0].Key != "a" {
		t.Fatalf("claim after peek %v", itemKeys(items))
	}
	// A leased row is not what the next claim would take.
	if ks := itemKeys(peek(t, in, forcesync.PeekQuery{Mapping: "m", Now: clk.Now()})); len(ks) != 2 || ks[0] != "b" {
		t.Fatalf("Peek with a lease %v; want [b c]", ks)
	}
	complete(t, s, "w", forcesync.Outcome{Item: items[0], State: forcesync.StateHeld, Fingerprint: "fp-a",
		Error: &forcesync.RecordError{Code: "STRING_TOO_LONG", Message: "too long"}})
	held := peek(t, in, forcesync.PeekQuery{Mapping: "m", Now: clk.Now(), Held: true})
	if len(held) != 1 || held[0].Key != "a" || !held[0].Forced || held[0].HeldFingerprint != "fp-a" || held[0].Fields["n"] != 1.0 {
		t.Fatalf("Peek held %+v; want a, forced, with its held fingerprint", held)
	}
	// A retry in the future is not due.
	items = claim(t, s, clk, "m", "w", 1)
	complete(t, s, "w", forcesync.Outcome{Item: items[0], State: forcesync.StateRetrying, NextAttempt: clk.Now().Add(time.Hour),
		Error: &forcesync.RecordError{Code: "UNABLE_TO_LOCK_ROW", Message: "locked"}})
	if ks := itemKeys(peek(t, in, forcesync.PeekQuery{Mapping: "m", Now: clk.Now()})); len(ks) != 1 || ks[0] != "c" {
		t.Fatalf("Peek with a retry later %v; want [c]", ks)
	}
	if fp, ok, err := in.MappingFingerprint(ctx, "m"); err != nil || ok || fp != "" {
		t.Fatalf("MappingFingerprint of an unknown mapping = %q %v %v", fp, ok, err)
	}
	if _, err := s.MappingVersion(ctx, "m", "v1"); err != nil {
		t.Fatal(err)
	}
	if fp, ok, err := in.MappingFingerprint(ctx, "m"); err != nil || !ok || fp != "v1" {
		t.Fatalf("MappingFingerprint = %q %v %v; want v1", fp, ok, err)
	}
}

func testBindings(t *testing.T, s forcesync.Store, clk *Clock) {
	in := inspector(t, s)
	for _, k := range []string{"k1", "k2", "k3"} {
		accept(t, s, []string{"m"}, forcesync.Change{Key: k, Fields: map[string]any{"x": k}})
	}
	items := claim(t, s, clk, "m", "w", 10)
	var outs []forcesync.Outcome
	for _, it := range items {
		outs = append(outs, forcesync.Outcome{Item: it, State: forcesync.StateSynced, SalesforceID: "00Q" + it.Key, Fingerprint: "fp" + it.Key})
	}
	complete(t, s, "w", outs...)
	bs, err := in.Bindings(ctx, "m", "", 2)
	if err != nil || len(bs) != 2 || bs[0].Key != "k1" || bs[0].SalesforceID != "00Qk1" || bs[0].Fingerprint != "fpk1" || bs[1].Key != "k2" {
		t.Fatalf("Bindings page 1 = %+v, %v", bs, err)
	}
	bs, err = in.Bindings(ctx, "m", "k2", 2)
	if err != nil || len(bs) != 1 || bs[0].Key != "k3" {
		t.Fatalf("Bindings page 2 = %+v, %v", bs, err)
	}
	if err := in.Unbind(ctx, "m", []string{"k2"}); err != nil {
		t.Fatal(err)
	}
	if b, err := s.Binding(ctx, "m", "k2"); err != nil || b != nil {
		t.Fatalf("Binding after Unbind = %+v, %v", b, err)
	}
	if b, err := s.Binding(ctx, "m", "k1"); err != nil || b == nil {
		t.Fatalf("Unbind removed another binding: %v", err)
	}
}

func testReconcileRuns(t *testing.T, s forcesync.Store, clk *Clock) {
	in := inspector(t, s)
	run := &forcesync.ReconcileRun{Mapping: "m", Started: clk.Now(), Finished: clk.Now().Add(time.Second), Checked: 5, API: "bulk",
		APICalls: 4, Counts: map[forcesync.DriftKind]int{forcesync.DriftFieldChanged: 1, forcesync.DriftDeleted: 1}, Healed: 1}
	fs := []forcesync.Finding{
		{Mapping: "m", Key: "b", SalesforceID: "00Q2", Kind: forcesync.DriftDeleted, Healed: true},
		{Mapping: "m", Key: "a", SalesforceID: "00Q1", Kind: forcesync.DriftFieldChanged,
			Fields: []forcesync.FieldDrift{{Field: "LastName", Salesforce: "DRIFTED", Expected: "Smith"}}},
	}
	if err := in.SaveReconcile(ctx, run, fs); err != nil {
		t.Fatal(err)
	}
	if run.ID == 0 || fs[0].RunID != run.ID {
		t.Fatalf("run ID %d, finding run ID %d", run.ID, fs[0].RunID)
	}
	other := &forcesync.ReconcileRun{Mapping: "n", Started: clk.Now(), Finished: clk.Now(), API: "query", Counts: map[forcesync.DriftKind]int{}}
	if err := in.SaveReconcile(ctx, other, nil); err != nil {
		t.Fatal(err)
	}
	runs, err := in.ReconcileRuns(ctx, "m", 0)
	if err != nil || len(runs) != 1 || runs[0].ID != run.ID || runs[0].Checked != 5 || runs[0].API != "bulk" || runs[0].APICalls != 4 ||
		runs[0].Counts[forcesync.DriftDeleted] != 1 || runs[0].Healed != 1 || !runs[0].Finished.Equal(run.Finished) {
		t.Fatalf("ReconcileRuns(m) = %+v, %v", runs, err)
	}
	if runs, err := in.ReconcileRuns(ctx, "", 0); err != nil || len(runs) != 2 || runs[0].ID != other.ID {
		t.Fatalf("ReconcileRuns() = %+v, %v; want both, newest first", runs, err)
	}
	got, err := in.Findings(ctx, run.ID)
	if err != nil || len(got) != 2 || got[0].Key != "a" || got[0].Kind != forcesync.DriftFieldChanged || got[0].Mapping != "m" ||
		len(got[0].Fields) != 1 || got[0].Fields[0].Salesforce != "DRIFTED" || got[1].Key != "b" || !got[1].Healed {
		t.Fatalf("Findings = %+v, %v", got, err)
	}
}

// testSchemaPauses: a pause is kept with its reason, time and describe;
// setting it again keeps its start and takes the new reason; clearing it
// (twice) leaves none.
func testSchemaPauses(t *testing.T, s forcesync.Store, clk *Clock) {
	sp, ok := s.(forcesync.SchemaPauses)
	if !ok {
		t.Fatalf("%T does not implement forcesync.SchemaPauses", s)
	}
	if ps, err := sp.SchemaPauses(ctx); err != nil || len(ps) != 0 {
		t.Fatalf("pauses of a new store = %+v, %v", ps, err)
	}
	since := clk.Now().Truncate(time.Millisecond)
	desc := []byte(`{"name":"Lead","fields":[{"name":"Tier__c"}]}`)
	if err := sp.SetSchemaPause(ctx, forcesync.SchemaPause{Mapping: "leads", Reason: "field Tier__c deleted", Since: since, Describe: desc}); err != nil {
		t.Fatal(err)
	}
	if err := sp.SetSchemaPause(ctx, forcesync.SchemaPause{Mapping: "accounts", Reason: "picklist", Since: since}); err != nil {
		t.Fatal(err)
	}
	if err := sp.SetSchemaPause(ctx, forcesync.SchemaPause{Mapping: "leads", Reason: "field Tier__c deleted; field Legacy__c deleted",
		Since: since.Add(time.Hour), Describe: desc}); err != nil {
		t.Fatal(err)
	}
	ps, err := sp.SchemaPauses(ctx)
	if err != nil || len(ps) != 2 || ps[0].Mapping != "accounts" || ps[1].Mapping != "leads" {
		t.Fatalf("pauses = %+v, %v", ps, err)
	}
	if p := ps[1]; p.Reason != "field Tier__c deleted; field Legacy__c deleted" || !p.Since.Equal(since) || string(p.Describe) != string(desc) {
		t.Fatalf("leads' pause = %+v (describe %s); want the new reason, the first start and the describe", p, p.Describe)
	}
	if len(ps[0].Describe) != 0 {
		t.Fatalf("accounts' describe = %q; want none", ps[0].Describe)
	}
	for range 2 {
		if err := sp.ClearSchemaPause(ctx, "leads"); err != nil {
			t.Fatal(err)
		}
	}
	if ps, err := sp.SchemaPauses(ctx); err != nil || len(ps) != 1 || ps[0].Mapping != "accounts" {
		t.Fatalf("pauses after clearing leads = %+v, %v", ps, err)
	}
}
