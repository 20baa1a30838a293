package engine_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/emulator"
	"github.com/forcesync/forcesync/engine"
	"github.com/forcesync/forcesync/salesforce"
)

// countUpdates makes the emulator count the sObject Collections updates
// (PATCH composite/sobjects, which stamps use; upserts have a longer path)
// from now on, through a fault rule that only waits a microsecond; the
// returned func reads the count.
func (r *rig) countUpdates() func() int {
	r.t.Helper()
	id, err := r.emu.AddFault(emulator.Fault{Type: emulator.FaultLatency, Method: "PATCH", Path: "/services/data/*/composite/sobjects", Latency: time.Microsecond})
	if err != nil {
		r.t.Fatal(err)
	}
	return func() int {
		for _, f := range r.emu.Faults() {
			if f.ID == id {
				return f.Fired
			}
		}
		r.t.Fatalf("fault %s gone", id)
		return 0
	}
}

// squat creates a Contact outside forcesync holding key as its
// Forcesync_Key__c, so that stamping key on another Contact fails with
// DUPLICATE_VALUE.
func (r *rig) squat(key string) string {
	r.t.Helper()
	id, err := r.Client.Create(context.Background(), "Contact", salesforce.Record{"LastName": "Squatter", "Forcesync_Key__c": key})
	if err != nil {
		r.t.Fatal(err)
	}
	return id
}

// people are n records p0..p(n-1) of source person at stage.
func people(n int, stage, last string) []forcesync.Change {
	cs := make([]forcesync.Change, n)
	for i := range cs {
		cs[i] = forcesync.Change{Key: fmt.Sprintf("p%d", i), Fields: map[string]any{
			"last": fmt.Sprintf("%s%d", last, i), "email": fmt.Sprintf("p%d@example.com", i), "stage": stage}}
	}
	return cs
}

// TestPromotionStampsInBatches: a wave of promotions stamps the Contact
// mapping's External ID on the converted Contacts 200 to an Update call,
// not one call each. A record whose stamp Salesforce refuses (another
// Contact holds its key) is held as it was when each stamp was a call of
// its own, unbound, with no twin; the rest of its call goes through.
func TestPromotionStampsInBatches(t *testing.T) {
	ctx := context.Background()
	ext := forcesync.MatchRule{Kind: forcesync.MatchExternalID, Field: "Forcesync_Key__c"}
	l, c := leadAndContact(ext, ext, `stage == "lead"`)
	// One claim takes the whole wave, which then upserts through Bulk.
	r := newRig(t, engine.Config{Workers: 1, BulkThreshold: 100, BulkBatch: 1000}, l, c)
	const n = 450
	r.accept("person", people(n, "lead", "Lead")...)
	r.drain()
	leadOf := map[string]string{}
	for i := range n {
		k := fmt.Sprintf("p%d", i)
		leadOf[k] = r.statusOf(l.Name, k).SalesforceID
	}
	squatters := map[string]string{"p7": r.squat("p7"), "p300": r.squat("p300")}
	updates := r.countUpdates()
	r.accept("person", people(n, "customer", "Customer")...)
	r.drain()

	converted := map[string]string{}
	for _, rec := range r.query("SELECT Id, IsConverted, ConvertedContactId FROM Lead") {
		if rec["IsConverted"] == true {
			converted[rec.ID()], _ = rec["ConvertedContactId"].(string)
		}
	}
	byKey := contactsByKey(r, n+len(squatters))
	for i := range n {
		k := fmt.Sprintf("p%d", i)
		contact := converted[leadOf[k]]
		if contact == "" {
			t.Fatalf("%s: Lead %s not converted", k, leadOf[k])
		}
		cs := r.statusOf(c.Name, k)
		if sq, ok := squatters[k]; ok {
			// Refused: held naming the Lead, the Contact and Salesforce's
			// error, not bound; the squatter keeps its key.
			if cs.State != forcesync.StateHeld || cs.Error == nil || cs.Error.Code != forcesync.CodeLeadConverted ||
				!strings.Contains(cs.Error.Message, fmt.Sprintf("Lead %s became Contact %s, but stamping Forcesync_Key__c on it failed: DUPLICATE_VALUE", leadOf[k], contact)) {
				t.Fatalf("%s under %s: %+v; want held LEAD_CONVERTED for the refused stamp", k, c.Name, cs)
			}
			if b, err := r.store.Binding(ctx, c.Name, k); err != nil || b != nil {
				t.Fatalf("%s bound under %s: %+v %v; want no binding after a failed stamp", k, c.Name, b, err)
			}
			if got := byKey[k]; got.ID() != sq || got["LastName"] != "Squatter" {
				t.Fatalf("Contact keyed %s: %v; want the squatter %s untouched", k, got, sq)
			}
			continue
		}
		if cs.State != forcesync.StateSynced || cs.SalesforceID != contact {
			t.Fatalf("%s under %s: %+v; want synced to %s", k, c.Name, cs, contact)
		}
		if got := byKey[k]; got.ID() != contact || got["LastName"] != fmt.Sprintf("Customer%d", i) {
			t.Fatalf("Contact keyed %s: %v; want %s, updated", k, got, contact)
		}
		if ls := r.statusOf(l.Name, k); ls.State != forcesync.StateConverted {
			t.Fatalf("%s under %s: %+v; want converted", k, l.Name, ls)
		}
	}
	// 450 stamps: 200 + 200 + 50.
	if got := updates(); got != 3 {
		t.Fatalf("%d Update calls for %d stamps, want 3 (200 records a call)", got, n)
	}
}

