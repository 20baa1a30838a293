package pull_test

import (
	"testing"

	"github.com/forcesync/forcesync"
)

// TestSalesRepEditComesBack: an edit in Salesforce reaches the source
// record and the changes feed; it is not pushed back; an idle poll costs
// one query call; forcesync's own push comes back as an echo, unseen.
func TestSalesRepEditComesBack(t *testing.T) {
	r := newRig(t, leadsBoth(forcesync.NewestWins))
	p := r.puller(nil)
	r.accept("k1", map[string]any{"last": "Ada", "company": "ACME", "phone": "111"})
	r.drain()
	id := r.sfID("k1")

	// The first poll sees forcesync's own create: an echo.
	st := r.poll(p)
	if st.Echoes != 1 || st.Changed != 0 || len(r.changes(0)) != 0 {
		t.Fatalf("own push delivered: %+v %+v", st, r.changes(0))
	}
	if err := r.emu.UpdateAs("Lead", id, map[string]any{"Phone": "222", "Title": "CTO"}); err != nil {
		t.Fatal(err)
	}
	st = r.poll(p)
	if st.Changed != 1 {
		t.Fatalf("rep edit not pulled: %+v", st)
	}
	rec := r.src("k1")
	if rec.Fields["phone"] != "222" || rec.Fields["title"] != "CTO" || rec.Fields["last"] != "Ada" {
		t.Fatalf("source record: %+v", rec.Fields)
	}
	evs := r.changes(0)
	if len(evs) != 1 || evs[0].Key != "k1" || evs[0].Fields["phone"] != "222" || len(evs[0].Changed) != 2 {
		t.Fatalf("changes: %+v", evs)
	}
	// Not pushed back: the queued push settles without a call.
	before := r.calls()
	r.drain()
	if d := r.calls() - before; d != 0 {
		t.Fatalf("pulled edit pushed back: %d calls", d)
	}
	// Idle: one query call, nothing new.
	before = r.calls()
	if st := r.poll(p); st.Read != 0 {
		t.Fatalf("idle poll did something: %+v", st)
	}
	if d := r.calls() - before; d != 1 {
		t.Fatalf("idle poll cost %d calls, want 1", d)
	}
	// The app changes the phone: pushed once, and its echo is not delivered.
	r.accept("k1", map[string]any{"last": "Ada", "company": "ACME", "phone": "333", "title": "CTO"})
	r.drain()
	if got := r.sf(id, "Phone"); got != "333" {
		t.Fatalf("app change not pushed: %v", got)
	}
	st = r.poll(p)
	if st.Changed != 0 || st.Echoes != 1 || len(r.changes(evs[0].Seq)) != 0 {
		t.Fatalf("echo delivered: %+v %+v", st, r.changes(evs[0].Seq))
	}
}
