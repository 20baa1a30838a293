package pull_test

import (
	"context"
	"testing"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/emulator"
	"github.com/forcesync/forcesync/engine"
	"github.com/forcesync/forcesync/internal/testrig"
	"github.com/forcesync/forcesync/pull"
	"github.com/forcesync/forcesync/salesforce"
)

// TestPollDuringAPushInFlight: the app changes a two-way field and its
// push has read Salesforce (nothing to hold back) but not yet written when
// a rep changes the same field and a poll settles the conflict for
// Salesforce. The push then lands with the app's value. The poll that
// reads it back must know it for forcesync's own (stale) write, not take
// it for a rep's edit that beats the policy: both sides end with the
// winner's value, the one the recorded conflict names.
func TestPollDuringAPushInFlight(t *testing.T) {
	for _, policy := range []forcesync.ConflictPolicy{forcesync.SalesforceWins, forcesync.NewestWins} {
		t.Run(string(policy), func(t *testing.T) {
			r := newRig(t, leadsBoth(policy))
			p := r.puller(nil)
			r.accept("k", map[string]any{"last": "L", "company": "C", "phone": "1"})
			r.drain()
			r.poll(p)
			id := r.sfID("k")

			pushed := r.pushAppPhone(emulator.Fault{Type: emulator.FaultLatency, Method: "PATCH",
				Path: "re:/composite/sobjects", Latency: time.Second, Count: 1})
			if err := r.emu.UpdateAs("Lead", id, map[string]any{"Phone": "sf"}); err != nil {
				t.Fatal(err)
			}
			if st := r.poll(p); st.Conflicts != 1 {
				t.Fatalf("poll during the push: %+v", st)
			}
			if err := <-pushed; err != nil {
				t.Fatal(err)
			}
			r.settledForSalesforce(p, id, "sf")
		})
	}
}

// TestFailedPushIsNotRetriedOverAnEditMadeMeanwhile: a two-way push reads
// Salesforce's values (nothing to hold back), then its write fails with a
// 503, and a rep edits the field before it could go again. The write must
// not be sent again on the strength of the old read: the next attempt
// reads again, so the rep's edit is not overwritten unseen; the poll
// settles the conflict by policy and records it.
func TestFailedPushIsNotRetriedOverAnEditMadeMeanwhile(t *testing.T) {
	// The client retries a failed call as serve's does (a short backoff
	// here): the 503 below is not the end of the write by itself.
	m := leadsBoth(forcesync.SalesforceWins)
	tr := testrig.New(t, testrig.Options{Engine: engine.Config{Workers: 1},
		Retry: salesforce.RetryPolicy{MaxAttempts: 4, BaseDelay: 300 * time.Millisecond}}, m)
	r := &rig{Rig: tr, t: t, emu: tr.Emu, client: tr.Client, store: tr.Store, eng: tr.Eng, m: m, path: tr.Path, pstore: tr.Store}
	p := r.puller(nil)
	r.accept("k", map[string]any{"last": "L", "company": "C", "phone": "1"})
	r.drain()
	r.poll(p)
	id := r.sfID("k")

	pushed := r.pushAppPhone(emulator.Fault{Type: emulator.FaultError, Method: "PATCH", Path: "re:/composite/sobjects",
		Status: 503, Latency: 200 * time.Millisecond, Count: 1}) // the write is on its way, to fail
	if err := r.emu.UpdateAs("Lead", id, map[string]any{"Phone": "rep"}); err != nil {
		t.Fatal(err)
	}
	if err := <-pushed; err != nil {
		t.Fatal(err)
	}
	if got := r.sf(id, "Phone"); got != "rep" {
		t.Fatalf("the failed write was sent again over the rep's edit: Phone %v", got)
	}
	r.settledForSalesforce(p, id, "rep")
}

// pushAppPhone arms f, accepts the app's change of k's phone to "app" and
// starts a push of it; it returns once f fired (the rule is gone: the
// push's write is on its way, its read done), with the push's outcome to
// come.
func (r *rig) pushAppPhone(f emulator.Fault) <-chan error {
	r.t.Helper()
	if _, err := r.emu.AddFault(f); err != nil {
		r.t.Fatal(err)
	}
	r.accept("k", map[string]any{"last": "L", "company": "C", "phone": "app"})
	pushed := make(chan error, 1)
	go func() { _, err := r.eng.Drain(context.Background()); pushed <- err }()
	deadline := time.Now().Add(10 * time.Second)
	for len(r.emu.Faults()) > 0 {
		if time.Now().After(deadline) {
			r.t.Fatal("the push never wrote")
		}
		time.Sleep(time.Millisecond)
	}
	return pushed
}

// settledForSalesforce polls and pushes until k settles, and checks its one
// conflict went to Salesforce and both sides (the app's record and
// Salesforce's record id) hold want.
func (r *rig) settledForSalesforce(p *pull.Puller, id, want string) {
	r.t.Helper()
	for range 4 {
		r.poll(p)
		r.drain()
	}
	cfs, err := r.store.Conflicts(r.t.Context(), "leads", "k")
	if err != nil || len(cfs) != 1 || cfs[0].Winner != "salesforce" {
		r.t.Fatalf("conflicts %+v %v", cfs, err)
	}
	if app, sf := r.src("k").Fields["phone"], r.sf(id, "Phone"); app != want || sf != want {
		r.t.Fatalf("ended with app %v, Salesforce %v; want both %q (Salesforce won the conflict)", app, sf, want)
	}
}
