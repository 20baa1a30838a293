package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/forcesync/forcesync"
)

// testMassGuard: destructive changes pass until a window's limit, then the
// name pauses (refusing everything, counting it pending) until approved;
// an approval lets everything through until it runs out; a window that
// ran out starts its count again; names are independent.
func testMassGuard(t *testing.T, s forcesync.Store, clk *Clock) {
	take := func(name string, n int) (forcesync.GuardState, bool) {
		t.Helper()
		st, ok, err := s.GuardTake(ctx, forcesync.GuardRequest{Name: name, N: n, Limit: 10, Window: time.Hour, Now: clk.Now()})
		if err != nil {
			t.Fatalf("GuardTake: %v", err)
		}
		return st, ok
	}
	if st, ok := take("m", 6); !ok || st.Count != 6 || st.Paused {
		t.Fatalf("first take: %v %+v", ok, st)
	}
	if st, ok := take("m", 4); !ok || st.Count != 10 {
		t.Fatalf("up to the limit: %v %+v", ok, st)
	}
	if st, ok := take("m", 1); ok || !st.Paused || st.Pending != 1 || st.Limit != 10 {
		t.Fatalf("past the limit: %v %+v", ok, st)
	}
	if _, ok := take("other", 3); !ok {
		t.Fatal("another name paused too")
	}
	// A pause outlasts the window.
	clk.Advance(2 * time.Hour)
	if st, ok := take("m", 1); ok || st.Pending != 2 {
		t.Fatalf("paused after the window: %v %+v", ok, st)
	}
	if _, err := s.GuardApprove(ctx, "m", clk.Now(), clk.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if st, ok := take("m", 50); !ok || st.Paused || st.Count != 50 {
		t.Fatalf("approved: %v %+v", ok, st)
	}
	clk.Advance(61 * time.Minute)
	// The approval and the window ran out: counting starts again.
	if st, ok := take("m", 10); !ok || st.Count != 10 {
		t.Fatalf("new window: %v %+v", ok, st)
	}
	if _, ok := take("m", 1); ok {
		t.Fatal("limit not applied after the approval ran out")
	}
	sts, err := s.GuardStates(ctx)
	if err != nil || len(sts) != 2 || sts[0].Name != "m" || !sts[0].Paused || sts[1].Name != "other" || sts[1].Count != 3 {
		t.Fatalf("GuardStates: %+v %v", sts, err)
	}
	// Concurrent takes never let more than the limit through.
	var wg sync.WaitGroup
	var mu sync.Mutex
	passed := 0
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, ok, err := s.GuardTake(ctx, forcesync.GuardRequest{Name: "race", N: 3, Limit: 10, Window: time.Hour, Now: clk.Now()})
			if err != nil {
				t.Error(err)
				return
			}
			if ok {
				mu.Lock()
				passed += 3
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if passed != 9 {
		t.Fatalf("concurrent takes passed %d, want 9 (three of 3 under a limit of 10)", passed)
	}
}

// testBind: Bind sets or replaces a key's binding, which the next claim
// carries.
func testBind(t *testing.T, s forcesync.Store, clk *Clock) {
	accept(t, s, []string{"m"}, forcesync.Change{Key: "k", Fields: map[string]any{"a": 1}})
	if err := s.Bind(ctx, forcesync.Binding{Mapping: "m", Key: "k", SalesforceID: "003000000000001AAA"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Bind(ctx, forcesync.Binding{Mapping: "m", Key: "k", SalesforceID: "003000000000002AAA", Fingerprint: "f"}); err != nil {
		t.Fatal(err)
	}
	b, err := s.Binding(ctx, "m", "k")
	if err != nil || b == nil || b.SalesforceID != "003000000000002AAA" || b.Fingerprint != "f" {
		t.Fatalf("Binding = %+v, %v", b, err)
	}
	items, err := s.Claim(ctx, forcesync.ClaimRequest{Mapping: "m", Owner: "o", Lease: time.Minute, Limit: 10, Now: clk.Now()})
	if err != nil || len(items) != 1 || items[0].Binding == nil || items[0].Binding.SalesforceID != "003000000000002AAA" {
		t.Fatalf("Claim = %+v, %v", items, err)
	}
}

// testKeepBinding: an outcome with KeepBinding settles the status only: a
// binding written by Bind while the claim was out (a promotion's) is not
// overwritten by the outcome's Salesforce Id and fingerprint.
func testKeepBinding(t *testing.T, s forcesync.Store, clk *Clock) {
	accept(t, s, []string{"m"}, forcesync.Change{Key: "k", Fields: map[string]any{"a": 1}})
	if err := s.Bind(ctx, forcesync.Binding{Mapping: "m", Key: "k", SalesforceID: "00Q000000000001AAA", Fingerprint: "f"}); err != nil {
		t.Fatal(err)
	}
	items := claim(t, s, clk, "m", "o", 10)
	if len(items) != 1 {
		t.Fatalf("claimed %d, want 1", len(items))
	}
	if err := s.Bind(ctx, forcesync.Binding{Mapping: "m", Key: "k", SalesforceID: "00Q000000000001AAA", Fingerprint: forcesync.FingerprintLeadGone}); err != nil {
		t.Fatal(err)
	}
	complete(t, s, "o", forcesync.Outcome{Item: items[0], State: forcesync.StateConverted, SalesforceID: "00Q000000000001AAA",
		Fingerprint: forcesync.FingerprintConverted, KeepBinding: true})
	b, err := s.Binding(ctx, "m", "k")
	if err != nil || b == nil || b.Fingerprint != forcesync.FingerprintLeadGone {
		t.Fatalf("Binding = %+v, %v; want the one Bind wrote during the claim", b, err)
	}
	sts, err := s.Statuses(ctx, "contact", "k")
	if err != nil {
		t.Fatal(err)
	}
	if len(sts) != 1 || sts[0].State != forcesync.StateConverted || sts[0].SalesforceID != "00Q000000000001AAA" {
		t.Fatalf("Statuses = %+v, want converted, naming the Lead", sts)
	}
}
