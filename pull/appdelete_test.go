package pull_test

import (
	"testing"

	"github.com/forcesync/forcesync"
)

// TestEditOfARecordTheAppDeleted: the app deletes a record of a two-way
// mapping whose remove action leaves Salesforce alone (ignore, the
// default), and a rep then edits the record in Salesforce. The record
// comes back to the app whole: the source record and the event hold every
// pulled field as Salesforce has it, not the edited field alone with the
// others empty.
func TestEditOfARecordTheAppDeleted(t *testing.T) {
	r := newRig(t, leadsBoth(forcesync.NewestWins))
	p := r.puller(nil)
	r.accept("k", map[string]any{"last": "Lovelace", "company": "ACME", "phone": "111"})
	r.drain()
	r.poll(p)
	id := r.sfID("k")
	r.Accept("client", forcesync.Change{Key: "k", Op: forcesync.OpDelete})
	r.drain()
	if !r.src("k").Deleted {
		t.Fatal("the app's delete was not stored")
	}
	if got := r.sf(id, "LastName"); got != "Lovelace" {
		t.Fatalf("remove action ignore changed Salesforce: LastName %v", got)
	}
	after := int64(0)
	if evs := r.changes(0); len(evs) > 0 {
		after = evs[len(evs)-1].Seq
	}
	if err := r.emu.UpdateAs("Lead", id, map[string]any{"Title": "CTO"}); err != nil {
		t.Fatal(err)
	}
	r.poll(p)
	want := map[string]any{"last": "Lovelace", "company": "ACME", "phone": "111", "title": "CTO"}
	rec := r.src("k")
	for f, v := range want {
		if rec.Deleted || rec.Fields[f] != v {
			t.Fatalf("source record %+v (deleted %v): %s is %v, want %v", rec.Fields, rec.Deleted, f, rec.Fields[f], v)
		}
	}
	evs := r.changes(after)
	if len(evs) != 1 {
		t.Fatalf("events %+v", evs)
	}
	for f, v := range want {
		if evs[0].Fields[f] != v {
			t.Fatalf("event fields %+v: %s is %v, want %v (Salesforce's value)", evs[0].Fields, f, evs[0].Fields[f], v)
		}
	}
	// Nothing to push back: Salesforce holds the record as it came.
	r.drain()
	if got := r.sf(id, "LastName"); got != "Lovelace" {
		t.Fatalf("LastName %v after the push", got)
	}
}

// TestPulledEditKeepsTheAppsVersions: an application numbering its own
// changes (1, 2, 3...) sends its next change after Salesforce's edit came
// back with the next number. The pull must not have taken that number:
// the change is accepted, not ignored as old, and reaches Salesforce.
func TestPulledEditKeepsTheAppsVersions(t *testing.T) {
	r := newRig(t, leadsBoth(forcesync.NewestWins))
	p := r.puller(nil)
	r.Accept("client", forcesync.Change{Key: "k", Version: 10, Fields: map[string]any{"last": "L", "company": "C", "phone": "111"}})
	r.drain()
	r.poll(p)
	id := r.sfID("k")
	if err := r.emu.UpdateAs("Lead", id, map[string]any{"Title": "CTO"}); err != nil {
		t.Fatal(err)
	}
	if st := r.poll(p); st.Changed != 1 || r.src("k").Fields["title"] != "CTO" {
		t.Fatalf("rep's edit not pulled: %+v %+v", st, r.src("k"))
	}
	res, err := r.store.Accept(t.Context(), r.eng.MappingsFor("client"), []forcesync.Change{{Source: "client", Key: "k", Version: 11,
		Fields: map[string]any{"last": "L", "company": "C", "phone": "222", "title": "CTO"}}})
	if err != nil || len(res) != 1 || res[0].Ignored {
		t.Fatalf("the app's version 11 after a pulled edit: %+v %v", res, err)
	}
	r.drain()
	if got := r.sf(id, "Phone"); got != "222" {
		t.Fatalf("the app's change did not reach Salesforce: Phone %v", got)
	}
	if rec := r.src("k"); rec.Version != 11 || rec.Fields["phone"] != "222" || rec.Fields["title"] != "CTO" {
		t.Fatalf("source record %+v", rec)
	}
}
