package pull_test

import (
	"context"
	"testing"
	"time"

	"github.com/forcesync/forcesync"
)

// TestPollDuringAPushNotYetCommitted: a push created c1's Lead and has
// not committed its binding (its claim is in flight), the app changed c1
// again (phone 222), and a poll reads the Lead. The app's newer phone
// must survive, and reach Salesforce.
func TestPollDuringAPushNotYetCommitted(t *testing.T) {
	r := newRig(t, leadsBoth(forcesync.NewestWins))
	ctx := context.Background()
	r.accept("c1", map[string]any{"last": "Ada", "company": "Acme", "phone": "111"})
	items, err := r.store.Claim(ctx, forcesync.ClaimRequest{Mapping: r.m.Name, Owner: "w", Lease: time.Minute, Limit: 10, Now: time.Now()})
	if err != nil || len(items) != 1 {
		t.Fatalf("claim: %v %v", items, err)
	}
	// The claimed push reached Salesforce; its answer is not recorded yet.
	ids, err := r.emu.Seed("Lead", []map[string]any{{"LastName": "Ada", "Company": "Acme", "Phone": "111", "Forcesync_Key__c": "c1"}})
	if err != nil {
		t.Fatal(err)
	}
	r.accept("c1", map[string]any{"last": "Ada", "company": "Acme", "phone": "222"})
	p := r.puller(nil)
	st := r.poll(p)
	t.Logf("stats %+v", st)
	if got := r.src("c1").Fields["phone"]; got != "222" {
		t.Fatalf("app's phone after the poll: %v, want 222", got)
	}
	if evs := r.changes(0); len(evs) != 0 {
		t.Fatalf("the push in flight came back as events: %+v", evs)
	}
	// The push's answer is recorded; the engine sends the newer phone.
	if err := r.store.Complete(ctx, "w", []forcesync.Outcome{{Item: items[0], State: forcesync.StateSynced, SalesforceID: ids[0], Fingerprint: "fp-111"}},
		&forcesync.Run{Mapping: r.m.Name, API: "collections"}); err != nil {
		t.Fatal(err)
	}
	r.drain()
	if got := r.sf(ids[0], "Phone"); got != "222" {
		t.Fatalf("Salesforce phone: %v, want 222", got)
	}
	if got := r.src("c1").Fields["phone"]; got != "222" {
		t.Fatalf("app's phone at the end: %v, want 222", got)
	}
}
