package engine_test

import (
	"context"
	"testing"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/engine"
)

// TestBindPreExistingRecords: before a match-by-email mapping's first run,
// Bind lists which source records have their Contact already (link), which
// have none (create) and which cannot be told apart (several Contacts with
// the email, or one Contact two source records match); the dry run writes
// nothing, the real one binds the links, and the push that follows updates
// the linked Contact instead of creating a twin.
func TestBindPreExistingRecords(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, engine.Config{BulkThreshold: -1}, contactsByEmail(0))
	ids, err := r.emu.Seed("Contact", []map[string]any{
		{"LastName": "Old One", "Email": "one@example.com"},
		{"LastName": "Dup A", "Email": "dup@example.com"},
		{"LastName": "Dup B", "Email": "DUP@example.com"},
		{"LastName": "Shared", "Email": "shared@example.com"},
	})
	if err != nil {
		t.Fatal(err)
	}
	r.accept("idp_user",
		forcesync.Change{Key: "k1", Fields: map[string]any{"last": "One", "email": "One@example.com"}},
		forcesync.Change{Key: "k2", Fields: map[string]any{"last": "Dup", "email": "dup@example.com"}},
		forcesync.Change{Key: "k3", Fields: map[string]any{"last": "New", "email": "new@example.com"}},
		forcesync.Change{Key: "k4", Fields: map[string]any{"last": "S4", "email": "shared@example.com"}},
		forcesync.Change{Key: "k5", Fields: map[string]any{"last": "S5", "email": "shared@example.com"}},
		forcesync.Change{Key: "k6", Fields: map[string]any{"last": "NoMail"}},
	)
	before := r.calls()
	rep, err := r.Eng.Bind(ctx, "idp_to_contacts", engine.BindOptions{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := r.calls() - before; got != 1 || rep.APICalls != 1 {
		t.Fatalf("dry run took %d calls (reported %d), want one lookup query", got, rep.APICalls)
	}
	want := map[string]string{"k1": engine.BindLink, "k2": engine.BindAmbiguous, "k3": engine.BindCreate,
		"k4": engine.BindAmbiguous, "k5": engine.BindAmbiguous, "k6": engine.BindCreate}
	for _, rec := range rep.Records {
		if rec.Action != want[rec.Key] {
			t.Errorf("%s: %s (%v %s), want %s", rec.Key, rec.Action, rec.SalesforceIDs, rec.Reason, want[rec.Key])
		}
		if rec.Key == "k1" && (len(rec.SalesforceIDs) != 1 || rec.SalesforceIDs[0] != ids[0]) {
			t.Errorf("k1 linked to %v, want %s", rec.SalesforceIDs, ids[0])
		}
		if rec.Action == engine.BindAmbiguous && rec.Reason == "" {
			t.Errorf("%s: ambiguous without a reason", rec.Key)
		}
	}
	if len(rep.Records) != 6 || rep.Counts[engine.BindLink] != 1 || rep.Counts[engine.BindCreate] != 2 || rep.Counts[engine.BindAmbiguous] != 3 || rep.Bound != 0 {
		t.Fatalf("dry run report %+v", rep)
	}
	if b, _ := r.store.Binding(ctx, "idp_to_contacts", "k1"); b != nil {
		t.Fatalf("a dry run bound k1: %+v", b)
	}

	rep, err = r.Eng.Bind(ctx, "idp_to_contacts", engine.BindOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Bound != 1 {
		t.Fatalf("bound %d, want 1", rep.Bound)
	}
	if b, _ := r.store.Binding(ctx, "idp_to_contacts", "k1"); b == nil || b.SalesforceID != ids[0] {
		t.Fatalf("k1's binding %+v, want %s", b, ids[0])
	}
	// A second run finds k1 bound: nothing left to link.
	if rep, err = r.Eng.Bind(ctx, "idp_to_contacts", engine.BindOptions{DryRun: true}); err != nil || rep.Counts[engine.BindLink] != 0 || len(rep.Records) != 5 {
		t.Fatalf("after binding: %+v %v", rep, err)
	}
	r.drain()
	got := r.query("SELECT Id, LastName FROM Contact WHERE Id = '" + ids[0] + "'")
	if len(got) != 1 || got[0]["LastName"] != "One" {
		t.Fatalf("the linked Contact %v was not updated", got)
	}
	if n := len(r.query("SELECT Id FROM Contact WHERE Email = 'one@example.com'")); n != 1 {
		t.Fatalf("%d Contacts with k1's email after the push, want 1", n)
	}

	if _, err := r.Eng.Bind(ctx, "nope", engine.BindOptions{}); forcesync.ErrorCode(err) != forcesync.ENotFound {
		t.Fatalf("unknown mapping: %v", err)
	}
}
