package pull_test

import (
	"context"
	"testing"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/engine"
)

// TestPollWhileAPushMatchesARepsLeadByEmail: a rep creates a Lead with
// the Email of an app record k that has no Salesforce record yet, and k's
// push, matching by Email, finds that Lead and binds k to it. A poll reads
// the Lead while it is unbound and commits before the push records its
// binding: the Lead is k's all the same. The poll leaves it for later
// (deferred); the poll after the push takes it as k's: one binding under
// k, no sf:<Id> twin in the app, the rep's Phone (the app has none, so the
// push left it) arriving as a change of k, the app's other values in
// Salesforce.
func TestPollWhileAPushMatchesARepsLeadByEmail(t *testing.T) {
	app := map[string]any{"last": "Ada", "company": "Acme", "email": "ada@x.test"}
	seedRep := func(r *rig) string {
		ids, err := r.emu.Seed("Lead", []map[string]any{{"LastName": "Lovelace", "Company": "Rep Co", "Email": "ADA@x.test", "Phone": "222"}})
		if err != nil {
			r.t.Fatal(err)
		}
		return ids[0]
	}
	check := func(r *rig, id string) {
		r.t.Helper()
		r.oneBinding(id, "k")
		if got := r.src("k").Fields; got["phone"] != "222" || got["last"] != "Ada" || got["company"] != "Acme" {
			r.t.Fatalf("k in the app: %+v, want the rep's phone and its own other values", got)
		}
		lead := r.Query("SELECT Id, LastName, Company, Phone FROM Lead WHERE Id = '" + id + "'")
		if len(lead) != 1 || lead[0]["LastName"] != "Ada" || lead[0]["Company"] != "Acme" || lead[0]["Phone"] != "222" {
			r.t.Fatalf("the Lead in Salesforce: %v", lead)
		}
	}
	t.Run("push in flight", func(t *testing.T) {
		r := newRig(t, leadsByEmail())
		id := seedRep(r)
		held := &heldComplete{Store: r.store, completing: make(chan struct{}), release: make(chan struct{})}
		eng, err := engine.New(t.Context(), held, r.API, []forcesync.Mapping{r.m}, engine.Config{Workers: 1})
		if err != nil {
			t.Fatal(err)
		}
		r.accept("k", app)
		pushed := make(chan error, 1)
		go func() { _, err := eng.Drain(context.Background()); pushed <- err }()
		select {
		case <-held.completing:
		case err := <-pushed:
			t.Fatalf("the push ended before recording its answer: %v", err)
		}
		t.Cleanup(func() {
			select {
			case <-held.release:
			default:
				close(held.release)
			}
		})
		if got := r.sf(id, "Company"); got != "Acme" {
			t.Fatalf("the push did not update the rep's Lead: Company %v", got)
		}
		if st := r.poll(r.puller(nil)); st.Created != 0 || st.Deferred != 1 {
			t.Fatalf("poll while the push binds %s: %+v, want it deferred", id, st)
		}
		r.settle(held, pushed)
		if st := r.poll(r.puller(nil)); st.Deferred != 0 || st.Created != 0 || st.Changed != 1 {
			t.Fatalf("poll after the push settled: %+v, want %s read again as k's, its Phone a change", st, id)
		}
		check(r, id)
	})
	t.Run("push queued", func(t *testing.T) {
		r := newRig(t, leadsByEmail())
		id := seedRep(r)
		r.accept("k", app)
		if st := r.poll(r.puller(nil)); st.Created != 0 || st.Deferred != 1 {
			t.Fatalf("poll while k waits for its push: %+v, want %s deferred", st, id)
		}
		r.drain()
		if st := r.poll(r.puller(nil)); st.Deferred != 0 || st.Created != 0 || st.Changed != 1 {
			t.Fatalf("poll after the push: %+v, want %s read again as k's, its Phone a change", st, id)
		}
		check(r, id)
	})
}
