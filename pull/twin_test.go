package pull_test

import (
	"testing"

	"github.com/forcesync/forcesync"
)

// TestSalesforceBornRecordHasNoTwin: a Lead created in Salesforce under a
// two-way External ID mapping reaches the app as sf:<Id>, and its External
// ID field gets that key at once; when the app then sends the record back
// under the key it was given (the adopt rule), the push updates that Lead:
// no twin, and no echo delivered back.
func TestSalesforceBornRecordHasNoTwin(t *testing.T) {
	r := newRig(t, leadsBoth(forcesync.NewestWins))
	p := r.puller(nil)
	ids, err := r.emu.Seed("Lead", []map[string]any{{"LastName": "Born", "Company": "C", "Phone": "555-1"}})
	if err != nil {
		t.Fatal(err)
	}
	key := "sf:" + ids[0]
	st := r.poll(p)
	if st.Created != 1 || st.Stamped != 1 {
		t.Fatalf("stats %+v, want one record created and stamped", st)
	}
	if got := r.sf(ids[0], "Forcesync_Key__c"); got != key {
		t.Fatalf("External ID %v, want %s", got, key)
	}
	if st := r.poll(p); st.Created != 0 || st.Changed != 0 {
		t.Fatalf("the stamp came back as a change: %+v", st)
	}
	r.drain()
	src := r.src(key)
	fields := cloneMap(src.Fields)
	fields["phone"] = "555-app"
	r.accept(key, fields)
	r.drain()
	leads := r.Query("SELECT Id, Phone, Forcesync_Key__c FROM Lead")
	if len(leads) != 1 || leads[0].ID() != ids[0] || leads[0]["Phone"] != "555-app" {
		t.Fatalf("Leads after the app's edit of %s: %v", key, leads)
	}
	evs := r.changes(0)
	r.poll(p)
	if n := len(r.changes(0)) - len(evs); n != 0 {
		t.Fatalf("the app's own push came back as %d events", n)
	}
}
