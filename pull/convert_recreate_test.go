package pull_test

import (
	"context"
	"strings"
	"testing"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/engine"
	"github.com/forcesync/forcesync/internal/testrig"
)

// convertedRig: a source with a two-way Lead mapping (filter stage !=
// "customer") and a Contact mapping (External ID, filter stage ==
// "customer"), both as tune leaves them; the app's record k1 is pushed as
// a Lead, then a rep converts that Lead in Salesforce and a poll sees it.
func convertedRig(t *testing.T, tune func(leads, contacts *forcesync.Mapping)) (r *rig, lead, contact string) {
	t.Helper()
	leads := leadsBoth(forcesync.NewestWins)
	leads.Filter = `stage != "customer"`
	contacts := forcesync.Mapping{Name: "contacts", Source: "client", Object: "Contact",
		Match:  forcesync.MatchRule{Kind: forcesync.MatchExternalID, Field: "Forcesync_Key__c"},
		Filter: `stage == "customer"`,
		Fields: []forcesync.FieldRow{{Target: "LastName", SourceField: "last"}, {Target: "Phone", SourceField: "phone"}}}
	if tune != nil {
		tune(&leads, &contacts)
	}
	tr := testrig.New(t, testrig.Options{Engine: engine.Config{Workers: 1}}, leads, contacts)
	r = &rig{Rig: tr, t: t, emu: tr.Emu, client: tr.Client, store: tr.Store, eng: tr.Eng, m: leads, path: tr.Path, pstore: tr.Store}
	p := r.puller(nil)
	r.accept("k1", map[string]any{"last": "Ada", "company": "ACME", "phone": "555-0001", "stage": "lead"})
	r.drain()
	r.poll(p) // the push's echo
	lead = r.sfID("k1")
	_, contact, err := r.emu.ConvertLead(lead)
	if err != nil {
		t.Fatal(err)
	}
	if st := r.poll(p); st.Converted != 1 {
		t.Fatalf("poll stats %+v; want the conversion", st)
	}
	r.drain()
	return r, lead, contact
}

// recreateRig is convertedRig with the Lead mapping matched by binding (so
// a new Lead could be created for a key whose Lead was converted) and the
// Contact mapping's demote: recreate_lead and delete: delete.
func recreateRig(t *testing.T) (r *rig, lead, contact string) {
	t.Helper()
	return convertedRig(t, func(leads, contacts *forcesync.Mapping) {
		leads.Match = forcesync.MatchRule{Kind: forcesync.MatchBinding}
		contacts.Operations = forcesync.Operations{Delete: forcesync.DeleteDelete, Demote: forcesync.DemoteRecreate}
	})
}

// noNewLead fails unless Salesforce has only the converted Lead.
func (r *rig) noNewLead(lead string) {
	r.t.Helper()
	if recs := r.Query("SELECT Id, IsConverted FROM Lead"); len(recs) != 1 || recs[0].ID() != lead {
		r.t.Fatalf("leads %v; want only the converted Lead %s, no Lead created for the record", recs, lead)
	}
}

func (r *rig) statusUnder(mapping, key string) forcesync.RecordStatus {
	r.t.Helper()
	sts, err := r.store.Statuses(context.Background(), "client", key)
	if err != nil {
		r.t.Fatal(err)
	}
	for _, st := range sts {
		if st.Mapping == mapping {
			return st
		}
	}
	r.t.Fatalf("no status of %s under %s: %+v", key, mapping, sts)
	return forcesync.RecordStatus{}
}

