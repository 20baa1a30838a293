package pull_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/forcesync/forcesync"
)

// status is the key's status under the rig's mapping, as forcesync
// status, the console and the API show it.
func (r *rig) status(key string) forcesync.RecordStatus {
	r.t.Helper()
	sts, err := r.store.Statuses(r.t.Context(), r.m.Source, key)
	if err != nil {
		r.t.Fatal(err)
	}
	for _, st := range sts {
		if st.Mapping == r.m.Name {
			return st
		}
	}
	r.t.Fatalf("no status of %s under %s: %+v", key, r.m.Name, sts)
	return forcesync.RecordStatus{}
}

// undelete restores records from the recycle bin through the emulator's
// admin endpoint, as an admin would from the Recycle Bin tab.
func (r *rig) undelete(ids ...string) {
	r.t.Helper()
	body, _ := json.Marshal(map[string]any{"ids": ids})
	res, err := http.Post(r.URL+"/__emulator/undelete", "application/json", bytes.NewReader(body))
	if err != nil {
		r.t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNoContent {
		r.t.Fatalf("undelete %v: %s", ids, res.Status)
	}
}

// TestSalesforceDeleteSettlesTheStatus: a rep deletes a record of a
// two-way mapping in Salesforce. Once a poll sees it, the record's status
// says so (deleted, no Salesforce Id) instead of synced with an Id that
// is gone; the app's next change of the record creates it again, and the
// status names the new record.
func TestSalesforceDeleteSettlesTheStatus(t *testing.T) {
	r := newRig(t, leadsBoth(forcesync.NewestWins))
	p := r.puller(nil)
	r.accept("k", map[string]any{"last": "Lovelace", "company": "ACME", "phone": "111"})
	r.drain()
	r.poll(p)
	id := r.sfID("k")
	if st := r.status("k"); st.State != forcesync.StateSynced || st.SalesforceID != id {
		t.Fatalf("status before the delete %+v", st)
	}
	if err := r.emu.DeleteAs("Lead", id); err != nil {
		t.Fatal(err)
	}
	if st := r.poll(p); st.Deleted != 1 {
		t.Fatalf("poll %+v", st)
	}
	if st := r.status("k"); st.State != forcesync.StateDeleted || st.SalesforceID != "" || st.Error != nil {
		t.Fatalf("status after a delete in Salesforce: %+v (want deleted, no Salesforce Id)", st)
	}
	// The app's next change: no binding, so the push creates the record again.
	r.accept("k", map[string]any{"last": "Lovelace", "company": "ACME", "phone": "222"})
	r.drain()
	st := r.status("k")
	if st.State != forcesync.StateSynced || st.SalesforceID == "" || st.SalesforceID == id {
		t.Fatalf("status after the app's next change: %+v (want synced to a new record, not %s)", st, id)
	}
	if got := r.sf(st.SalesforceID, "Phone"); got != "222" {
		t.Fatalf("the record created again holds Phone %v", got)
	}
}

// TestSalesforceDeleteWithAChangeQueued: a change of the app waiting to
// be pushed when the delete is pulled keeps its pending state (its push
// decides), but the status no longer names the deleted record.
func TestSalesforceDeleteWithAChangeQueued(t *testing.T) {
	r := newRig(t, leadsBoth(forcesync.NewestWins))
	p := r.puller(nil)
	r.accept("k", map[string]any{"last": "L", "company": "C"})
	r.drain()
	r.poll(p)
	id := r.sfID("k")
	r.accept("k", map[string]any{"last": "L", "company": "C2"})
	if err := r.emu.DeleteAs("Lead", id); err != nil {
		t.Fatal(err)
	}
	r.poll(p)
	if st := r.status("k"); st.State != forcesync.StatePending || st.SalesforceID != "" {
		t.Fatalf("status with a change queued: %+v", st)
	}
}

// TestSalesforceDeleteUnderAnUpdateOnlyMapping: with operations.create
// false, the app's next change of a record deleted in Salesforce is
// skipped (the mapping may not create), not sent to the deleted Id.
func TestSalesforceDeleteUnderAnUpdateOnlyMapping(t *testing.T) {
	m := leadsBoth(forcesync.NewestWins)
	r := newRig(t, m)
	p := r.puller(nil)
	r.accept("k", map[string]any{"last": "L", "company": "C"})
	r.drain()
	r.poll(p)
	if err := r.emu.DeleteAs("Lead", r.sfID("k")); err != nil {
		t.Fatal(err)
	}
	r.poll(p)
	m.Operations.NoCreate = true
	r.useMapping(m)
	r.accept("k", map[string]any{"last": "L", "company": "C3"})
	r.drain()
	if st := r.status("k"); st.State != forcesync.StateSkipped || st.SalesforceID != "" {
		t.Fatalf("status of an update-only mapping's record deleted in Salesforce: %+v", st)
	}
	if n := len(r.Query("SELECT Id FROM Lead WHERE Company = 'C3'")); n != 0 {
		t.Fatalf("an update-only mapping created the record again (%d)", n)
	}
}

// TestRestoredRecordComesBackUnderItsKey: a mapping matched by a field
// (not by External ID, so the record carries no key of the app); a rep
// deletes a record in Salesforce, then restores it from the recycle bin.
// It comes back under its own key and binding, not as a new sf:<Id>
// record; a record restored after the app created it again is new.
func TestRestoredRecordComesBackUnderItsKey(t *testing.T) {
	m := leadsBoth(forcesync.NewestWins)
	m.Match = forcesync.MatchRule{Kind: forcesync.MatchFields, Fields: []string{"LastName"}}
	r := newRig(t, m)
	p := r.puller(nil)
	r.accept("k", map[string]any{"last": "Lovelace", "company": "ACME", "phone": "111"})
	r.accept("again", map[string]any{"last": "Hopper", "company": "Navy"})
	r.drain()
	r.poll(p)
	id, id2 := r.sfID("k"), r.sfID("again")
	for _, x := range []string{id, id2} {
		if err := r.emu.DeleteAs("Lead", x); err != nil {
			t.Fatal(err)
		}
	}
	r.poll(p)
	after := r.changes(0)[len(r.changes(0))-1].Seq
	// The app sends "again" anew: it is created again before the restore.
	r.accept("again", map[string]any{"last": "Hopper", "company": "Navy2"})
	r.drain()
	id3 := r.sfID("again")
	r.undelete(id, id2)
	st := r.poll(p)
	if st.Restored != 1 || st.Created != 1 {
		t.Fatalf("poll after the restore: %+v (want 1 restored, 1 created: the twin)", st)
	}
	if got := r.sfID("k"); got != id {
		t.Fatalf("k bound to %s after the restore, want %s", got, id)
	}
	if b, _ := r.store.Binding(t.Context(), m.Name, "sf:"+id); b != nil {
		t.Fatalf("the restored record came back as a new record: %+v", b)
	}
	if rec := r.src("k"); rec.Deleted || rec.Fields["phone"] != "111" || rec.Fields["last"] != "Lovelace" {
		t.Fatalf("source record after the restore %+v", rec)
	}
	evs := r.changes(after)
	if len(evs) != 2 {
		t.Fatalf("events %+v", evs)
	}
	keys := map[string]forcesync.PulledChange{}
	for _, ev := range evs {
		keys[ev.Key] = ev
	}
	if ev, ok := keys["k"]; !ok || ev.Op != forcesync.PulledUpsert || ev.SalesforceID != id {
		t.Fatalf("events after the restore %+v", evs)
	}
	if _, ok := keys["sf:"+id2]; !ok || r.sfID("again") != id3 {
		t.Fatalf("a restore of a key created again took the key: %+v, again bound to %s", evs, r.sfID("again"))
	}
	calls := r.calls()
	r.drain()
	if st := r.status("k"); st.State != forcesync.StateSynced || st.SalesforceID != id {
		t.Fatalf("status after the restore %+v", st)
	}
	if d := r.calls() - calls; d != 0 {
		t.Fatalf("settling the restored record spent %d calls", d)
	}
}
