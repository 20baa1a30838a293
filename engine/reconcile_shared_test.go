package engine_test

import (
	"context"
	"strings"
	"testing"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/engine"
	"github.com/forcesync/forcesync/salesforce"
)

// TestReconcileSharedRecord: two keys matched by Email share one Contact,
// which holds the values of the newer (pushed last). Reconcile compares the
// Contact with that key and reports the older one shared, not drifted, and
// heal never writes the older key's values over it; when someone edits the
// Contact, the drift is the newer key's and heal pushes its values.
func TestReconcileSharedRecord(t *testing.T) {
	ctx := context.Background()
	m := contactsByEmail(1)
	r := newRig(t, engine.Config{BulkThreshold: -1}, m)
	r.accept("idp_user", forcesync.Change{Key: "k1", Fields: map[string]any{"last": "Older", "email": "shared@example.com"}})
	r.drain()
	r.accept("idp_user", forcesync.Change{Key: "k2", Fields: map[string]any{"last": "Newer", "email": "shared@example.com"}})
	r.drain()
	s1, s2 := r.status("idp_user", "k1"), r.status("idp_user", "k2")
	if s1.SalesforceID == "" || s1.SalesforceID != s2.SalesforceID {
		t.Fatalf("k1 %+v and k2 %+v do not share a Contact", s1, s2)
	}
	id := s2.SalesforceID
	lastName := func() any {
		t.Helper()
		got := r.query("SELECT Id, LastName FROM Contact WHERE Id = '" + id + "'")
		if len(got) != 1 {
			t.Fatalf("Contact %s: %+v", id, got)
		}
		return got[0]["LastName"]
	}
	if got := lastName(); got != "Newer" {
		t.Fatalf("the shared Contact holds LastName %v; want the newer key's", got)
	}
	rc := r.reconciler(m)
	for _, threshold := range []int{-1, 1} {
		run, fs, err := rc.Reconcile(ctx, m.Name, engine.ReconcileOptions{BulkThreshold: threshold})
		if err != nil {
			t.Fatal(err)
		}
		f := findingOf(fs, "k1", forcesync.DriftShared)
		if len(fs) != 1 || f == nil || f.SalesforceID != id || !strings.Contains(f.Detail, "key k2") || run.Counts[forcesync.DriftFieldChanged] != 0 {
			t.Fatalf("threshold %d: findings %+v; want k1 shared with k2 and no drift", threshold, fs)
		}
	}
	run, fs, err := rc.Reconcile(ctx, m.Name, engine.ReconcileOptions{Heal: true})
	if err != nil || run.Healed != 0 || findingOf(fs, "k1", forcesync.DriftShared).Healed {
		t.Fatalf("heal of a shared record: run %+v findings %+v %v; want nothing healed", run, fs, err)
	}
	r.drain()
	if got := lastName(); got != "Newer" {
		t.Fatalf("after the heal the Contact holds LastName %v; the older key's values were written over the newer's", got)
	}

	// Someone edits the Contact: it drifted from the newer key, whose
	// values heal pushes again; the older key is still only shared.
	if _, err := r.api.Update(ctx, "Contact", []salesforce.Record{{"attributes": map[string]any{"type": "Contact"}, "Id": id, "LastName": "Edited"}}); err != nil {
		t.Fatal(err)
	}
	run, fs, err = rc.Reconcile(ctx, m.Name, engine.ReconcileOptions{Heal: true})
	f2 := findingOf(fs, "k2", forcesync.DriftFieldChanged)
	if err != nil || len(fs) != 2 || f2 == nil || !f2.Healed || findingOf(fs, "k1", forcesync.DriftShared) == nil || run.Healed != 1 {
		t.Fatalf("edited shared Contact: run %+v findings %+v %v; want k2 drifted and healed, k1 shared", run, fs, err)
	}
	if len(f2.Fields) != 1 || f2.Fields[0].Salesforce != "Edited" || f2.Fields[0].Expected != "Newer" {
		t.Fatalf("k2's drift %+v", f2.Fields)
	}
	r.drain()
	if got := lastName(); got != "Newer" {
		t.Fatalf("after healing the edit the Contact holds LastName %v; want the newer key's", got)
	}
}

// TestReconcileHealQueuesNeverSynced: heal queues never-synced records and
// says so; it does not call them healed, for the push may hold them again
// (here Salesforce's refusal of an invalid email), and reconcile still
// finds them never synced.
func TestReconcileHealQueuesNeverSynced(t *testing.T) {
	ctx := context.Background()
	m := leadByExtID()
	r := newRig(t, engine.Config{BulkThreshold: -1}, m)
	r.accept("contact", contact("bad", "Bad", "not-an-email", 99))
	r.drain()
	if st := r.status("contact", "bad"); st.State != forcesync.StateHeld {
		t.Fatalf("bad: %+v; want held", st)
	}
	// good is in the source but was never queued for the mapping.
	if _, err := r.store.Accept(ctx, nil, []forcesync.Change{{Source: "contact", Key: "good", Fields: map[string]any{"last_name": "Good", "score": 70.0}}}); err != nil {
		t.Fatal(err)
	}
	rc := r.reconciler(m)
	run, fs, err := rc.Reconcile(ctx, m.Name, engine.ReconcileOptions{Heal: true})
	if err != nil {
		t.Fatal(err)
	}
	bad, good := findingOf(fs, "bad", forcesync.DriftNeverSynced), findingOf(fs, "good", forcesync.DriftNeverSynced)
	if bad == nil || good == nil || bad.Healed || good.Healed || run.Healed != 0 || run.Queued != 2 ||
		!strings.HasSuffix(bad.Detail, "; "+engine.HealQueued) || !strings.HasSuffix(good.Detail, "; "+engine.HealQueued) {
		t.Fatalf("heal: run %+v findings %+v; want both queued, none healed", run, fs)
	}
	stored, err := r.store.Findings(ctx, run.ID)
	if err != nil || len(stored) != 2 || stored[0].Healed || stored[1].Healed {
		t.Fatalf("stored findings %+v %v; want none healed", stored, err)
	}
	r.drain()
	if st := r.status("contact", "bad"); st.State != forcesync.StateHeld {
		t.Fatalf("bad after the drain: %+v; want held again", st)
	}
	if st := r.status("contact", "good"); st.State != forcesync.StateSynced {
		t.Fatalf("good after the drain: %+v; want synced", st)
	}
	_, fs, err = rc.Reconcile(ctx, m.Name, engine.ReconcileOptions{})
	if err != nil || len(fs) != 1 || fs[0].Key != "bad" || fs[0].Kind != forcesync.DriftNeverSynced || !strings.Contains(fs[0].Detail, "held") {
		t.Fatalf("after the drain: %+v %v; want bad never synced (held)", fs, err)
	}
}
