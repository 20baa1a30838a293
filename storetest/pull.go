package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/forcesync/forcesync"
)

// RunPull runs the pull side's conformance tests (forcesync.PullStore)
// against stores made by open, which must also implement PullStore.
func RunPull(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(*testing.T, forcesync.Store, forcesync.PullStore, *Clock)
	}{
		{"Watermark", testPullWatermark},
		{"BindEventsDeliveries", testPullBindEvents},
		{"StaleDecisionRefused", testPullStale},
		{"BindOfAnIdBoundToAnotherKeyRefused", testPullBindBoundElsewhere},
		{"IntentsUntilComplete", testPullIntents},
		{"UnpushedByMatchValue", testPullUnpushed},
		{"SourceRecordAndQueue", testPullSourceAndQueue},
		{"PushNotes", testPushNotes},
		{"DeliveriesOrderedPerRecord", testDeliveriesOrdered},
		{"OvertakenByAnotherPuller", testPullOvertaken},
		{"PruneAndCursorGone", testPullPrune},
		{"DeleteSettlesStatusAndKeepsKey", testPullDeleteKeepsKey},
		{"RedeliverDeadLetters", testRedeliver},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clk := NewClock()
			s := open(t, clk)
			t.Cleanup(func() { s.Close() })
			ps, ok := s.(forcesync.PullStore)
			if !ok {
				t.Fatalf("%T does not implement forcesync.PullStore", s)
			}
			tc.fn(t, s, ps, clk)
		})
	}
}

func testPullWatermark(t *testing.T, _ forcesync.Store, ps forcesync.PullStore, clk *Clock) {
	ctx := context.Background()
	wm, err := ps.Watermark(ctx, "m")
	if err != nil || !wm.Instant.IsZero() || len(wm.Seen) != 0 {
		t.Fatalf("fresh watermark %+v %v", wm, err)
	}
	at := time.Date(2026, 3, 1, 11, 0, 0, 0, time.UTC)
	seen := map[string]time.Time{"00Q1": at, "00Q2": at.Add(5 * time.Millisecond)}
	if err := ps.CommitPull(ctx, &forcesync.PullCommit{Mapping: "m", Source: "s", Now: clk.Now(),
		Watermark: forcesync.Watermark{Mapping: "m", Instant: at, Seen: seen}}); err != nil {
		t.Fatal(err)
	}
	wm, err = ps.Watermark(ctx, "m")
	if err != nil || !wm.Instant.Equal(at) || len(wm.Seen) != 2 || !wm.Seen["00Q2"].Equal(seen["00Q2"]) {
		t.Fatalf("watermark %+v %v", wm, err)
	}
	if other, _ := ps.Watermark(ctx, "other"); !other.Instant.IsZero() {
		t.Fatalf("watermark leaked to another mapping: %+v", other)
	}
}

func testPullBindEvents(t *testing.T, s forcesync.Store, ps forcesync.PullStore, clk *Clock) {
	ctx := context.Background()
	stamp := time.Date(2026, 3, 1, 11, 0, 0, 123e6, time.UTC)
	c := &forcesync.PullCommit{Mapping: "m", Source: "s", Now: clk.Now(), Webhooks: []string{"hook"},
		Watermark: forcesync.Watermark{Instant: stamp, Seen: map[string]time.Time{"00Q1": stamp}},
		Records: []forcesync.PulledRecord{{Key: "sf:00Q1", SalesforceID: "00Q1", Bind: true, Fingerprint: "fp1",
			Base: map[string]any{"Phone": "555"}, Modstamp: stamp,
			Event: &forcesync.PulledChange{Key: "sf:00Q1", Op: forcesync.PulledUpsert, SalesforceID: "00Q1",
				Fields: map[string]any{"phone": "555"}, Changed: []string{"phone"}, Modstamp: stamp},
			Conflicts: []forcesync.Conflict{{Field: "Phone", App: "1", Remote: "555", Policy: forcesync.SalesforceWins, Winner: "salesforce", Modstamp: stamp}},
		}}}
	if err := ps.CommitPull(ctx, c); err != nil {
		t.Fatal(err)
	}
	if c.Records[0].Event.Seq == 0 || c.Records[0].Event.EventID == "" {
		t.Fatalf("event not numbered: %+v", c.Records[0].Event)
	}
	b, err := s.Binding(ctx, "m", "sf:00Q1")
	if err != nil || b == nil || b.SalesforceID != "00Q1" || b.Fingerprint != "fp1" {
		t.Fatalf("binding %+v %v", b, err)
	}
	pbs, err := ps.PullBindings(ctx, "m", []string{"00Q1", "00Qx"})
	if err != nil || len(pbs) != 1 || pbs["00Q1"].Key != "sf:00Q1" || pbs["00Q1"].Base["Phone"] != "555" {
		t.Fatalf("pull bindings %+v %v", pbs, err)
	}
	evs, err := ps.Changes(ctx, 0, 10, nil)
	if err != nil || len(evs) != 1 {
		t.Fatalf("changes %+v %v", evs, err)
	}
	ev := evs[0]
	if ev.Key != "sf:00Q1" || ev.Op != forcesync.PulledUpsert || ev.Fields["phone"] != "555" || len(ev.Changed) != 1 ||
		!ev.Modstamp.Equal(stamp) || ev.Mapping != "m" || ev.Source != "s" || ev.EventID != c.Records[0].Event.EventID {
		t.Fatalf("change %+v", ev)
	}
	if more, _ := ps.Changes(ctx, ev.Seq, 10, nil); len(more) != 0 {
		t.Fatalf("changes after the last: %+v", more)
	}
	if none, _ := ps.Changes(ctx, 0, 10, []string{"other"}); len(none) != 0 {
		t.Fatalf("changes of another mapping: %+v", none)
	}
	cfs, err := ps.Conflicts(ctx, "m", "sf:00Q1")
	if err != nil || len(cfs) != 1 || cfs[0].Field != "Phone" || cfs[0].Winner != "salesforce" || fmt.Sprint(cfs[0].App) != "1" {
		t.Fatalf("conflicts %+v %v", cfs, err)
	}
	ds, err := ps.ClaimDeliveries(ctx, "hook", clk.Now(), 10)
	if err != nil || len(ds) != 1 || ds[0].Change.Seq != ev.Seq {
		t.Fatalf("deliveries %+v %v", ds, err)
	}
	// A failure waits for its next attempt; then it dies.
	next := clk.Now().Add(time.Minute)
	if err := ps.FinishDeliveries(ctx, "hook", []forcesync.DeliveryResult{{Seq: ev.Seq, Error: "502", NextAttempt: next}}); err != nil {
		t.Fatal(err)
	}
	if ds, _ := ps.ClaimDeliveries(ctx, "hook", clk.Now(), 10); len(ds) != 0 {
		t.Fatalf("delivery due before its next attempt: %+v", ds)
	}
	clk.Advance(time.Minute)
	ds, _ = ps.ClaimDeliveries(ctx, "hook", clk.Now(), 10)
	if len(ds) != 1 || ds[0].Attempts != 1 || ds[0].LastError != "502" {
		t.Fatalf("retry %+v", ds)
	}
	if err := ps.FinishDeliveries(ctx, "hook", []forcesync.DeliveryResult{{Seq: ev.Seq, Error: "gone", Dead: true}}); err != nil {
		t.Fatal(err)
	}
	dead, err := ps.DeadLetters(ctx, "hook", 10)
	if err != nil || len(dead) != 1 || !dead[0].Dead || dead[0].LastError != "gone" || dead[0].Change.Key != "sf:00Q1" {
		t.Fatalf("dead letters %+v %v", dead, err)
	}
	if ds, _ := ps.ClaimDeliveries(ctx, "hook", clk.Now().Add(time.Hour), 10); len(ds) != 0 {
		t.Fatalf("dead delivery claimed: %+v", ds)
	}
}

