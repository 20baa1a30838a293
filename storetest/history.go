package storetest

import (
	"testing"
	"time"

	"github.com/forcesync/forcesync"
)

// testRecordHistory checks each record's attempt history (console record
// page, issue 13): Complete records every outcome it applies, with its
// run, error and fingerprint, newest first; a key keeps at most
// forcesync.HistoryKept attempts; an outcome Complete drops (a lease taken
// over by another owner) leaves no attempt.
func testRecordHistory(t *testing.T, s forcesync.Store, clk *Clock) {
	hs, ok := forcesync.StoreAs[forcesync.HistoryStore](s)
	if !ok {
		t.Fatal("the store does not implement forcesync.HistoryStore")
	}
	history := func(key string, limit int) []forcesync.Attempt {
		t.Helper()
		h, err := hs.RecordHistory(ctx, "m", key, limit)
		if err != nil {
			t.Fatalf("RecordHistory %s: %v", key, err)
		}
		return h
	}
	if h := history("k", 0); len(h) != 0 {
		t.Fatalf("history before any push: %+v", h)
	}
	accept(t, s, []string{"m"}, forcesync.Change{Key: "k", Fields: map[string]any{"email": "bad"}},
		forcesync.Change{Key: "other", Fields: map[string]any{}})
	items := claim(t, s, clk, "m", "w", 10)
	run := &forcesync.Run{Mapping: "m", API: "collections", Started: clk.Now(), Finished: clk.Now(), Records: 2, Failed: 1, Created: 1, APICalls: 1}
	var outs []forcesync.Outcome
	for _, it := range items {
		if it.Key == "k" {
			outs = append(outs, forcesync.Outcome{Item: it, State: forcesync.StateHeld, Fingerprint: "fp-bad",
				Error: &forcesync.RecordError{Code: "INVALID_EMAIL_ADDRESS", Message: "Email: invalid email address: bad", Fields: []string{"Email"}}})
		} else {
			outs = append(outs, forcesync.Outcome{Item: it, State: forcesync.StateSynced, SalesforceID: "00Q000000000009AAA", Fingerprint: "fp-o"})
		}
	}
	if err := s.Complete(ctx, "w", outs, run); err != nil {
		t.Fatal(err)
	}
	h := history("k", 0)
	if len(h) != 1 {
		t.Fatalf("history after one attempt: %+v", h)
	}
	a := h[0]
	if a.Mapping != "m" || a.Key != "k" || a.State != forcesync.StateHeld || a.RunID != run.ID || run.ID == 0 || a.Fingerprint != "fp-bad" ||
		a.Error == nil || a.Error.Code != "INVALID_EMAIL_ADDRESS" || len(a.Error.Fields) != 1 || a.Error.Fields[0] != "Email" ||
		a.Version != items[0].Version || a.Op != forcesync.OpUpsert || !a.At.Equal(clk.Now()) {
		t.Fatalf("attempt %+v (run %d)", a, run.ID)
	}

	// Fixed and pushed again: a second attempt, newest first, no error.
	clk.Advance(time.Minute)
	accept(t, s, []string{"m"}, forcesync.Change{Key: "k", Fields: map[string]any{"email": "good@example.com"}})
	items = claim(t, s, clk, "m", "w", 10)
	complete(t, s, "w", forcesync.Outcome{Item: items[0], State: forcesync.StateSynced, SalesforceID: "00Q000000000001AAA", Fingerprint: "fp-good"})
	h = history("k", 0)
	if len(h) != 2 || h[0].State != forcesync.StateSynced || h[0].Error != nil || h[0].SalesforceID != "00Q000000000001AAA" ||
		h[0].Fingerprint != "fp-good" || h[0].RunID != 0 || !h[0].At.After(h[1].At) || h[1].State != forcesync.StateHeld {
		t.Fatalf("history after two attempts: %+v", h)
	}

	// A lease taken over: the first owner's late outcome is dropped and
	// leaves no attempt; the second owner's is kept.
	accept(t, s, []string{"m"}, forcesync.Change{Key: "k", Fields: map[string]any{"email": "x@example.com"}})
	first := claim(t, s, clk, "m", "w1", 10)
	clk.Advance(2 * time.Minute)
	second := claim(t, s, clk, "m", "w2", 10)
	if len(first) != 1 || len(second) != 1 {
		t.Fatalf("claims %v %v", first, second)
	}
	complete(t, s, "w1", forcesync.Outcome{Item: first[0], State: forcesync.StateSynced, SalesforceID: "00Q000000000001AAA", Fingerprint: "late"})
	complete(t, s, "w2", forcesync.Outcome{Item: second[0], State: forcesync.StateSynced, SalesforceID: "00Q000000000001AAA", Fingerprint: "fp-x"})
	h = history("k", 0)
	if len(h) != 3 || h[0].Fingerprint != "fp-x" {
		t.Fatalf("history after a lease takeover: %+v", h)
	}

	// Bounded: many more attempts keep only the newest HistoryKept.
	total := 3 + forcesync.HistoryKept + 4
	for i := 3; i < total; i++ {
		clk.Advance(time.Second)
		accept(t, s, []string{"m"}, forcesync.Change{Key: "k", Fields: map[string]any{"n": i}})
		items = claim(t, s, clk, "m", "w", 10)
		complete(t, s, "w", forcesync.Outcome{Item: items[0], State: forcesync.StateRetrying, NextAttempt: clk.Now(),
			Error: &forcesync.RecordError{Code: "UNABLE_TO_LOCK_ROW", Message: "try again"}})
	}
	h = history("k", 0)
	if len(h) != forcesync.HistoryKept {
		t.Fatalf("kept %d attempts, want %d", len(h), forcesync.HistoryKept)
	}
	for i := 1; i < len(h); i++ {
		if !h[i-1].At.After(h[i].At) || h[i-1].Version <= h[i].Version {
			t.Fatalf("history not newest first at %d: %+v then %+v", i, h[i-1], h[i])
		}
	}
	if h[0].State != forcesync.StateRetrying || h[0].Error == nil || h[0].Error.Code != "UNABLE_TO_LOCK_ROW" {
		t.Fatalf("newest attempt %+v", h[0])
	}
	if h := history("k", 3); len(h) != 3 {
		t.Fatalf("limit 3 gave %d", len(h))
	}
	if h := history("other", 0); len(h) != 1 || h[0].SalesforceID != "00Q000000000009AAA" {
		t.Fatalf("another key's history: %+v", h)
	}
}
