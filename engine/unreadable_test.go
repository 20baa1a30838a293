package engine_test

import (
	"database/sql"
	"strings"
	"testing"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/engine"
)

// TestUnreadableRecordHeldOthersFlow: a record stored with a number the
// store cannot read back (1e400, accepted before the doors refused it)
// is held with its field named, the mapping's other records are pushed,
// and a new change of the record pushes it as for any held record.
func TestUnreadableRecordHeldOthersFlow(t *testing.T) {
	r := newRig(t, engine.Config{BulkThreshold: -1}, leadByExtID())
	r.accept("contact",
		contact("a", "Alpha", "a@example.com", 60),
		contact("b", "Bravo", "b@example.com", 60),
		contact("c", "Charlie", "c@example.com", 60))
	db, err := sql.Open("sqlite", "file:"+r.Path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`UPDATE source_records SET fields = ? WHERE source = 'contact' AND key = 'b'`,
		`{"last_name":"Bravo","email":"b@example.com","score":60,"income":1e400}`); err != nil {
		t.Fatal(err)
	}

	r.drain()
	leads := r.query("SELECT Id, LastName, Forcesync_Key__c FROM Lead ORDER BY Forcesync_Key__c")
	if len(leads) != 2 || leads[0]["Forcesync_Key__c"] != "a" || leads[1]["Forcesync_Key__c"] != "c" {
		t.Fatalf("leads %v, want a and c", leads)
	}
	st := r.status("contact", "b")
	if st.State != forcesync.StateHeld || st.Error == nil || st.Error.Code != forcesync.CodeUnreadableRecord ||
		!strings.Contains(st.Error.Message, "income") || len(st.Error.Fields) != 1 || st.Error.Fields[0] != "income" {
		t.Fatalf("status of the unreadable record %+v (error %+v)", st, st.Error)
	}
	if n, _ := r.store.Backlog(t.Context(), "contacts_to_leads"); n != 0 {
		t.Fatalf("backlog %d after drain", n)
	}

	r.accept("contact", contact("b", "Bravo", "b@example.com", 60))
	r.drain()
	if st := r.status("contact", "b"); st.State != forcesync.StateSynced {
		t.Fatalf("after a new change: %+v", st)
	}
	if got := r.query("SELECT Id FROM Lead WHERE Forcesync_Key__c = 'b'"); len(got) != 1 {
		t.Fatalf("lead b %v", got)
	}
}
