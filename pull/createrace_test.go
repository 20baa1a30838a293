package pull_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/emulator"
	"github.com/forcesync/forcesync/engine"
	"github.com/forcesync/forcesync/internal/testrig"
	"github.com/forcesync/forcesync/pull"
)

// pushHeldAtComplete accepts the app's record k (Email email) and starts a
// push of it whose Complete is held: it returns once the push created the
// Lead in Salesforce and has not recorded its answer. Closing the
// returned heldComplete's release lets the push commit; its outcome comes
// on the channel.
func (r *rig) pushHeldAtComplete(email string) (*heldComplete, <-chan error) {
	r.t.Helper()
	held := &heldComplete{Store: r.store, completing: make(chan struct{}), release: make(chan struct{})}
	eng, err := engine.New(r.t.Context(), held, r.API, []forcesync.Mapping{r.m}, engine.Config{Workers: 1})
	if err != nil {
		r.t.Fatal(err)
	}
	r.accept("k", map[string]any{"last": "Ada", "company": "Acme", "email": email, "phone": "111"})
	pushed := make(chan error, 1)
	go func() { _, err := eng.Drain(context.Background()); pushed <- err }()
	select {
	case <-held.completing:
	case err := <-pushed:
		r.t.Fatalf("the push ended before recording its answer: %v", err)
	}
	r.t.Cleanup(func() {
		select {
		case <-held.release:
		default:
			close(held.release)
		}
	})
	return held, pushed
}

// settle lets a push started by pushHeldAtComplete commit and waits for it.
func (r *rig) settle(held *heldComplete, pushed <-chan error) {
	r.t.Helper()
	close(held.release)
	if err := <-pushed; err != nil {
		r.t.Fatalf("push: %v", err)
	}
}

// TestPollCommitsWhileAPushCreatesByEmail: in a mapping matched by Email,
// a push creates the Lead of the app's key k, and a poll reads that Lead
// (unbound) and commits before the push records its answer. The Lead is
// k's: the poll leaves it for later instead of bringing it into the app as
// sf:<Id>, and the poll after the push reads it again, bound to k. One
// Lead, one binding under k, no twin in the app, no event under sf:<Id>.
func TestPollCommitsWhileAPushCreatesByEmail(t *testing.T) {
	r := newRig(t, leadsByEmail())
	held, pushed := r.pushHeldAtComplete("ada@x.test")
	leads := r.Query("SELECT Id FROM Lead WHERE Email = 'ada@x.test'")
	if len(leads) != 1 {
		t.Fatalf("Leads the push created: %v", leads)
	}
	id := leads[0].ID()
	if st := r.poll(r.puller(nil)); st.Created != 0 || st.Deferred != 1 {
		t.Fatalf("poll while the push creates %s: %+v, want it deferred", id, st)
	}
	r.settle(held, pushed)
	if st := r.poll(r.puller(nil)); st.Read != 1 || st.Deferred != 0 || st.Created != 0 {
		t.Fatalf("poll after the push settled: %+v, want %s read again as k's", st, id)
	}
	r.oneBinding(id, "k")
}