func testPullStale(t *testing.T, s forcesync.Store, ps forcesync.PullStore, clk *Clock) {
	ctx := context.Background()
	if _, err := s.Accept(ctx, []string{"m"}, []forcesync.Change{{Source: "s", Key: "k", Fields: map[string]any{"a": "1"}}}); err != nil {
		t.Fatal(err)
	}
	stamp := clk.Now()
	// Decided on version 0 (no record) but the store holds version 1.
	err := ps.CommitPull(ctx, &forcesync.PullCommit{Mapping: "m", Source: "s", Now: clk.Now(),
		Watermark: forcesync.Watermark{Instant: stamp, Seen: map[string]time.Time{}},
		Records: []forcesync.PulledRecord{{Key: "k", SalesforceID: "00Q1", Bind: true, Fingerprint: "x", ExpectVersion: 0,
			Event: &forcesync.PulledChange{Key: "k", Op: forcesync.PulledUpsert, SalesforceID: "00Q1", Modstamp: stamp}}}})
	if forcesync.ErrorCode(err) != forcesync.EConflict {
		t.Fatalf("stale commit: %v, want %s", err, forcesync.EConflict)
	}
	if wm, _ := ps.Watermark(ctx, "m"); !wm.Instant.IsZero() {
		t.Fatalf("stale commit moved the watermark: %+v", wm)
	}
	if evs, _ := ps.Changes(ctx, 0, 10, nil); len(evs) != 0 {
		t.Fatalf("stale commit recorded events: %+v", evs)
	}
	if b, _ := s.Binding(ctx, "m", "k"); b != nil {
		t.Fatalf("stale commit bound: %+v", b)
	}
}

