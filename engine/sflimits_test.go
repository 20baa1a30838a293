package engine_test

import (
	"context"
	"strings"
	"testing"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/engine"
	"github.com/forcesync/forcesync/salesforce"
)

// leadAndContact are a source's Lead mapping (stage lead) and Contact
// mapping (stage customer).
func leadAndContact(leadMatch, contactMatch forcesync.MatchRule, leadFilter string) (forcesync.Mapping, forcesync.Mapping) {
	l := forcesync.Mapping{Name: "people_leads", Source: "person", Object: "Lead", Match: leadMatch, Filter: leadFilter,
		Operations: forcesync.Operations{Delete: forcesync.DeleteDelete},
		Fields: []forcesync.FieldRow{{Target: "LastName", SourceField: "last"}, {Target: "Email", SourceField: "email"},
			{Target: "Company", HasConstant: true, Constant: "Acme"}}}
	c := forcesync.Mapping{Name: "people_contacts", Source: "person", Object: "Contact", Match: contactMatch, Filter: `stage == "customer"`,
		Fields: []forcesync.FieldRow{{Target: "LastName", SourceField: "last"}, {Target: "Email", SourceField: "email"}}}
	return l, c
}

func (r *rig) statusOf(mapping, key string) forcesync.RecordStatus {
	r.t.Helper()
	sts, err := r.store.Statuses(context.Background(), "person", key)
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

// TestPromoteLeadToContact: leaving the Lead scope for the Contact scope
// converts the Lead (SOAP convertLead) and binds the Contact it became,
// with no twin, for each match kind of the Contact mapping.
func TestPromoteLeadToContact(t *testing.T) {
	for _, cm := range []forcesync.MatchRule{
		{Kind: forcesync.MatchBinding},
		{Kind: forcesync.MatchFields, Fields: []string{"Email"}},
		{Kind: forcesync.MatchExternalID, Field: "Forcesync_Key__c"},
	} {
		t.Run(string(cm.Kind), func(t *testing.T) {
			l, c := leadAndContact(forcesync.MatchRule{Kind: forcesync.MatchExternalID, Field: "Forcesync_Key__c"}, cm, `stage == "lead"`)
			r := newRig(t, engine.Config{Workers: 1}, l, c)
			f := map[string]any{"last": "Ada", "email": "ada@example.com", "stage": "lead"}
			r.accept("person", forcesync.Change{Key: "p1", Fields: f})
			r.drain()
			lead := r.statusOf("people_leads", "p1").SalesforceID
			f["stage"] = "customer"
			r.accept("person", forcesync.Change{Key: "p1", Fields: f})
			r.drain()
			rec := r.query("SELECT IsConverted, ConvertedContactId FROM Lead WHERE Id = '" + lead + "'")
			if len(rec) != 1 || rec[0]["IsConverted"] != true {
				t.Fatalf("lead %v, want converted (not deleted by the remove action)", rec)
			}
			cs := r.statusOf("people_contacts", "p1")
			if cs.State != forcesync.StateSynced || cs.SalesforceID != rec[0]["ConvertedContactId"] {
				t.Fatalf("contact status %+v, want synced to %v", cs, rec[0]["ConvertedContactId"])
			}
			if n := len(r.query("SELECT Id FROM Contact")); n != 1 {
				t.Fatalf("%d contacts, want 1 (no twin)", n)
			}
			if ls := r.statusOf("people_leads", "p1"); ls.State != forcesync.StateConverted {
				t.Fatalf("lead status %+v", ls)
			}
			// Later changes go to the Contact only.
			f["last"] = "Byron"
			r.accept("person", forcesync.Change{Key: "p1", Fields: f})
			r.drain()
			got := r.query("SELECT LastName FROM Contact WHERE Id = '" + cs.SalesforceID + "'")
			if got[0]["LastName"] != "Byron" {
				t.Fatalf("contact %v", got[0])
			}
			if ls := r.statusOf("people_leads", "p1"); ls.State != forcesync.StateConverted || ls.Error != nil {
				t.Fatalf("lead status after update %+v", ls)
			}
		})
	}
}

// TestConvertedLead: a Lead a person converted in Salesforce is not held
// with the raw CANNOT_UPDATE_CONVERTED_LEAD: the record continues under
// the Contact mapping when it takes it, and is held with LEAD_CONVERTED
// naming the Contact otherwise. A new record with a converted Lead's email
// gets a Lead of its own.
func TestConvertedLead(t *testing.T) {
	l, c := leadAndContact(forcesync.MatchRule{Kind: forcesync.MatchFields, Fields: []string{"Email"}}, forcesync.MatchRule{Kind: forcesync.MatchBinding}, "")
	r := newRig(t, engine.Config{Workers: 1}, l, c)
	f := map[string]any{"last": "Ada", "email": "ada@example.com", "stage": "lead"}
	r.accept("person", forcesync.Change{Key: "p1", Fields: f})
	r.drain()
	lead := r.statusOf("people_leads", "p1").SalesforceID
	_, contact, err := r.emu.ConvertLead(lead)
	if err != nil {
		t.Fatal(err)
	}
	f["last"] = "Lovelace"
	r.accept("person", forcesync.Change{Key: "p1", Fields: f})
	r.drain()
	st := r.statusOf("people_leads", "p1")
	if st.State != forcesync.StateHeld || st.Error == nil || st.Error.Code != forcesync.CodeLeadConverted || !strings.Contains(st.Error.Message, contact) {
		t.Fatalf("lead status %+v, want held LEAD_CONVERTED naming %s", st, contact)
	}
	// A new person with the same email: a Lead of its own, no failure.
	r.accept("person", forcesync.Change{Key: "p2", Fields: map[string]any{"last": "Twin", "email": "ada@example.com", "stage": "lead"}})
	r.drain()
	if st := r.statusOf("people_leads", "p2"); st.State != forcesync.StateSynced || st.SalesforceID == lead {
		t.Fatalf("new lead status %+v", st)
	}
	// Now a customer: the Contact mapping takes the record, bound to the Contact.
	f["stage"], f["last"] = "customer", "Countess"
	r.accept("person", forcesync.Change{Key: "p1", Fields: f})
	r.drain()
	if got := r.query("SELECT LastName FROM Contact WHERE Id = '" + contact + "'"); got[0]["LastName"] != "Countess" {
		t.Fatalf("contact %v", got[0])
	}
	if cs := r.statusOf("people_contacts", "p1"); cs.State != forcesync.StateSynced || cs.SalesforceID != contact {
		t.Fatalf("contact status %+v, want synced to %s", cs, contact)
	}
	if st := r.statusOf("people_leads", "p1"); st.State != forcesync.StateConverted {
		t.Fatalf("lead status %+v, want converted", st)
	}
	if n := len(r.query("SELECT Id FROM Contact")); n != 1 {
		t.Fatalf("%d contacts, want 1", n)
	}
}

// TestPortalUserContact: Salesforce refuses to delete a Contact a portal
// User is tied to; the fallback holds it with PORTAL_USER naming the User,
// or deactivates the User and keeps the Contact.
func TestPortalUserContact(t *testing.T) {
	for _, fb := range []forcesync.PortalFallback{forcesync.PortalHold, forcesync.PortalDeactivate} {
		t.Run(string(fb), func(t *testing.T) {
			m := lifecycleMapping("Contact", forcesync.Operations{Delete: forcesync.DeleteDelete, PortalUser: fb})
			r := newRig(t, engine.Config{}, m)
			r.accept("person", forcesync.Change{Key: "p1", Fields: map[string]any{"last": "Ada", "email": "ada@example.com", "scope": true}})
			r.drain()
			contact := r.status("person", "p1").SalesforceID
			uid, err := r.api.Client.Create(context.Background(), "User", salesforce.Record{"Username": "ada@portal.example.com", "LastName": "Ada",
				"Email": "ada@example.com", "Alias": "ada", "TimeZoneSidKey": "GMT", "LocaleSidKey": "en_US", "EmailEncodingKey": "UTF-8",
				"LanguageLocaleKey": "en_US", "ProfileId": r.profile("Standard User"), "ContactId": contact})
			if err != nil {
				t.Fatal(err)
			}
			r.accept("person", forcesync.Change{Key: "p1", Op: forcesync.OpDelete})
			r.drain()
			st := r.status("person", "p1")
			if n := len(r.query("SELECT Id FROM Contact WHERE Id = '" + contact + "'")); n != 1 {
				t.Fatal("contact gone")
			}
			active := r.query("SELECT IsActive FROM User WHERE Id = '" + uid + "'")[0]["IsActive"]
			switch fb {
			case forcesync.PortalHold:
				if st.State != forcesync.StateHeld || st.Error.Code != forcesync.CodePortalUser || !strings.Contains(st.Error.Message, "ada@portal.example.com") {
					t.Fatalf("status %+v", st)
				}
				if active != true {
					t.Fatal("user deactivated under hold")
				}
			case forcesync.PortalDeactivate:
				if st.State != forcesync.StateDeprovisioned || len(st.Warnings) == 0 {
					t.Fatalf("status %+v", st)
				}
				if active != false {
					t.Fatal("user still active")
				}
			}
		})
	}
}
