package engine_test

import (
	"testing"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/engine"
)

// TestDemote: a record leaves the Contact mapping's scope for the Lead
// mapping's. Salesforce cannot turn the Contact back into a Lead:
//   - demote hold (default): the Contact is kept, no Lead is created, the
//     record is held with CANNOT_DEMOTE under both mappings; back in the
//     Contact mapping's scope it carries on;
//   - demote recreate_lead: the Contact gets its mapping's remove action
//     and the Lead mapping creates a new Lead (also when the record's Lead
//     was converted into that Contact).
//
// Each both for a record that was promoted from a Lead and for one that
// started as a Contact.
func TestDemote(t *testing.T) {
	for _, tc := range []struct {
		name     string
		demote   forcesync.DemoteAction
		fromLead bool
	}{
		{"hold/promoted", "", true},
		{"hold/contact_first", forcesync.DemoteHold, false},
		{"recreate/promoted", forcesync.DemoteRecreate, true},
		{"recreate/contact_first", forcesync.DemoteRecreate, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, c := leadAndContact(forcesync.MatchRule{Kind: forcesync.MatchBinding}, forcesync.MatchRule{Kind: forcesync.MatchBinding}, `stage == "lead"`)
			c.Operations = forcesync.Operations{Delete: forcesync.DeleteDelete, Demote: tc.demote}
			r := newRig(t, engine.Config{Workers: 1}, l, c)
			f := map[string]any{"last": "Ada", "email": "ada@example.com", "stage": "customer"}
			if tc.fromLead {
				f["stage"] = "lead"
				r.accept("person", forcesync.Change{Key: "p1", Fields: f})
				r.drain()
				f["stage"] = "customer"
			}
			r.accept("person", forcesync.Change{Key: "p1", Fields: f})
			r.drain()
			contact := r.statusOf("people_contacts", "p1")
			if contact.State != forcesync.StateSynced {
				t.Fatalf("contact %+v", contact)
			}
			leadsBefore := len(r.query("SELECT Id FROM Lead"))
			// Back among the prospects.
			f["stage"] = "lead"
			r.accept("person", forcesync.Change{Key: "p1", Fields: f})
			r.drain()
			cs, ls := r.statusOf("people_contacts", "p1"), r.statusOf("people_leads", "p1")
			contacts := r.query("SELECT Id FROM Contact")
			open := r.query("SELECT Id FROM Lead WHERE IsConverted = false")
			if tc.demote != forcesync.DemoteRecreate {
				for what, st := range map[string]forcesync.RecordStatus{"contact": cs, "lead": ls} {
					if st.State != forcesync.StateHeld || st.Error == nil || st.Error.Code != forcesync.CodeCannotDemote {
						t.Fatalf("%s status %+v, want held CANNOT_DEMOTE", what, st)
					}
				}
				if len(contacts) != 1 || len(open) != 0 || len(r.query("SELECT Id FROM Lead")) != leadsBefore {
					t.Fatalf("contacts %v, open leads %v: want the Contact kept and no Lead created", contacts, open)
				}
				// Back among the customers: carries on with the same Contact.
				f["stage"], f["last"] = "customer", "Byron"
				r.accept("person", forcesync.Change{Key: "p1", Fields: f})
				r.drain()
				if st := r.statusOf("people_contacts", "p1"); st.State != forcesync.StateSynced || st.SalesforceID != contact.SalesforceID {
					t.Fatalf("contact after the return %+v", st)
				}
				if got := r.query("SELECT LastName FROM Contact WHERE Id = '" + contact.SalesforceID + "'"); got[0]["LastName"] != "Byron" {
					t.Fatalf("contact %v", got)
				}
				return
			}
			if cs.State != forcesync.StateDeleted || len(contacts) != 0 {
				t.Fatalf("contact %+v, contacts %v: want the remove action (delete) applied", cs, contacts)
			}
			if ls.State != forcesync.StateSynced || len(open) != 1 || open[0].ID() != ls.SalesforceID {
				t.Fatalf("lead %+v, open leads %v: want a new Lead", ls, open)
			}
		})
	}
}