// testPullBindBoundElsewhere: a push bound k to 00Q1 after a puller read
// 00Q1 unbound; the puller's commit binding 00Q1 to a key of its own
// (sf:00Q1, a twin of k) is refused with EConflict, and nothing of the
// batch is written. Binding the Id to k itself, or to another key once k
// let go of it, is not refused.
func testPullBindBoundElsewhere(t *testing.T, s forcesync.Store, ps forcesync.PullStore, clk *Clock) {
	ctx := context.Background()
	if _, err := s.Accept(ctx, []string{"m"}, []forcesync.Change{{Source: "s", Key: "k", Fields: map[string]any{"email": "a@x"}}}); err != nil {
		t.Fatal(err)
	}
	items, err := s.Claim(ctx, forcesync.ClaimRequest{Mapping: "m", Owner: "w", Lease: time.Minute, Limit: 10, Now: clk.Now()})
	if err != nil || len(items) != 1 {
		t.Fatalf("claim %v %v", items, err)
	}
	if err := s.Complete(ctx, "w", []forcesync.Outcome{{Item: items[0], State: forcesync.StateSynced, SalesforceID: "003A", Fingerprint: "fp0"}},
		&forcesync.Run{Mapping: "m", API: "collections"}); err != nil {
		t.Fatal(err)
	}
	stamp := clk.Now()
	created := func(id string) forcesync.PulledRecord {
		return forcesync.PulledRecord{Key: "sf:" + id, SalesforceID: id, Bind: true, Fingerprint: "fp-" + id, Modstamp: stamp,
			Base: map[string]any{"Email": id + "@x"}, SourceFields: map[string]any{"email": id + "@x"},
			Event: &forcesync.PulledChange{Key: "sf:" + id, Op: forcesync.PulledUpsert, SalesforceID: id, Modstamp: stamp}}
	}
	// 003B is new to the store; 003A is k's since the puller read it.
	err = ps.CommitPull(ctx, &forcesync.PullCommit{Mapping: "m", Source: "s", Now: clk.Now(), Queue: []string{"m"},
		Watermark: forcesync.Watermark{Instant: stamp, Seen: map[string]time.Time{"003A": stamp, "003B": stamp}},
		Records:   []forcesync.PulledRecord{created("003B"), created("003A")}})
	if forcesync.ErrorCode(err) != forcesync.EConflict || errors.Is(err, forcesync.ErrPullOvertaken) {
		t.Fatalf("binding k's Salesforce Id to sf:003A: %v, want %s", err, forcesync.EConflict)
	}
	if wm, _ := ps.Watermark(ctx, "m"); !wm.Instant.IsZero() || wm.Gen != 0 {
		t.Fatalf("the refused commit moved the watermark: %+v", wm)
	}
	if evs, _ := ps.Changes(ctx, 0, 10, nil); len(evs) != 0 {
		t.Fatalf("the refused commit recorded events: %+v", evs)
	}
	for _, key := range []string{"sf:003A", "sf:003B"} {
		if b, _ := s.Binding(ctx, "m", key); b != nil {
			t.Fatalf("the refused commit bound %s: %+v", key, b)
		}
		if rec, err := s.SourceRecord(ctx, "s", key); forcesync.ErrorCode(err) != forcesync.ENotFound {
			t.Fatalf("the refused commit wrote the source record %s: %+v %v", key, rec, err)
		}
	}
	if n, _ := s.Backlog(ctx, "m"); n != 0 {
		t.Fatalf("the refused commit queued %d records", n)
	}
	if b, _ := s.Binding(ctx, "m", "k"); b == nil || b.SalesforceID != "003A" || b.Fingerprint != "fp0" {
		t.Fatalf("k's binding after the refused commit: %+v", b)
	}
	// Decided again: 003A is k's (no bind), 003B new.
	err = ps.CommitPull(ctx, &forcesync.PullCommit{Mapping: "m", Source: "s", Now: clk.Now(),
		Watermark: forcesync.Watermark{Instant: stamp, Seen: map[string]time.Time{"003A": stamp, "003B": stamp}},
		Records: []forcesync.PulledRecord{created("003B"), {Key: "k", SalesforceID: "003A", ExpectFingerprint: "fp0", ExpectVersion: 1,
			Base: map[string]any{"Email": "a@x"}, Modstamp: stamp}}})
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := s.Binding(ctx, "m", "sf:003B"); b == nil || b.SalesforceID != "003B" {
		t.Fatalf("sf:003B after the commit decided again: %+v", b)
	}
	// Bound to k itself again: not another key.
	err = ps.CommitPull(ctx, &forcesync.PullCommit{Mapping: "m", Source: "s", Now: clk.Now(),
		Watermark: forcesync.Watermark{Instant: stamp, Seen: map[string]time.Time{}, Gen: 1},
		Records: []forcesync.PulledRecord{{Key: "k", SalesforceID: "003A", ExpectFingerprint: "fp0", ExpectVersion: 1,
			Bind: true, Fingerprint: "fp1", Modstamp: stamp}}})
	if err != nil {
		t.Fatalf("binding k to its own Id again: %v", err)
	}
	// Once a commit unbinds k from 003A, a later record of the same
	// commit may bind it (a restore the app created again meanwhile).
	err = ps.CommitPull(ctx, &forcesync.PullCommit{Mapping: "m", Source: "s", Now: clk.Now(),
		Watermark: forcesync.Watermark{Instant: stamp, Seen: map[string]time.Time{}, Gen: 2},
		Records: []forcesync.PulledRecord{{Key: "k", SalesforceID: "003A", ExpectFingerprint: "fp1", ExpectVersion: 1, Unbind: true},
			{Key: "sf:003A", SalesforceID: "003A", Bind: true, Fingerprint: "fp2", Modstamp: stamp}}})
	if err != nil {
		t.Fatalf("binding 003A to another key once k let go of it: %v", err)
	}
	if b, _ := s.Binding(ctx, "m", "sf:003A"); b == nil || b.SalesforceID != "003A" {
		t.Fatalf("sf:003A after k let go of 003A: %+v", b)
	}
}