// TestPulledConversionRecreateLead: with demote: recreate_lead on the
// Contact mapping, a Lead a rep converted (seen by a poll) is no
// demotion: the Contact mapping never had the record. The app's next
// change, still in the Lead mapping's scope, is held with LEAD_CONVERTED
// naming the Contact; no new Lead is created and the Contact is left as
// it is.
func TestPulledConversionRecreateLead(t *testing.T) {
	r, lead, contact := recreateRig(t)
	r.noNewLead(lead)
	r.accept("k1", map[string]any{"last": "Ada", "company": "ACME", "phone": "555-0002", "stage": "lead"})
	r.drain()
	r.noNewLead(lead)
	st := r.statusUnder("leads", "k1")
	if st.State != forcesync.StateHeld || st.Error == nil || st.Error.Code != forcesync.CodeLeadConverted ||
		!strings.Contains(st.Error.Message, contact) {
		t.Fatalf("leads status %s %+v (Salesforce ID %s); want held %s naming Contact %s", st.State, st.Error, st.SalesforceID, forcesync.CodeLeadConverted, contact)
	}
	if recs := r.Query("SELECT Id, Phone FROM Contact"); len(recs) != 1 || recs[0].ID() != contact || recs[0]["Phone"] != "555-0001" {
		t.Fatalf("contacts %v; want the converted Contact %s, untouched", recs, contact)
	}
	// The app deletes the record: the Contact mapping never had it, so
	// its remove action does not reach the Contact; still no Lead.
	r.Accept("client", forcesync.Change{Key: "k1", Op: forcesync.OpDelete})
	r.drain()
	r.noNewLead(lead)
	if st := r.statusUnder("leads", "k1"); st.State != forcesync.StateConverted {
		t.Fatalf("leads status after the delete %s %+v; want converted", st.State, st.Error)
	}
	if recs := r.Query("SELECT Id FROM Contact"); len(recs) != 1 || recs[0].ID() != contact {
		t.Fatalf("contacts %v; want the converted Contact %s kept", recs, contact)
	}
}

// TestPulledConversionRecreateLeadFollowed: the same conversion, then the
// app moves the record into the Contact mapping's scope: it carries on
// with the converted Contact, no Lead created. The app's delete then
// applies the Contact mapping's remove action (delete) to that Contact,
// and still no Lead is created.
func TestPulledConversionRecreateLeadFollowed(t *testing.T) {
	r, lead, contact := recreateRig(t)
	r.accept("k1", map[string]any{"last": "Ada", "company": "ACME", "phone": "555-0002", "stage": "customer"})
	r.drain()
	r.noNewLead(lead)
	if st := r.statusUnder("contacts", "k1"); st.State != forcesync.StateSynced || st.SalesforceID != contact {
		t.Fatalf("contacts status %s %+v %s; want synced with Contact %s", st.State, st.Error, st.SalesforceID, contact)
	}
	if recs := r.Query("SELECT Id, Phone FROM Contact"); len(recs) != 1 || recs[0].ID() != contact || recs[0]["Phone"] != "555-0002" {
		t.Fatalf("contacts %v; want the converted Contact %s with the app's change", recs, contact)
	}
	r.Accept("client", forcesync.Change{Key: "k1", Op: forcesync.OpDelete})
	r.drain()
	r.noNewLead(lead)
	if st := r.statusUnder("contacts", "k1"); st.State != forcesync.StateDeleted {
		t.Fatalf("contacts status after the delete %s %+v; want deleted", st.State, st.Error)
	}
	if recs := r.Query("SELECT Id FROM Contact"); len(recs) != 0 {
		t.Fatalf("contacts %v; want the Contact deleted (delete: delete)", recs)
	}
}

// TestPulledConversionFollowedThenDemoted: once the Contact mapping
// carried the converted Contact, the record leaving its scope for the Lead
// mapping's is a demotion like any other: with demote: recreate_lead the
// Contact gets the remove action (delete) and a new Lead is created.
func TestPulledConversionFollowedThenDemoted(t *testing.T) {
	r, lead, contact := recreateRig(t)
	r.accept("k1", map[string]any{"last": "Ada", "company": "ACME", "phone": "555-0002", "stage": "customer"})
	r.drain()
	if st := r.statusUnder("contacts", "k1"); st.State != forcesync.StateSynced || st.SalesforceID != contact {
		t.Fatalf("contacts status %s %+v %s; want synced with Contact %s", st.State, st.Error, st.SalesforceID, contact)
	}
	r.accept("k1", map[string]any{"last": "Ada", "company": "ACME", "phone": "555-0003", "stage": "lead"})
	r.drain()
	if recs := r.Query("SELECT Id FROM Contact"); len(recs) != 0 {
		t.Fatalf("contacts %v; want the Contact deleted by the demotion", recs)
	}
	st := r.statusUnder("leads", "k1")
	open := r.Query("SELECT Id, Phone FROM Lead WHERE IsConverted = false")
	if st.State != forcesync.StateSynced || len(open) != 1 || open[0].ID() != st.SalesforceID || st.SalesforceID == lead || open[0]["Phone"] != "555-0003" {
		t.Fatalf("leads status %s %+v %s, open leads %v; want a new Lead with the app's change", st.State, st.Error, st.SalesforceID, open)
	}
}
