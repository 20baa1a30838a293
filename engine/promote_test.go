package engine_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/emulator"
	"github.com/forcesync/forcesync/engine"
)

// TestPromotionWaitsForTheLeadInFlight: a record promoted while the Lead
// mapping is still pushing its Lead (the call in flight, no binding stored
// yet) does not get a Contact of its own beside that Lead. The Contact
// mapping waits for the Lead mapping's batch (LEAD_PENDING), then converts
// the Lead it made, as when the promotion comes later.
func TestPromotionWaitsForTheLeadInFlight(t *testing.T) {
	// Once the Lead's call is on its way, the record becomes a customer.
	r, l, c := overtakenRig(t, "Lead", "lead", "customer")
	deadline := time.Now().Add(time.Minute)
	for {
		cs, ls := r.statusOf(c.Name, "p1"), r.statusOf(l.Name, "p1")
		if cs.State == forcesync.StateSynced && ls.State == forcesync.StateConverted {
			break
		}
		if cs.State == forcesync.StateHeld || time.Now().After(deadline) {
			t.Fatalf("contact %+v, lead %+v; want synced and converted", cs, ls)
		}
		time.Sleep(10 * time.Millisecond)
	}
	leads := r.query("SELECT Id, IsConverted, ConvertedContactId FROM Lead")
	if len(leads) != 1 || leads[0]["IsConverted"] != true {
		t.Fatalf("leads %v, want the one Lead, converted", leads)
	}
	if contacts := r.query("SELECT Id FROM Contact"); len(contacts) != 1 {
		t.Fatalf("%d Contacts, want 1: the converted Lead's, no twin", len(contacts))
	}
	if cs := r.statusOf(c.Name, "p1"); cs.SalesforceID != leads[0]["ConvertedContactId"] {
		t.Fatalf("contact status %+v, want bound to %v", cs, leads[0]["ConvertedContactId"])
	}
}

// TestDemotionWaitsForTheContactInFlight: the other way, a record that
// goes back among the prospects while the Contact mapping is still
// creating its Contact gets no Lead beside that Contact: the Lead mapping
// waits (CONTACT_PENDING), then holds it with CANNOT_DEMOTE (demote: hold).
func TestDemotionWaitsForTheContactInFlight(t *testing.T) {
	r, l, c := overtakenRig(t, "Contact", "customer", "lead")
	deadline := time.Now().Add(time.Minute)
	for {
		cs, ls := r.statusOf(c.Name, "p1"), r.statusOf(l.Name, "p1")
		if ls.State == forcesync.StateHeld || ls.State == forcesync.StateSynced {
			if ls.State != forcesync.StateHeld || ls.Error == nil || ls.Error.Code != forcesync.CodeCannotDemote {
				t.Fatalf("lead %+v, want held CANNOT_DEMOTE (contact %+v)", ls, cs)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("contact %+v, lead %+v", cs, ls)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if leads := r.query("SELECT Id FROM Lead"); len(leads) != 0 {
		t.Fatalf("leads %v, want none beside the Contact", leads)
	}
	if contacts := r.query("SELECT Id FROM Contact"); len(contacts) != 1 {
		t.Fatalf("%d Contacts, want 1", len(contacts))
	}
}

// overtakenRig is a source's Lead and Contact mappings (by External ID,
// two workers, the engine running until the test ends) whose first upsert
// of obj waits 700 ms before Salesforce takes it: record p1 is accepted at
// stage from, and once obj's upsert is on its way, at stage to, a change
// that overtakes the batch in flight.
func overtakenRig(t *testing.T, obj, from, to string) (r *rig, l, c forcesync.Mapping) {
	t.Helper()
	ext := forcesync.MatchRule{Kind: forcesync.MatchExternalID, Field: "Forcesync_Key__c"}
	l, c = leadAndContact(ext, ext, `stage == "lead"`)
	r = newRig(t, engine.Config{Workers: 2, BulkThreshold: -1, Idle: 10 * time.Millisecond}, l, c)
	fid, err := r.emu.AddFault(emulator.Fault{Type: emulator.FaultLatency, Method: "PATCH",
		Path: "/services/data/*/composite/sobjects/" + obj + "/**", Latency: 700 * time.Millisecond, Count: 1})
	if err != nil {
		t.Fatal(err)
	}
	p1 := func(stage string) {
		r.accept("person", forcesync.Change{Key: "p1", Fields: map[string]any{"last": "Ada", "email": "ada@example.com", "stage": stage}})
	}
	p1(from)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); r.Eng.Run(ctx) }()
	t.Cleanup(func() { cancel(); wg.Wait() })
	r.waitFired(fid, time.Now().Add(time.Minute))
	p1(to)
	return r, l, c
}

// waitFired waits until fault id has fired (and retired: Count 1).
func (r *rig) waitFired(id string, deadline time.Time) {
	r.t.Helper()
	for {
		gone := true
		for _, fl := range r.emu.Faults() {
			if fl.ID == id {
				gone = false
			}
		}
		if gone {
			return
		}
		if time.Now().After(deadline) {
			r.t.Fatal("the delayed call never went out")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestPromotionOfALeadDeletedInSalesforce: a rep deleted the record's Lead
// in Salesforce before the record became a customer. Nothing is left to
// convert, so nothing claims a conversion: the Contact mapping creates the
// Contact through its own match, and the Lead mapping settles the record
// as deleted and unbound, with a warning naming the Lead (not converted:
// no Account, no Contact the Lead became).
func TestPromotionOfALeadDeletedInSalesforce(t *testing.T) {
	for _, workers := range []int{1, 2} {
		t.Run(fmt.Sprintf("workers=%d", workers), func(t *testing.T) {
			ext := forcesync.MatchRule{Kind: forcesync.MatchExternalID, Field: "Forcesync_Key__c"}
			l, c := leadAndContact(ext, ext, `stage == "lead"`)
			r := newRig(t, engine.Config{Workers: workers}, l, c)
			f := map[string]any{"last": "Ada", "email": "ada@example.com", "stage": "lead"}
			r.accept("person", forcesync.Change{Key: "p1", Fields: f})
			r.drain()
			lead := r.statusOf(l.Name, "p1").SalesforceID
			if err := r.emu.DeleteAs("Lead", lead); err != nil {
				t.Fatal(err)
			}
			f["stage"] = "customer"
			r.accept("person", forcesync.Change{Key: "p1", Fields: f})
			r.drain()
			contacts := r.query("SELECT Id, LastName FROM Contact")
			if len(contacts) != 1 {
				t.Fatalf("contacts %v, want the one the Contact mapping created", contacts)
			}
			if cs := r.statusOf(c.Name, "p1"); cs.State != forcesync.StateSynced || cs.SalesforceID != contacts[0].ID() {
				t.Fatalf("contact status %+v, want synced to %s", cs, contacts[0].ID())
			}
			ls := r.statusOf(l.Name, "p1")
			if ls.State != forcesync.StateDeleted || ls.SalesforceID != "" || ls.Error != nil ||
				!strings.Contains(strings.Join(ls.Warnings, "; "), lead) {
				t.Fatalf("lead status %+v, want deleted, unbound, a warning naming %s (not converted)", ls, lead)
			}
			if b, err := r.store.Binding(context.Background(), l.Name, "p1"); err != nil || b != nil {
				t.Fatalf("lead binding %+v %v, want none", b, err)
			}
			if accs := r.query("SELECT Id FROM Account"); len(accs) != 0 {
				t.Fatalf("accounts %v: no conversion made one", accs)
			}
		})
	}
}