func testPullSourceAndQueue(t *testing.T, s forcesync.Store, ps forcesync.PullStore, clk *Clock) {
	ctx := context.Background()
	if _, err := s.Accept(ctx, []string{"m", "other"}, []forcesync.Change{{Source: "s", Key: "k", Fields: map[string]any{"a": "1", "phone": "1"}}}); err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"m", "other"} {
		items, err := s.Claim(ctx, forcesync.ClaimRequest{Mapping: m, Owner: "w", Lease: time.Minute, Limit: 10, Now: clk.Now()})
		if err != nil || len(items) != 1 {
			t.Fatalf("claim %v %v", items, err)
		}
		if err := s.Complete(ctx, "w", []forcesync.Outcome{{Item: items[0], State: forcesync.StateSynced, SalesforceID: "00Q1", Fingerprint: "fp0"}},
			&forcesync.Run{Mapping: m, API: "collections"}); err != nil {
			t.Fatal(err)
		}
	}
	stamp := clk.Now()
	err := ps.CommitPull(ctx, &forcesync.PullCommit{Mapping: "m", Source: "s", Now: clk.Now(), Queue: []string{"m", "other"},
		Watermark: forcesync.Watermark{Instant: stamp, Seen: map[string]time.Time{}},
		Records: []forcesync.PulledRecord{{Key: "k", SalesforceID: "00Q1", ExpectFingerprint: "fp0", ExpectVersion: 1,
			Fingerprint: "fp2", Base: map[string]any{"Phone": "2"}, Modstamp: stamp,
			SourceFields: map[string]any{"a": "1", "phone": "2"}}}})
	if err != nil {
		t.Fatal(err)
	}
	// The pulled change keeps the application's version and accept time,
	// and counts itself in PullRev.
	rec, err := s.SourceRecord(ctx, "s", "k")
	if err != nil || rec.Version != 1 || rec.PullRev != 1 || rec.Fields["phone"] != "2" || rec.Fields["a"] != "1" {
		t.Fatalf("source record %+v %v", rec, err)
	}
	if b, _ := s.Binding(ctx, "m", "k"); b == nil || b.Fingerprint != "fp2" || !b.Modstamp.Equal(stamp) {
		t.Fatalf("binding %+v", b)
	}
	for _, m := range []string{"m", "other"} {
		items, err := s.Claim(ctx, forcesync.ClaimRequest{Mapping: m, Owner: "w", Lease: time.Minute, Limit: 10, Now: clk.Now()})
		if err != nil || len(items) != 1 || items[0].Version != 1 || items[0].Fields["phone"] != "2" {
			t.Fatalf("%s: queued after pull: %+v %v", m, items, err)
		}
	}
	// A decision made before that pull (PullRev 0) is refused.
	err = ps.CommitPull(ctx, &forcesync.PullCommit{Mapping: "m", Source: "s", Now: clk.Now(),
		Watermark: forcesync.Watermark{Instant: stamp, Seen: map[string]time.Time{}, Gen: 1},
		Records: []forcesync.PulledRecord{{Key: "k", SalesforceID: "00Q1", ExpectFingerprint: "fp2", ExpectVersion: 1,
			SourceFields: map[string]any{"a": "1", "phone": "3"}}}})
	if forcesync.ErrorCode(err) != forcesync.EConflict {
		t.Fatalf("a decision made before another pull: %v, want %s", err, forcesync.EConflict)
	}
	// The application's next version is newer than its last, the pull
	// between them notwithstanding.
	res, err := s.Accept(ctx, []string{"m"}, []forcesync.Change{{Source: "s", Key: "k", Version: 2, Fields: map[string]any{"a": "2", "phone": "2"}}})
	if err != nil || res[0].Ignored || res[0].Version != 2 {
		t.Fatalf("the app's version 2 after a pull: %+v %v", res, err)
	}
	// A pulled delete marks the record deleted and queues nothing.
	err = ps.CommitPull(ctx, &forcesync.PullCommit{Mapping: "m", Source: "s", Now: clk.Now(), Queue: []string{"x"},
		Watermark: forcesync.Watermark{Instant: stamp, Seen: map[string]time.Time{}, Gen: 1},
		Records: []forcesync.PulledRecord{{Key: "k", SalesforceID: "00Q1", ExpectFingerprint: "fp2", ExpectVersion: 2, ExpectPullRev: 1,
			Unbind: true, DeleteSource: true}}})
	if err != nil {
		t.Fatal(err)
	}
	if rec, _ := s.SourceRecord(ctx, "s", "k"); rec == nil || !rec.Deleted {
		t.Fatalf("not deleted: %+v", rec)
	}
	if b, _ := s.Binding(ctx, "m", "k"); b != nil {
		t.Fatalf("still bound: %+v", b)
	}
	if n, _ := s.Backlog(ctx, "x"); n != 0 {
		t.Fatalf("a delete queued work: %d", n)
	}
}

