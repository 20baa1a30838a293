package pull_test

import (
	"runtime"
	"testing"
	"time"

	"github.com/forcesync/forcesync"
)

// TestPushDoesNotOverwriteUnpulledEdit: a rep changes a two-way field in
// Salesforce and the app changes the same field before the next poll. The
// app's push must not silently overwrite the rep's edit: under
// salesforce_wins and newest_wins the push holds the field back (one read
// per batch tells it) and the next poll settles the conflict by policy and
// records it; under app_wins the push sends it, as the policy says.
// Either way both sides end equal. Under newest_wins the app's change,
// made after the rep's, wins: it is judged against the SystemModstamp the
// push read, not the later one the push's own write (of the app's other
// fields) gave the record.
func TestPushDoesNotOverwriteUnpulledEdit(t *testing.T) {
	for _, tc := range []struct {
		policy forcesync.ConflictPolicy
		want   string // the value both sides end with; "" for either
	}{
		{forcesync.SalesforceWins, "555-rep"},
		{forcesync.AppWins, "555-app"},
		{forcesync.NewestWins, "555-app"}, // the app's change is the later one
	} {
		t.Run(string(tc.policy), func(t *testing.T) {
			r := newRig(t, leadsBoth(tc.policy))
			p := r.puller(nil)
			r.accept("k", map[string]any{"last": "K", "company": "C", "phone": "555-0"})
			r.drain()
			r.poll(p)
			id := r.sfID("k")
			if err := r.emu.UpdateAs("Lead", id, map[string]any{"Phone": "555-rep"}); err != nil {
				t.Fatal(err)
			}
			// The app's change comes a clock tick after the rep's edit.
			for edited := time.Now(); !time.Now().After(edited.Add(time.Millisecond)); {
				runtime.Gosched()
			}
			r.accept("k", map[string]any{"last": "K2", "company": "C", "phone": "555-app"})
			r.drain() // before the poll has read the rep's edit
			got := r.sf(id, "Phone")
			if tc.policy != forcesync.AppWins && got != "555-rep" {
				t.Fatalf("the push overwrote the rep's unpulled edit: Phone %v", got)
			}
			if tc.policy == forcesync.AppWins && got != "555-app" {
				t.Fatalf("app_wins: Phone %v, want the app's", got)
			}
			if r.sf(id, "LastName") != "K2" {
				t.Fatalf("the app's other change was held back too: LastName %v", r.sf(id, "LastName"))
			}
			// Settle: poll, push, until a round is idle.
			for range 4 {
				r.poll(p)
				r.drain()
			}
			app, sf := r.src("k").Fields["phone"], r.sf(id, "Phone")
			if app != sf || (tc.want != "" && sf != tc.want) {
				t.Fatalf("ended with app %v, Salesforce %v; want both %q", app, sf, tc.want)
			}
			cfs, err := r.store.Conflicts(t.Context(), "leads", "k")
			if err != nil {
				t.Fatal(err)
			}
			if tc.policy != forcesync.AppWins && (len(cfs) != 1 || cfs[0].Field != "Phone") {
				t.Fatalf("conflicts %+v, want one on Phone", cfs)
			}
			before := r.calls()
			r.poll(p)
			r.drain()
			if n := r.calls() - before; n != 1 {
				t.Fatalf("an idle round after settling took %d calls, want 1", n)
			}
		})
	}
}
