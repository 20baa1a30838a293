package pull_test

import (
	"testing"

	"github.com/forcesync/forcesync"
)

// TestDeletesAndMerges: a delete in Salesforce unbinds the record and
// marks the source record deleted; a merge into an unbound survivor moves
// the binding (the key follows the record); a merge into a bound survivor
// unbinds the loser and names the survivor's key.
func TestDeletesAndMerges(t *testing.T) {
	r := newRig(t, leadsBoth(forcesync.NewestWins))
	p := r.puller(nil)
	for _, k := range []string{"del", "loser1", "loser2", "keeper"} {
		r.accept(k, map[string]any{"last": k, "company": "C"})
	}
	r.drain()
	r.poll(p)
	free, err := r.emu.Seed("Lead", []map[string]any{{"LastName": "Free", "Company": "C"}})
	if err != nil {
		t.Fatal(err)
	}
	r.poll(p) // binds the Salesforce-born record as sf:<Id>
	if b, _ := r.store.Binding(t.Context(), "leads", "sf:"+free[0]); b == nil {
		t.Fatalf("Salesforce-born record not bound")
	}
	after := r.changes(0)[len(r.changes(0))-1].Seq

	if err := r.emu.DeleteAs("Lead", r.sfID("del")); err != nil {
		t.Fatal(err)
	}
	// loser1 into the unbound... make an unbound survivor first.
	survivor, err := r.emu.Seed("Lead", []map[string]any{{"LastName": "Survivor", "Company": "C"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.emu.MergeRecords("Lead", survivor[0], []string{r.sfID("loser1")}, nil); err != nil {
		t.Fatal(err)
	}
	if err := r.emu.MergeRecords("Lead", r.sfID("keeper"), []string{r.sfID("loser2")}, nil); err != nil {
		t.Fatal(err)
	}
	st := r.poll(p)
	if st.Deleted != 1 || st.Merged != 2 {
		t.Fatalf("stats %+v", st)
	}
	if b, _ := r.store.Binding(t.Context(), "leads", "del"); b != nil {
		t.Fatalf("deleted record still bound: %+v", b)
	}
	if !r.src("del").Deleted {
		t.Fatalf("source record of a Salesforce delete not deleted")
	}
	if got := r.sfID("loser1"); got != survivor[0] {
		t.Fatalf("loser1 bound to %s, want the survivor %s", got, survivor[0])
	}
	if b, _ := r.store.Binding(t.Context(), "leads", "sf:"+survivor[0]); b != nil {
		t.Fatalf("survivor bound twice: %+v", b)
	}
	if b, _ := r.store.Binding(t.Context(), "leads", "loser2"); b != nil || !r.src("loser2").Deleted {
		t.Fatalf("loser2 merged into a bound record: still bound %+v", b)
	}
	ops := map[string]forcesync.PulledChange{}
	for _, ev := range r.changes(after) {
		ops[ev.Key+"/"+string(ev.Op)] = ev
	}
	if _, ok := ops["del/delete"]; !ok {
		t.Fatalf("no delete event: %+v", ops)
	}
	if ev := ops["loser1/merge"]; ev.MergedInto != "loser1" {
		t.Fatalf("loser1 merge event %+v", ev)
	}
	if ev := ops["loser2/merge"]; ev.MergedInto != "keeper" {
		t.Fatalf("loser2 merge event %+v", ev)
	}
	// The app's next change of loser1 updates the survivor: no twin.
	r.accept("loser1", map[string]any{"last": "loser1", "company": "New"})
	r.drain()
	if got := r.sf(survivor[0], "Company"); got != "New" {
		t.Fatalf("survivor not updated through the moved binding: %v", got)
	}
}

// TestConflictPolicies: both sides change Phone before a pull; each
// policy picks its winner, records the conflict, and both sides end equal
// with no further calls.
func TestConflictPolicies(t *testing.T) {
	for _, tc := range []struct {
		policy     forcesync.ConflictPolicy
		appLater   bool
		wantWinner string
	}{
		{forcesync.AppWins, false, "app"},
		{forcesync.SalesforceWins, true, "salesforce"},
		{forcesync.NewestWins, false, "salesforce"},
	} {
		t.Run(string(tc.policy), func(t *testing.T) {
			r := newRig(t, leadsBoth(tc.policy))
			p := r.puller(nil)
			r.accept("k", map[string]any{"last": "L", "company": "C", "phone": "1"})
			r.drain()
			r.poll(p)
			id := r.sfID("k")
			// The app's change waits (accepted, not pushed) while a rep edits.
			r.accept("k", map[string]any{"last": "L", "company": "C", "phone": "app"})
			if err := r.emu.UpdateAs("Lead", id, map[string]any{"Phone": "sf"}); err != nil {
				t.Fatal(err)
			}
			if tc.appLater {
				r.accept("k", map[string]any{"last": "L", "company": "C", "phone": "app"})
			}
			st := r.poll(p)
			if st.Conflicts != 1 {
				t.Fatalf("stats %+v", st)
			}
			cfs, err := r.store.Conflicts(t.Context(), "leads", "k")
			if err != nil || len(cfs) != 1 || cfs[0].Winner != tc.wantWinner || cfs[0].Field != "Phone" || cfs[0].Policy != tc.policy {
				t.Fatalf("conflicts %+v %v", cfs, err)
			}
			r.drain()
			r.poll(p)
			want := "app"
			if tc.wantWinner == "salesforce" {
				want = "sf"
			}
			if got := r.sf(id, "Phone"); got != want {
				t.Fatalf("Salesforce holds %v, want %s", got, want)
			}
			if got := r.src("k").Fields["phone"]; got != want {
				t.Fatalf("source holds %v, want %s", got, want)
			}
			before := r.calls()
			r.drain()
			r.poll(p)
			r.drain()
			if d := r.calls() - before; d != 1 {
				t.Fatalf("settled, yet %d calls (want the one idle poll)", d)
			}
		})
	}
}
