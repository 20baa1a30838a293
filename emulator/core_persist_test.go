package emulator

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestPersistRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "org.json")
	cfg := Config{DataFile: path, Objects: []ObjectConfig{{Name: "Invoice__c", Fields: []FieldConfig{
		{Name: "Amount__c", Type: "currency", Precision: 10, Scale: 2},
		{Name: "Due__c", Type: "date"},
		{Name: "Paid_At__c", Type: "datetime"},
		{Name: "Paid__c", Type: "boolean"},
		{Name: "Ref__c", Type: "string", Length: 40, ExternalID: true, Unique: true},
	}}}}
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.mu.Lock()
	lead, _ := e.insertLocked("Lead", map[string]any{"LastName": "Ünïcode \"quoted\"\n", "Company": "Acme", "Forcesync_Key__c": "k1"})
	gone, _ := e.insertLocked("Lead", map[string]any{"LastName": "Gone", "Company": "Acme"})
	purged, _ := e.insertLocked("Lead", map[string]any{"LastName": "Purged", "Company": "Acme"})
	inv, rerr := e.insertLocked("Invoice__c", map[string]any{"Name": "INV-1", "Amount__c": 12.5, "Due__c": "2024-06-01",
		"Paid_At__c": "2024-05-01T10:00:00.123Z", "Paid__c": true, "Ref__c": "R-1"})
	if rerr != nil {
		t.Fatal(rerr)
	}
	if rerr := e.deleteLocked("Lead", gone); rerr != nil {
		t.Fatal(rerr)
	}
	if rerr := e.hardDeleteLocked("Lead", purged); rerr != nil {
		t.Fatal(rerr)
	}
	e.setPasswordLocked(e.org.adminID, "n3wpassword")
	e.refresh["rt-1"] = &refreshGrant{ClientID: "app", UserID: e.org.adminID, Username: seedAdminUsername, Scopes: []string{"api"}}
	e.mu.Unlock()
	e.SetAPIUsage(42, 0)
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}

	e2, err := New(Config{DataFile: path})
	if err != nil {
		t.Fatal(err)
	}
	defer e2.Close()
	e2.mu.Lock()
	defer e2.mu.Unlock()
	r := e2.getRecordLocked(lead)
	if r == nil || r.getName("LastName") != "Ünïcode \"quoted\"\n" || r.getName("Name") != "Ünïcode \"quoted\"\n" {
		t.Fatalf("lead %+v", r)
	}
	if g := e2.getRecordLocked(gone); g == nil || !g.deleted || g.deletedAt.IsZero() {
		t.Fatalf("recycle bin lost: %+v", g)
	}
	if e2.getRecordLocked(purged) != nil {
		t.Fatal("hard-deleted record came back")
	}
	if n := len(e2.sobjectLocked("Lead").deleteLog); n != 2 {
		t.Fatalf("delete log %d", n)
	}
	obj := e2.sobjectLocked("Invoice__c")
	if obj == nil || obj.field("Amount__c").Scale != 2 {
		t.Fatal("custom object not restored without config")
	}
	iv := e2.getRecordLocked(inv)
	if iv.getName("Amount__c") != 12.5 || iv.getName("Due__c") != "2024-06-01" || iv.getName("Paid__c") != true ||
		!iv.getName("Paid_At__c").(time.Time).Equal(time.Date(2024, 5, 1, 10, 0, 0, 123e6, time.UTC)) {
		t.Fatalf("typed values: %v", iv.slots)
	}
	if _, rerr := e2.insertLocked("Invoice__c", map[string]any{"Ref__c": "r-1"}); rerr == nil || rerr.Code != "DUPLICATE_VALUE" {
		t.Fatalf("unique index not rebuilt: %v", rerr)
	}
	if !e2.passwordMatchesLocked(e2.org.adminID, "n3wpassword") || e2.refresh["rt-1"] == nil || e2.org.apiUsed != 42 {
		t.Fatal("passwords, refresh tokens or usage lost")
	}
	// New Ids never reuse old ones.
	id, _ := e2.insertLocked("Lead", map[string]any{"LastName": "N", "Company": "C"})
	if id == lead || id == gone || id == purged {
		t.Fatalf("reused id %s", id)
	}
}

func TestPersistDebouncedSave(t *testing.T) {
	path := filepath.Join(t.TempDir(), "org.json")
	e, err := New(Config{DataFile: path})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	e.mu.Lock()
	e.insertLocked("Lead", map[string]any{"LastName": "A", "Company": "B"})
	e.mu.Unlock()
	// The background save happens on its own after the debounce delay.
	deadline := time.Now().Add(10 * time.Second)
	for !fileExists(path) {
		if time.Now().After(deadline) {
			t.Fatal("no background save")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestPersistCorruptFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "org.json")
	if err := os.WriteFile(path, []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := New(Config{DataFile: path}); err == nil {
		t.Fatal("corrupt data file accepted")
	}
}
