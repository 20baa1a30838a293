package engine_test

import (
	"database/sql"
	"fmt"
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

// spoil writes fields (JSON text) straight into the stored record
// source/key, past every door, as data stored by an older release.
func (r *rig) spoil(source, key, fields string) {
	r.t.Helper()
	db, err := sql.Open("sqlite", "file:"+r.Path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		r.t.Fatal(err)
	}
	defer db.Close()
	res, err := db.Exec(`UPDATE source_records SET fields = ? WHERE source = ? AND key = ?`, fields, source, key)
	if n, _ := res.RowsAffected(); err != nil || n != 1 {
		r.t.Fatalf("spoil %s/%s: %d rows, %v", source, key, n, err)
	}
}

// TestReconcileReportsUnreadableRecords: a bound record and an unbound one
// whose stored fields cannot be read back are reported as unreadable,
// naming the field, instead of failing the reconcile; they are neither
// missing nor never synced, and a heal leaves their Salesforce records be.
func TestReconcileReportsUnreadableRecords(t *testing.T) {
	ctx := t.Context()
	leads := leadByExtID()
	r := newRig(t, engine.Config{BulkThreshold: -1}, leads)
	r.accept("contact",
		contact("a", "Alpha", "a@example.com", 60),
		contact("b", "Bravo", "b@example.com", 60),
		contact("c", "Charlie", "c@example.com", 60))
	r.drain()
	bID := r.status("contact", "b").SalesforceID
	r.accept("contact", contact("d", "Delta", "d@example.com", 60))
	r.spoil("contact", "d", `{"last_name":"Delta","email":"d@example.com","score":60,"income":1e400}`)
	r.drain() // d: held, never bound
	r.spoil("contact", "b", `{"last_name":"Bravo","email":"b@example.com","score":60,"income":-2e999}`)

	for _, heal := range []bool{false, true} {
		run, fs, err := r.reconciler(leads).Reconcile(ctx, leads.Name, engine.ReconcileOptions{Heal: heal})
		if err != nil {
			t.Fatalf("reconcile (heal %v) with unreadable records: %v", heal, err)
		}
		if len(fs) != 2 || run.Counts[forcesync.DriftUnreadable] != 2 || len(run.Counts) != 1 || run.Healed != 0 {
			t.Fatalf("heal %v: run %+v, findings %+v; want b and d unreadable only", heal, run, fs)
		}
		for i, want := range []struct{ key, id, field string }{{"b", bID, "income holds -2e999"}, {"d", "", "income holds 1e400"}} {
			f := fs[i]
			if f.Key != want.key || f.Kind != forcesync.DriftUnreadable || f.SalesforceID != want.id ||
				!strings.Contains(f.Detail, want.field) || f.Healed {
				t.Fatalf("heal %v: finding %d %+v, want %s unreadable naming %q", heal, i, f, want.key, want.field)
			}
		}
	}
	leadsNow := r.query("SELECT Id, LastName FROM Lead ORDER BY Forcesync_Key__c")
	if len(leadsNow) != 3 || leadsNow[1].ID() != bID || leadsNow[1]["LastName"] != "Bravo" {
		t.Fatalf("leads after the heal %v, want a, b (untouched) and c", leadsNow)
	}
	if n, _ := r.store.Backlog(ctx, leads.Name); n != 0 {
		t.Fatalf("the heal queued %d records", n)
	}
}

// TestNarrowedScopeLeavesUnreadableRecords: a config change narrows a
// mapping's filter; a bound record whose stored fields cannot be read is
// neither removed nor counted by the sweep (whether it falls out cannot
// be told), the log says so, and the records that do fall out are removed.
func TestNarrowedScopeLeavesUnreadableRecords(t *testing.T) {
	m := lifecycleMapping("Lead", forcesync.Operations{Delete: forcesync.DeleteDelete})
	r := newRig(t, engine.Config{Workers: 1}, m)
	for i, tier := range []string{"gold", "silver", "silver"} {
		r.accept("person", forcesync.Change{Key: fmt.Sprint("p", i), Fields: map[string]any{"last": "L", "scope": true, "tier": tier}})
	}
	r.drain()
	r.spoil("person", "p2", `{"last":"L","scope":true,"tier":"silver","n":1e400}`)
	narrow := m
	narrow.Filter = `scope == true && tier == "gold"`
	log := &syncBuffer{}
	r.restart(log, narrow)
	if gs := r.guardState(m.Name); gs.Paused || gs.Count != 1 {
		t.Fatalf("guard after the narrowing %+v, want p1 counted, not p2", gs)
	}
	if !strings.Contains(log.String(), "cannot be read") || !strings.Contains(log.String(), "keys=p2") {
		t.Fatalf("log does not name the unreadable record:\n%s", log)
	}
	r.drain()
	if st := r.statusOf(m.Name, "p2"); st.State != forcesync.StateSynced || st.SalesforceID == "" {
		t.Fatalf("p2 %+v, want left synced", st)
	}
	if st := r.statusOf(m.Name, "p1"); st.State != forcesync.StateDeleted {
		t.Fatalf("p1 %+v, want deleted", st)
	}
	if n := len(r.query("SELECT Id FROM Lead")); n != 2 {
		t.Fatalf("%d leads, want p0's and p2's", n)
	}
}

// TestBindSkipsUnreadableRecords: an unbound record whose stored fields
// cannot be read is reported unreadable with the reason, is not bound,
// and does not stop the others from binding.
func TestBindSkipsUnreadableRecords(t *testing.T) {
	ctx := t.Context()
	r := newRig(t, engine.Config{BulkThreshold: -1}, contactsByEmail(0))
	if _, err := r.emu.Seed("Contact", []map[string]any{
		{"LastName": "One", "Email": "one@example.com"},
		{"LastName": "Two", "Email": "two@example.com"},
	}); err != nil {
		t.Fatal(err)
	}
	r.accept("idp_user",
		forcesync.Change{Key: "k1", Fields: map[string]any{"last": "One", "email": "one@example.com"}},
		forcesync.Change{Key: "k2", Fields: map[string]any{"last": "Two", "email": "two@example.com"}})
	r.spoil("idp_user", "k2", `{"last":"Two","email":"two@example.com","n":1e400}`)
	rep, err := r.Eng.Bind(ctx, "idp_to_contacts", engine.BindOptions{})
	if err != nil {
		t.Fatalf("bind with an unreadable record: %v", err)
	}
	if rep.Counts[engine.BindLink] != 1 || rep.Counts[engine.BindUnreadable] != 1 || rep.Bound != 1 || len(rep.Records) != 2 {
		t.Fatalf("report %+v", rep)
	}
	if rec := rep.Records[1]; rec.Key != "k2" || rec.Action != engine.BindUnreadable || !strings.Contains(rec.Reason, "n holds 1e400") {
		t.Fatalf("unreadable record %+v", rec)
	}
	if b, err := r.store.Binding(ctx, "idp_to_contacts", "k2"); err != nil || b != nil {
		t.Fatalf("binding of the unreadable record %+v %v", b, err)
	}
}