// convertedWave pushes n records, all customers, through the Lead mapping
// l only (the Contact mapping c never saw them), converts every Lead in
// Salesforce behind forcesync's back, and makes two Contacts hold the keys
// of p7 and p300. It returns each key's Lead and Contact, and the
// squatters by key.
func convertedWave(t *testing.T, r *rig, l forcesync.Mapping, n int) (leadOf, contactOf, squatters map[string]string) {
	t.Helper()
	ctx := context.Background()
	cs := people(n, "customer", "Lead")
	for i := range cs {
		cs[i].Source = "person"
	}
	if _, err := r.store.Accept(ctx, []string{l.Name}, cs); err != nil {
		t.Fatal(err)
	}
	r.drain()
	leadOf, contactOf = map[string]string{}, map[string]string{}
	for i := range n {
		k := fmt.Sprintf("p%d", i)
		leadOf[k] = r.statusOf(l.Name, k).SalesforceID
		_, contact, err := r.emu.ConvertLead(leadOf[k])
		if err != nil {
			t.Fatal(err)
		}
		contactOf[k] = contact
	}
	return leadOf, contactOf, map[string]string{"p7": r.squat("p7"), "p300": r.squat("p300")}
}

// TestConvertedLeadsStampInBatches: when Salesforce refuses to update a
// wave of Leads a person converted, the records move to the source's
// Contact mapping with its External ID stamped on their Contacts 200 to an
// Update call. A record whose stamp is refused stays held under the Lead
// mapping with LEAD_CONVERTED naming the stamp's failure, as when each
// stamp was a call of its own, and the Contact mapping does not take it.
func TestConvertedLeadsStampInBatches(t *testing.T) {
	ctx := context.Background()
	ext := forcesync.MatchRule{Kind: forcesync.MatchExternalID, Field: "Forcesync_Key__c"}
	l, c := leadAndContact(ext, ext, "")
	r := newRig(t, engine.Config{Workers: 1, BulkThreshold: 100, BulkBatch: 1000}, l, c)
	const n = 450
	leadOf, contactOf, squatters := convertedWave(t, r, l, n)
	updates := r.countUpdates()
	// A new name, again for the Lead mapping only: refused, the Leads being
	// converted.
	cs := people(n, "customer", "Renamed")
	for i := range cs {
		cs[i].Source = "person"
	}
	if _, err := r.store.Accept(ctx, []string{l.Name}, cs); err != nil {
		t.Fatal(err)
	}
	r.drain()
	byKey := contactsByKey(r, n+len(squatters))
	for i := range n {
		k := fmt.Sprintf("p%d", i)
		ls := r.statusOf(l.Name, k)
		if sq, ok := squatters[k]; ok {
			want := fmt.Sprintf("Lead %s was converted to Contact %s, and stamping Forcesync_Key__c on it failed: DUPLICATE_VALUE", leadOf[k], contactOf[k])
			if ls.State != forcesync.StateHeld || ls.Error == nil || ls.Error.Code != forcesync.CodeLeadConverted || !strings.Contains(ls.Error.Message, want) {
				t.Fatalf("%s under %s: %+v; want held LEAD_CONVERTED for the refused stamp", k, l.Name, ls)
			}
			if b, err := r.store.Binding(ctx, c.Name, k); err != nil || b != nil {
				t.Fatalf("%s bound under %s: %+v %v; want no binding after a failed stamp", k, c.Name, b, err)
			}
			if got := byKey[k]; got.ID() != sq || got["LastName"] != "Squatter" {
				t.Fatalf("Contact keyed %s: %v; want the squatter %s untouched", k, got, sq)
			}
			continue
		}
		if ls.State != forcesync.StateConverted {
			t.Fatalf("%s under %s: %+v; want converted", k, l.Name, ls)
		}
		if cs := r.statusOf(c.Name, k); cs.State != forcesync.StateSynced || cs.SalesforceID != contactOf[k] {
			t.Fatalf("%s under %s: %+v; want synced to %s", k, c.Name, cs, contactOf[k])
		}
		if got := byKey[k]; got.ID() != contactOf[k] || got["LastName"] != fmt.Sprintf("Renamed%d", i) {
			t.Fatalf("Contact keyed %s: %v; want %s, updated", k, got, contactOf[k])
		}
	}
	if got := updates(); got != 3 {
		t.Fatalf("%d Update calls for %d stamps, want 3 (200 records a call)", got, n)
	}
}

