package emulator

import (
	"testing"
	"time"
)

// newTestEmulator builds an emulator with a fixed clock.
func newTestEmulator(t testing.TB, cfg Config) *Emulator {
	t.Helper()
	if cfg.Now == nil {
		base := time.Date(2024, 5, 1, 12, 34, 56, 0, time.UTC)
		var n int64
		cfg.Now = func() time.Time { n++; return base.Add(time.Duration(n) * time.Millisecond) }
	}
	e, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func TestDMLContract(t *testing.T) {
	e := newTestEmulator(t, Config{})
	e.mu.Lock()
	defer e.mu.Unlock()

	id, rerr := e.insertLocked("lead", map[string]any{"LastName": "Smith", "Company": "Acme", "Forcesync_Key__c": "k1"})
	if rerr != nil {
		t.Fatalf("insert: %v", rerr)
	}
	if len(id) != 18 || id[:3] != "00Q" {
		t.Fatalf("id %q", id)
	}
	r := e.getRecordLocked(id[:15])
	if r == nil || r.getName("Status") != "Open - Not Contacted" || r.getName("OwnerId") != e.org.adminID || r.getName("Name") != "Smith" {
		t.Fatalf("record defaults: %+v", r)
	}
	if rerr := e.updateLocked("", id, map[string]any{"FirstName": "Ann"}); rerr != nil {
		t.Fatalf("update: %v", rerr)
	}
	if r.getName("Name") != "Ann Smith" {
		t.Fatalf("Name = %v", r.getName("Name"))
	}

	tx := e.beginLocked()
	id2, _ := e.insertLocked("Lead", map[string]any{"LastName": "B", "Company": "C"})
	_ = e.updateLocked("Lead", id, map[string]any{"FirstName": "Bob"})
	_ = e.deleteLocked("Lead", id)
	tx.rollback()
	if e.getRecordLocked(id2) != nil || r.deleted || r.getName("FirstName") != "Ann" {
		t.Fatalf("rollback incomplete: inserted=%v deleted=%v first=%v", e.getRecordLocked(id2) != nil, r.deleted, r.getName("FirstName"))
	}
	if got := lookupIndex(r.obj, r.obj.field("Forcesync_Key__c"), "K1"); len(got) != 1 {
		t.Fatalf("index after rollback: %d", len(got))
	}

	gotID, created, _, rerr := e.upsertLocked("Lead", "Forcesync_Key__c", "K1", map[string]any{"Title": "CEO"})
	if rerr != nil || created || gotID != id {
		t.Fatalf("upsert update: %v %v %v", gotID, created, rerr)
	}
	_, created, _, rerr = e.upsertLocked("Lead", "Forcesync_Key__c", "k2", map[string]any{"LastName": "X", "Company": "Y"})
	if rerr != nil || !created {
		t.Fatalf("upsert insert: %v %v", created, rerr)
	}

	if rerr := e.deleteLocked("Lead", id); rerr != nil {
		t.Fatalf("delete: %v", rerr)
	}
	if rerr := e.deleteLocked("Lead", id); rerr == nil || rerr.Code != "ENTITY_IS_DELETED" {
		t.Fatalf("second delete: %v", rerr)
	}
	n := 0
	e.eachRecordLocked(e.sobjectLocked("Lead"), false, func(*record) bool { n++; return true })
	all := 0
	e.eachRecordLocked(e.sobjectLocked("Lead"), true, func(*record) bool { all++; return true })
	if n != 1 || all != 2 {
		t.Fatalf("live %d all %d", n, all)
	}
	if rerr := e.deleteLocked("User", e.org.adminID); rerr == nil {
		t.Fatal("deleting a user succeeded")
	}

	acct, ct, rerr := e.convertLeadLocked(gotIDOf(t, e, "k2"))
	if rerr != nil || acct[:3] != "001" || ct[:3] != "003" {
		t.Fatalf("convert: %v %v %v", acct, ct, rerr)
	}
	if rerr := e.updateLocked("Lead", gotIDOf(t, e, "k2"), map[string]any{"Title": "x"}); rerr == nil || rerr.Code != "CANNOT_UPDATE_CONVERTED_LEAD" {
		t.Fatalf("update converted: %v", rerr)
	}
}

func gotIDOf(t *testing.T, e *Emulator, key string) string {
	t.Helper()
	lead := e.sobjectLocked("Lead")
	rs := lookupIndex(lead, lead.field("Forcesync_Key__c"), key)
	if len(rs) != 1 {
		t.Fatalf("key %s: %d records", key, len(rs))
	}
	return rs[0].ID
}