func testPushNotes(t *testing.T, s forcesync.Store, ps forcesync.PullStore, clk *Clock) {
	ctx := context.Background()
	if _, err := s.Accept(ctx, []string{"m"}, []forcesync.Change{{Source: "s", Key: "k", Fields: map[string]any{"a": "1"}}}); err != nil {
		t.Fatal(err)
	}
	items, _ := s.Claim(ctx, forcesync.ClaimRequest{Mapping: "m", Owner: "w", Lease: time.Minute, Limit: 10, Now: clk.Now()})
	readAt := clk.Now().Add(-time.Minute).Truncate(time.Millisecond)
	if err := ps.NotePushed(ctx, "m", []forcesync.PushNote{{Key: "k", Fingerprint: "fpA", Fields: map[string]any{"Phone": "A"}},
		{Key: "k", Fingerprint: "fpB", Fields: map[string]any{"Phone": "B"}, Held: map[string]time.Time{"Title": readAt}}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Complete(ctx, "w", []forcesync.Outcome{{Item: items[0], State: forcesync.StateSynced, SalesforceID: "00Q9", Fingerprint: "fpB"}},
		&forcesync.Run{Mapping: "m", API: "collections"}); err != nil {
		t.Fatal(err)
	}
	pbs, err := ps.PullBindings(ctx, "m", []string{"00Q9"})
	if err != nil || pbs["00Q9"].Pushed["Phone"] != "B" || pbs["00Q9"].Base != nil {
		t.Fatalf("pushed values of the binding's fingerprint: %+v %v", pbs, err)
	}
	if h := pbs["00Q9"].Held; len(h) != 1 || !h["Title"].Equal(readAt) {
		t.Fatalf("held-back fields of the binding's push: %+v", h)
	}
	// A pull that rebases forgets the notes.
	if err := ps.CommitPull(ctx, &forcesync.PullCommit{Mapping: "m", Source: "s", Now: clk.Now(),
		Records: []forcesync.PulledRecord{{Key: "k", SalesforceID: "00Q9", ExpectFingerprint: "fpB", ExpectVersion: 1, Base: map[string]any{"Phone": "B"}}}}); err != nil {
		t.Fatal(err)
	}
	pbs, _ = ps.PullBindings(ctx, "m", []string{"00Q9"})
	if pbs["00Q9"].Pushed != nil || pbs["00Q9"].Base["Phone"] != "B" {
		t.Fatalf("after rebase: %+v", pbs)
	}

	// A push in flight during a rebase (noted under another fingerprint,
	// not complete yet) keeps its note: when it completes, its write is
	// known for forcesync's own.
	res, err := s.Accept(ctx, []string{"m"}, []forcesync.Change{{Source: "s", Key: "k", Fields: map[string]any{"a": "2"}}})
	if err != nil {
		t.Fatal(err)
	}
	items, _ = s.Claim(ctx, forcesync.ClaimRequest{Mapping: "m", Owner: "w", Lease: time.Minute, Limit: 10, Now: clk.Now()})
	if err := ps.NotePushed(ctx, "m", []forcesync.PushNote{{Key: "k", Fingerprint: "fpC", Fields: map[string]any{"Phone": "C"}}}); err != nil {
		t.Fatal(err)
	}
	if err := ps.CommitPull(ctx, &forcesync.PullCommit{Mapping: "m", Source: "s", Now: clk.Now(), Watermark: forcesync.Watermark{Gen: 1},
		Records: []forcesync.PulledRecord{{Key: "k", SalesforceID: "00Q9", ExpectFingerprint: "fpB", ExpectVersion: res[0].Version, Base: map[string]any{"Phone": "rep"}}}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Complete(ctx, "w", []forcesync.Outcome{{Item: items[0], State: forcesync.StateSynced, SalesforceID: "00Q9", Fingerprint: "fpC"}},
		&forcesync.Run{Mapping: "m", API: "collections"}); err != nil {
		t.Fatal(err)
	}
	pbs, _ = ps.PullBindings(ctx, "m", []string{"00Q9"})
	if pbs["00Q9"].Pushed["Phone"] != "C" {
		t.Fatalf("a rebase during a push lost the push's note: %+v", pbs)
	}
	// A note a day old is taken for a push that never reached Salesforce:
	// the next rebase forgets it.
	if err := ps.NotePushed(ctx, "m", []forcesync.PushNote{{Key: "k", Fingerprint: "fpD", Fields: map[string]any{"Phone": "D"}}}); err != nil {
		t.Fatal(err)
	}
	clk.Advance(25 * time.Hour)
	if err := ps.CommitPull(ctx, &forcesync.PullCommit{Mapping: "m", Source: "s", Now: clk.Now(), Watermark: forcesync.Watermark{Gen: 2},
		Records: []forcesync.PulledRecord{{Key: "k", SalesforceID: "00Q9", ExpectFingerprint: "fpC", ExpectVersion: res[0].Version, Base: map[string]any{"Phone": "C"}}}}); err != nil {
		t.Fatal(err)
	}
	if res, err = s.Accept(ctx, []string{"m"}, []forcesync.Change{{Source: "s", Key: "k", Fields: map[string]any{"a": "3"}}}); err != nil {
		t.Fatal(err)
	}
	items, _ = s.Claim(ctx, forcesync.ClaimRequest{Mapping: "m", Owner: "w", Lease: time.Minute, Limit: 10, Now: clk.Now()})
	if err := s.Complete(ctx, "w", []forcesync.Outcome{{Item: items[0], State: forcesync.StateSynced, SalesforceID: "00Q9", Fingerprint: "fpD"}},
		&forcesync.Run{Mapping: "m", API: "collections"}); err != nil {
		t.Fatal(err)
	}
	pbs, _ = ps.PullBindings(ctx, "m", []string{"00Q9"})
	if pbs["00Q9"].Pushed != nil {
		t.Fatalf("a day-old note outlived a rebase: %+v", pbs)
	}
}

func testDeliveriesOrdered(t *testing.T, _ forcesync.Store, ps forcesync.PullStore, clk *Clock) {
	ctx := context.Background()
	stamp := clk.Now()
	var recs []forcesync.PulledRecord
	for i, k := range []string{"a", "b", "a"} {
		recs = append(recs, forcesync.PulledRecord{Key: k, SalesforceID: "id" + k, Bind: i < 2, Fingerprint: "f",
			ExpectFingerprint: map[bool]string{true: "", false: "f"}[i < 2],
			Event:             &forcesync.PulledChange{Key: k, Op: forcesync.PulledUpsert, SalesforceID: "id" + k, Modstamp: stamp.Add(time.Duration(i) * time.Millisecond)}})
	}
	if err := ps.CommitPull(ctx, &forcesync.PullCommit{Mapping: "m", Source: "s", Now: clk.Now(), Webhooks: []string{"h"}, Records: recs}); err != nil {
		t.Fatal(err)
	}
	ds, err := ps.ClaimDeliveries(ctx, "h", clk.Now(), 10)
	if err != nil || len(ds) != 2 || ds[0].Change.Key != "a" || ds[1].Change.Key != "b" {
		t.Fatalf("the second event of a waits for its first: %s %v", keysOf(ds), err)
	}
	if err := ps.FinishDeliveries(ctx, "h", []forcesync.DeliveryResult{{Seq: ds[0].Change.Seq, OK: true}}); err != nil {
		t.Fatal(err)
	}
	ds, _ = ps.ClaimDeliveries(ctx, "h", clk.Now(), 10)
	if len(ds) != 2 || ds[1].Change.Key != "a" {
		t.Fatalf("after a's first: %s", keysOf(ds))
	}
}

func keysOf(ds []forcesync.Delivery) string {
	b, _ := json.Marshal(ds)
	return string(b)
}

// testPullOvertaken: two pullers (replicas) read the same watermark; the
// second to commit is refused with ErrPullOvertaken and writes nothing.
func testPullOvertaken(t *testing.T, s forcesync.Store, ps forcesync.PullStore, clk *Clock) {
	ctx := context.Background()
	wm, err := ps.Watermark(ctx, "m")
	if err != nil {
		t.Fatal(err)
	}
	stamp := clk.Now()
	commit := func(key string) error {
		w := wm
		w.Instant, w.Seen = stamp, map[string]time.Time{"id" + key: stamp}
		return ps.CommitPull(ctx, &forcesync.PullCommit{Mapping: "m", Source: "s", Now: clk.Now(), Watermark: w,
			Records: []forcesync.PulledRecord{{Key: key, SalesforceID: "id" + key, Bind: true, Fingerprint: "f",
				Event: &forcesync.PulledChange{Key: key, Op: forcesync.PulledUpsert, SalesforceID: "id" + key, Modstamp: stamp}}}})
	}
	if err := commit("a"); err != nil {
		t.Fatal(err)
	}
	if err := commit("b"); !errors.Is(err, forcesync.ErrPullOvertaken) {
		t.Fatalf("second commit from the same watermark: %v, want ErrPullOvertaken", err)
	}
	if evs, _ := ps.Changes(ctx, 0, 10, nil); len(evs) != 1 {
		t.Fatalf("events %+v", evs)
	}
	if b, _ := s.Binding(ctx, "m", "b"); b != nil {
		t.Fatalf("overtaken commit bound: %+v", b)
	}
	if now, _ := ps.Watermark(ctx, "m"); now.Gen != wm.Gen+1 {
		t.Fatalf("gen %d after one commit from %d", now.Gen, wm.Gen)
	}
}

// testPullDeleteKeepsKey: a pulled delete leaves the key's status deleted
// with no Salesforce Id (unless a change is queued: then only the Id
// goes), and keeps the key by the deleted Id until a bind of that Id
// (the record restored) or the prune after UnboundKept. A bind moving a
// key to another Id (a merge) makes its status name that Id.
func testPullDeleteKeepsKey(t *testing.T, s forcesync.Store, ps forcesync.PullStore, clk *Clock) {
	ctx := context.Background()
	if _, err := s.Accept(ctx, []string{"m"}, []forcesync.Change{
		{Source: "s", Key: "k", Fields: map[string]any{"a": "1"}},
		{Source: "s", Key: "q", Fields: map[string]any{"a": "1"}},
		{Source: "s", Key: "g", Fields: map[string]any{"a": "1"}},
	}); err != nil {
		t.Fatal(err)
	}
	items, err := s.Claim(ctx, forcesync.ClaimRequest{Mapping: "m", Owner: "w", Lease: time.Minute, Limit: 10, Now: clk.Now()})
	if err != nil || len(items) != 3 {
		t.Fatalf("claim %v %v", items, err)
	}
	ids := map[string]string{"k": "00Q1", "q": "00Q2", "g": "00Q3"}
	var outs []forcesync.Outcome
	for _, it := range items {
		outs = append(outs, forcesync.Outcome{Item: it, State: forcesync.StateHeld, SalesforceID: ids[it.Key], Fingerprint: "fp",
			Error: &forcesync.RecordError{Code: "FIELD_CUSTOM_VALIDATION_EXCEPTION", Message: "no"}})
	}
	if err := s.Complete(ctx, "w", outs, &forcesync.Run{Mapping: "m", API: "collections"}); err != nil {
		t.Fatal(err)
	}
	// q has a change queued when the delete comes.
	if _, err := s.Accept(ctx, []string{"m"}, []forcesync.Change{{Source: "s", Key: "q", Fields: map[string]any{"a": "2"}}}); err != nil {
		t.Fatal(err)
	}
	stamp := clk.Now()
	fps := map[string]string{}
	for k := range ids {
		b, err := s.Binding(ctx, "m", k)
		if err != nil || b == nil {
			t.Fatalf("binding of %s: %+v %v", k, b, err)
		}
		fps[k] = b.Fingerprint
	}
	err = ps.CommitPull(ctx, &forcesync.PullCommit{Mapping: "m", Source: "s", Now: clk.Now(),
		Watermark: forcesync.Watermark{Instant: stamp, Seen: map[string]time.Time{}},
		Records: []forcesync.PulledRecord{
			{Key: "k", SalesforceID: "00Q1", ExpectFingerprint: fps["k"], ExpectVersion: 1, Unbind: true, Modstamp: stamp},
			{Key: "q", SalesforceID: "00Q2", ExpectFingerprint: fps["q"], ExpectVersion: 2, Unbind: true, Modstamp: stamp},
			{Key: "g", SalesforceID: "00Q9", ExpectFingerprint: fps["g"], ExpectVersion: 1, Bind: true, Fingerprint: fps["g"], Modstamp: stamp},
		}})
	if err != nil {
		t.Fatal(err)
	}
	state := func(key string) forcesync.RecordStatus {
		t.Helper()
		sts, err := s.Statuses(ctx, "s", key)
		if err != nil || len(sts) != 1 {
			t.Fatalf("statuses of %s: %+v %v", key, sts, err)
		}
		return sts[0]
	}
	if st := state("k"); st.State != forcesync.StateDeleted || st.SalesforceID != "" || st.Error != nil || st.Attempts != 0 {
		t.Fatalf("status of a key Salesforce deleted: %+v", st)
	}
	if st := state("q"); st.State != forcesync.StatePending || st.SalesforceID != "" {
		t.Fatalf("status of a key Salesforce deleted with a change queued: %+v", st)
	}
	if st := state("g"); st.SalesforceID != "00Q9" {
		t.Fatalf("status of a key a merge moved to 00Q9: %+v", st)
	}
	got, err := ps.UnboundKeys(ctx, "m", []string{"00Q1", "00Q2", "00Q3", "00Q9"})
	if err != nil || len(got) != 2 || got["00Q1"] != "k" || got["00Q2"] != "q" {
		t.Fatalf("unbound keys %+v %v", got, err)
	}
	if other, _ := ps.UnboundKeys(ctx, "other", []string{"00Q1"}); len(other) != 0 {
		t.Fatalf("unbound keys leaked to another mapping: %+v", other)
	}
	// 00Q1 restored: bound again, its key is no longer kept.
	err = ps.CommitPull(ctx, &forcesync.PullCommit{Mapping: "m", Source: "s", Now: clk.Now(),
		Watermark: forcesync.Watermark{Instant: stamp, Seen: map[string]time.Time{}, Gen: 1},
		Records:   []forcesync.PulledRecord{{Key: "k", SalesforceID: "00Q1", ExpectVersion: 1, Bind: true, Modstamp: stamp}}})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := ps.UnboundKeys(ctx, "m", []string{"00Q1", "00Q2"}); len(got) != 1 || got["00Q2"] != "q" {
		t.Fatalf("unbound keys after 00Q1 was bound again: %+v", got)
	}
	// Pruned UnboundKept past the retention.
	if _, err := ps.PrunePulled(ctx, "m", clk.Now().Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got, _ := ps.UnboundKeys(ctx, "m", []string{"00Q2"}); len(got) != 1 {
		t.Fatalf("unbound key pruned early: %+v", got)
	}
	if _, err := ps.PrunePulled(ctx, "m", clk.Now().Add(forcesync.UnboundKept+time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got, _ := ps.UnboundKeys(ctx, "m", []string{"00Q2"}); len(got) != 0 {
		t.Fatalf("unbound key kept past UnboundKept: %+v", got)
	}
}

// testRedeliver: dead letters put back are claimed again at once with
// their attempts counted afresh; by Seq only those named; pending and
// delivered ones, and other sinks', are left alone.
func testRedeliver(t *testing.T, _ forcesync.Store, ps forcesync.PullStore, clk *Clock) {
	ctx := context.Background()
	stamp := clk.Now()
	var recs []forcesync.PulledRecord
	for _, k := range []string{"a", "b", "c", "d"} {
		recs = append(recs, forcesync.PulledRecord{Key: k, SalesforceID: "00Q" + k, Bind: true, Modstamp: stamp,
			Event: &forcesync.PulledChange{Key: k, Op: forcesync.PulledUpsert, SalesforceID: "00Q" + k, Modstamp: stamp}})
	}
	c := &forcesync.PullCommit{Mapping: "m", Source: "s", Now: clk.Now(), Webhooks: []string{"hook", "other"},
		Watermark: forcesync.Watermark{Instant: stamp, Seen: map[string]time.Time{}}, Records: recs}
	if err := ps.CommitPull(ctx, c); err != nil {
		t.Fatal(err)
	}
	seq := map[string]int64{}
	for _, r := range c.Records {
		seq[r.Key] = r.Event.Seq
	}
	// a, b, c die on "hook" (and a on "other"); d is delivered.
	finish := func(sink string, rs ...forcesync.DeliveryResult) {
		t.Helper()
		if err := ps.FinishDeliveries(ctx, sink, rs); err != nil {
			t.Fatal(err)
		}
	}
	finish("hook", forcesync.DeliveryResult{Seq: seq["a"], Error: "502", Dead: true}, forcesync.DeliveryResult{Seq: seq["b"], Error: "502", Dead: true},
		forcesync.DeliveryResult{Seq: seq["c"], Error: "502", Dead: true}, forcesync.DeliveryResult{Seq: seq["d"], OK: true})
	finish("other", forcesync.DeliveryResult{Seq: seq["a"], Error: "502", Dead: true})
	if n, err := ps.Redeliver(ctx, "hook", []int64{seq["b"], seq["d"], 99999}, clk.Now()); err != nil || n != 1 {
		t.Fatalf("redeliver b (and d, delivered, and an unknown seq): %d %v, want 1", n, err)
	}
	ds, err := ps.ClaimDeliveries(ctx, "hook", clk.Now(), 10)
	if err != nil || deliveryKeys(ds) != "b" || ds[0].Attempts != 0 || ds[0].Dead || ds[0].LastError != "" {
		t.Fatalf("claimed after redelivering b: %+v %v", ds, err)
	}
	if dead, _ := ps.DeadLetters(ctx, "hook", 10); deliveryKeys(dead) != "ca" {
		t.Fatalf("dead letters left: %s", deliveryKeys(dead))
	}
	if n, err := ps.Redeliver(ctx, "hook", nil, clk.Now()); err != nil || n != 2 {
		t.Fatalf("redeliver all: %d %v, want 2", n, err)
	}
	if ds, _ := ps.ClaimDeliveries(ctx, "hook", clk.Now(), 10); deliveryKeys(ds) != "abc" {
		t.Fatalf("claimed after redelivering all: %s", deliveryKeys(ds))
	}
	if dead, _ := ps.DeadLetters(ctx, "other", 10); deliveryKeys(dead) != "a" {
		t.Fatalf("another sink's dead letters: %s", deliveryKeys(dead))
	}
}

// deliveryKeys joins the keys of deliveries' events, in order.
func deliveryKeys(ds []forcesync.Delivery) string {
	var b strings.Builder
	for _, d := range ds {
		b.WriteString(d.Change.Key)
	}
	return b.String()
}

// testPullIntents: Intents lists a mapping's creates in flight with their
// match values, while the push retries them, until Complete records a final
// outcome, which clears the intent with the binding; an intent without
// queued work is not in flight.
func testPullIntents(t *testing.T, s forcesync.Store, ps forcesync.PullStore, clk *Clock) {
	ctx := context.Background()
	if got, err := ps.Intents(ctx, "m"); err != nil || len(got) != 0 {
		t.Fatalf("intents of a fresh store: %+v %v", got, err)
	}
	accept(t, s, []string{"m"},
		forcesync.Change{Source: "s", Key: "k1", Fields: map[string]any{"email": "A@x"}},
		forcesync.Change{Source: "s", Key: "k2", Fields: map[string]any{"email": "b@x"}})
	items := claim(t, s, clk, "m", "w", 10)
	if len(items) != 2 {
		t.Fatalf("claimed %v", keys(items))
	}
	at := clk.Now()
	if err := s.RecordIntents(ctx, "m", []forcesync.Intent{
		{Key: "k2", Match: map[string]string{"Email": "b@x"}, At: at},
		{Key: "k1", Match: map[string]string{"Email": "A@x"}, At: at},
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordIntents(ctx, "other", []forcesync.Intent{{Key: "k1", Match: map[string]string{"Email": "z@x"}}}); err != nil {
		t.Fatal(err)
	}
	got, err := ps.Intents(ctx, "m")
	if err != nil || len(got) != 2 || got[0].Key != "k1" || got[0].Match["Email"] != "A@x" || !got[0].At.Equal(at) ||
		got[1].Key != "k2" || got[1].Match["Email"] != "b@x" {
		t.Fatalf("intents of m: %+v %v", got, err)
	}
	byKey := map[string]forcesync.WorkItem{}
	for _, it := range items {
		byKey[it.Key] = it
	}
	// k1's create failed for now: its intent stays for the retry. k2's
	// landed: bound, its intent gone in the same commit.
	complete(t, s, "w",
		forcesync.Outcome{Item: byKey["k1"], State: forcesync.StateRetrying, NextAttempt: clk.Now().Add(time.Minute),
			Error: &forcesync.RecordError{Code: "SERVER_UNAVAILABLE", Message: "503"}},
		forcesync.Outcome{Item: byKey["k2"], State: forcesync.StateSynced, SalesforceID: "00Q000000000002AAA", Fingerprint: "fp2"})
	if got, err := ps.Intents(ctx, "m"); err != nil || len(got) != 1 || got[0].Key != "k1" {
		t.Fatalf("intents after k2 was bound and k1 retries: %+v %v", got, err)
	}
	clk.Advance(2 * time.Minute)
	again := claim(t, s, clk, "m", "w", 10)
	if len(again) != 1 || again[0].Key != "k1" {
		t.Fatalf("claimed again %v", keys(again))
	}
	complete(t, s, "w", forcesync.Outcome{Item: again[0], State: forcesync.StateSynced, SalesforceID: "00Q000000000001AAA", Fingerprint: "fp1"})
	if got, err := ps.Intents(ctx, "m"); err != nil || len(got) != 0 {
		t.Fatalf("intents after every create settled: %+v %v", got, err)
	}
	// An intent of a key with no work queued under its mapping is not a
	// create in flight.
	if got, err := ps.Intents(ctx, "other"); err != nil || len(got) != 0 {
		t.Fatalf("intents of a mapping with no work queued: %+v %v", got, err)
	}
}

// testPullUnpushed: Unpushed finds the keys of a mapping with push work
// queued or claimed and no binding by a field of their source record,
// ignoring case, while the push retries them, until Complete binds them;
// not a key bound already, deleted in the application, queued under
// another mapping, or whose field is no string; a dot path reaches into
// nested objects; a bad path is refused, naming it.
func testPullUnpushed(t *testing.T, s forcesync.Store, ps forcesync.PullStore, clk *Clock) {
	ctx := context.Background()
	if got, err := ps.Unpushed(ctx, "m", "email", []string{"ada@x"}); err != nil || len(got) != 0 {
		t.Fatalf("unpushed of a fresh store: %+v %v", got, err)
	}
	rec := func(key string, fields map[string]any) forcesync.Change {
		return forcesync.Change{Source: "s", Key: key, Op: forcesync.OpUpsert, Fields: fields}
	}
	accept(t, s, []string{"m"},
		rec("k1", map[string]any{"email": "Ada@X"}),
		rec("k2", map[string]any{"email": "ada@x"}),
		rec("k3", map[string]any{"email": "bob@x"}),
		rec("k4", map[string]any{"email": 7}),
		rec("k5", map[string]any{"email": "ada@x"}),
		rec("k6", map[string]any{"email": "ada@x"}),
		rec("k7", map[string]any{"contact": map[string]any{"email": "Cy@x"}}))
	accept(t, s, []string{"other"}, rec("o1", map[string]any{"email": "ada@x"}))
	items := claim(t, s, clk, "m", "w", 20)
	if len(items) != 7 {
		t.Fatalf("claimed %v", keys(items))
	}
	byKey := map[string]forcesync.WorkItem{}
	for _, it := range items {
		byKey[it.Key] = it
	}
	// k5 is bound, and changes again; k6 is deleted in the application.
	complete(t, s, "w", forcesync.Outcome{Item: byKey["k5"], State: forcesync.StateSynced, SalesforceID: "00Q000000000005AAA", Fingerprint: "fp5"})
	accept(t, s, []string{"m"}, rec("k5", map[string]any{"email": "ada@x", "phone": "1"}))
	accept(t, s, []string{"m"}, forcesync.Change{Source: "s", Key: "k6", Op: forcesync.OpDelete})
	got, err := ps.Unpushed(ctx, "m", "email", []string{"ADA@x", "bob@x", "nobody@x", "7", ""})
	if err != nil || fmt.Sprint(got) != "map[ada@x:[k1 k2] bob@x:[k3]]" {
		t.Fatalf("unpushed by email: %v %v, want ada@x for k1 and k2, bob@x for k3", got, err)
	}
	if got, err := ps.Unpushed(ctx, "m", "contact.email", []string{"cy@X", "ada@x"}); err != nil || fmt.Sprint(got) != "map[cy@x:[k7]]" {
		t.Fatalf("unpushed by contact.email: %v %v", got, err)
	}
	if got, err := ps.Unpushed(ctx, "other", "email", []string{"ada@x"}); err != nil || fmt.Sprint(got) != "map[ada@x:[o1]]" {
		t.Fatalf("unpushed of mapping other: %v %v", got, err)
	}
	// k1's push failed for now: it retries, still unbound. k2 is bound.
	complete(t, s, "w",
		forcesync.Outcome{Item: byKey["k1"], State: forcesync.StateRetrying, NextAttempt: clk.Now().Add(time.Minute),
			Error: &forcesync.RecordError{Code: "SERVER_UNAVAILABLE", Message: "503"}},
		forcesync.Outcome{Item: byKey["k2"], State: forcesync.StateSynced, SalesforceID: "00Q000000000002AAA", Fingerprint: "fp2"},
		forcesync.Outcome{Item: byKey["k3"], State: forcesync.StateHeld, Fingerprint: "fp3",
			Error: &forcesync.RecordError{Code: "INVALID_EMAIL_ADDRESS", Message: "bad"}})
	if got, err := ps.Unpushed(ctx, "m", "email", []string{"ada@x", "bob@x"}); err != nil || fmt.Sprint(got) != "map[ada@x:[k1]]" {
		t.Fatalf("unpushed after k2 was bound, k3 held and k1 retries: %v %v", got, err)
	}
	for _, bad := range []string{"", "contact..email", ".email", `e"mail`} {
		_, err := ps.Unpushed(ctx, "m", bad, []string{"ada@x"})
		if forcesync.ErrorCode(err) != forcesync.EInvalid || !strings.Contains(err.Error(), fmt.Sprintf("%q", bad)) {
			t.Fatalf("unpushed by field %q: %v, want %s naming it", bad, err, forcesync.EInvalid)
		}
	}
	if got, err := ps.Unpushed(ctx, "m", "email", nil); err != nil || len(got) != 0 {
		t.Fatalf("unpushed of no values: %v %v", got, err)
	}
}