// TestReconcileHealStampsInBatches: healing a wave of converted Leads
// stamps the Contact mapping's External ID 200 to an Update call; a record
// whose stamp is refused is left with the failure in its finding's detail,
// unbound, as when each stamp was a call of its own.
func TestReconcileHealStampsInBatches(t *testing.T) {
	ctx := context.Background()
	ext := forcesync.MatchRule{Kind: forcesync.MatchExternalID, Field: "Forcesync_Key__c"}
	l, c := leadAndContact(ext, ext, "")
	l.Guard.Off = true // the wave is the point here, not the guard
	r := newRig(t, engine.Config{BulkThreshold: -1}, l, c)
	const n = 450
	leadOf, contactOf, squatters := convertedWave(t, r, l, n)
	updates := r.countUpdates()
	run, fs, err := r.reconciler(l, c).Reconcile(ctx, l.Name, engine.ReconcileOptions{Heal: true})
	if err != nil {
		t.Fatal(err)
	}
	if run.Healed != n-len(squatters) {
		t.Fatalf("healed %d, want %d", run.Healed, n-len(squatters))
	}
	for i := range n {
		k := fmt.Sprintf("p%d", i)
		f := findingOf(fs, k, forcesync.DriftConverted)
		if f == nil {
			t.Fatalf("no converted finding for %s: %+v", k, fs)
		}
		if _, ok := squatters[k]; ok {
			want := fmt.Sprintf("; rebinding failed: stamping Forcesync_Key__c on Contact %s: DUPLICATE_VALUE", contactOf[k])
			if f.Healed || !strings.Contains(f.Detail, want) {
				t.Fatalf("finding %+v; want the refused stamp in its detail", f)
			}
			if b, err := r.store.Binding(ctx, c.Name, k); err != nil || b != nil {
				t.Fatalf("%s bound under %s: %+v %v; want no binding after a failed stamp", k, c.Name, b, err)
			}
			if b, err := r.store.Binding(ctx, l.Name, k); err != nil || b == nil || b.SalesforceID != leadOf[k] || b.Fingerprint == forcesync.FingerprintConverted {
				t.Fatalf("%s under %s: %+v %v; want still bound to its Lead, not marked converted", k, l.Name, b, err)
			}
			continue
		}
		if !f.Healed || !strings.Contains(f.Detail, "rebound to Contact "+contactOf[k]) {
			t.Fatalf("finding %+v; want rebound to %s", f, contactOf[k])
		}
	}
	if got := updates(); got != 3 {
		t.Fatalf("%d Update calls for %d stamps, want 3 (200 records a call)", got, n)
	}
	r.drain()
	for _, k := range []string{"p0", "p299", "p449"} {
		if cs := r.statusOf(c.Name, k); cs.State != forcesync.StateSynced || cs.SalesforceID != contactOf[k] {
			t.Fatalf("%s under %s: %+v; want synced to %s", k, c.Name, cs, contactOf[k])
		}
	}
}

// contactsByKey reads the org's Contacts by Forcesync_Key__c and fails
// unless there are want of them: one per converted Lead and the
// squatters, no twin.
func contactsByKey(r *rig, want int) map[string]salesforce.Record {
	r.t.Helper()
	byKey := map[string]salesforce.Record{}
	contacts := r.query("SELECT Id, LastName, Forcesync_Key__c FROM Contact")
	for _, rec := range contacts {
		k, _ := rec["Forcesync_Key__c"].(string)
		byKey[k] = rec
	}
	if len(contacts) != want {
		r.t.Fatalf("%d Contacts, want %d: one per converted Lead and the squatters, no twin", len(contacts), want)
	}
	return byKey
}