// TestRecordDeferredForACreateIsDeliveredWhenThePushSettles: while a push
// creates k's Lead (ada@x.test), a rep creates another Lead with the same
// Email in other case, and, seconds later, another with an Email of its
// own. The poll (one record a batch) defers both Leads with k's Email,
// the match ignoring case, and takes the third, without moving the
// watermark past the first two; the push then binds k to its own Lead,
// and the next poll reads both again: k's as k's, the rep's as a record
// created in Salesforce (sf:<Id>), sharing the Email.
func TestRecordDeferredForACreateIsDeliveredWhenThePushSettles(t *testing.T) {
	var mu sync.Mutex
	now := time.Now().UTC()
	m := leadsByEmail()
	tr := testrig.New(t, testrig.Options{Engine: engine.Config{Workers: 1},
		Emulator: emulator.Config{Now: func() time.Time { mu.Lock(); defer mu.Unlock(); return now }}}, m)
	r := &rig{Rig: tr, t: t, emu: tr.Emu, client: tr.Client, store: tr.Store, eng: tr.Eng, m: m, path: tr.Path, pstore: tr.Store}
	held, pushed := r.pushHeldAtComplete("ada@x.test")
	leads := r.Query("SELECT Id FROM Lead")
	if len(leads) != 1 {
		t.Fatalf("Leads the push created: %v", leads)
	}
	own := leads[0].ID()
	seed := func(rec map[string]any) string {
		ids, err := r.emu.Seed("Lead", []map[string]any{rec})
		if err != nil {
			t.Fatal(err)
		}
		return ids[0]
	}
	reps := seed(map[string]any{"LastName": "Ada", "Company": "Rep Co", "Email": "ADA@X.test", "Phone": "222"})
	mu.Lock()
	now = now.Add(3 * time.Second)
	mu.Unlock()
	bob := seed(map[string]any{"LastName": "Bob", "Company": "Rep Co", "Email": "bob@x.test", "Phone": "333"})
	batch1 := func(c *pull.Config) { c.Batch = 1 }
	if st := r.poll(r.puller(batch1)); st.Read != 3 || st.Deferred != 2 || st.Created != 1 {
		t.Fatalf("poll while the push creates: %+v, want two deferred and bob created", st)
	}
	if got := r.src("sf:" + bob).Fields["email"]; got != "bob@x.test" {
		t.Fatalf("bob's record in the app: email %v", got)
	}
	r.settle(held, pushed)
	if st := r.poll(r.puller(batch1)); st.Read != 2 || st.Deferred != 0 || st.Created != 1 {
		t.Fatalf("poll after the push settled: %+v, want both deferred Leads read again, the rep's created", st)
	}
	if got := r.sfID("k"); got != own {
		t.Fatalf("k bound to %s, want its own Lead %s", got, own)
	}
	if got := r.sfID("sf:" + reps); got != reps {
		t.Fatalf("the rep's Lead bound to %s", got)
	}
	if rec := r.src("sf:" + reps); rec.Fields["email"] != "ADA@X.test" || rec.Fields["company"] != "Rep Co" {
		t.Fatalf("the rep's Lead in the app: %+v", rec.Fields)
	}
	if rec, err := r.store.SourceRecord(t.Context(), r.m.Source, "sf:"+own); forcesync.ErrorCode(err) != forcesync.ENotFound {
		t.Fatalf("twin of k in the app: %+v %v", rec, err)
	}
	for _, ev := range r.changes(0) {
		if ev.SalesforceID == own && ev.Key != "k" {
			t.Fatalf("event of k's Lead under another key: %+v", ev)
		}
	}
	if st := r.poll(r.puller(batch1)); st.Read != 0 {
		t.Fatalf("a poll with nothing new read %+v", st)
	}
}

// TestSharedEmailCreatedInSalesforceArrives: a rep creates a Lead with the
// Email of an app record already bound to its own Lead, while no create
// is in flight (the app's record even has a change queued): the Lead is a
// record created in Salesforce, and reaches the app at once as sf:<Id>.
func TestSharedEmailCreatedInSalesforceArrives(t *testing.T) {
	r := newRig(t, leadsByEmail())
	r.accept("k", map[string]any{"last": "Ada", "company": "Acme", "email": "ada@x.test", "phone": "111"})
	r.drain()
	p := r.puller(nil)
	r.poll(p)
	own := r.sfID("k")
	r.accept("k", map[string]any{"last": "Ada", "company": "Acme", "email": "ada@x.test", "phone": "112"})
	ids, err := r.emu.Seed("Lead", []map[string]any{{"LastName": "Ada", "Company": "Rep Co", "Email": "ada@x.test", "Phone": "222"}})
	if err != nil {
		t.Fatal(err)
	}
	if st := r.poll(p); st.Created != 1 || st.Deferred != 0 {
		t.Fatalf("poll: %+v, want the rep's Lead created", st)
	}
	if got := r.sfID("sf:" + ids[0]); got != ids[0] {
		t.Fatalf("the rep's Lead bound to %s", got)
	}
	if got := r.src("sf:" + ids[0]).Fields["company"]; got != "Rep Co" {
		t.Fatalf("the rep's Lead in the app: company %v", got)
	}
	r.drain()
	if got := r.sfID("k"); got != own {
		t.Fatalf("k moved to %s from %s", got, own)
	}
}
