package engine_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/engine"
)

// lifecycleMapping is a binding-only mapping of source "person" to obj,
// scoped by the record's "scope" field, with the given operations.
func lifecycleMapping(obj string, ops forcesync.Operations) forcesync.Mapping {
	m := forcesync.Mapping{Name: "people_" + strings.ToLower(obj), Source: "person", Object: obj,
		Match: forcesync.MatchRule{Kind: forcesync.MatchBinding}, Filter: "scope == true", Operations: ops,
		Fields: []forcesync.FieldRow{{Target: "LastName", SourceField: "last"}, {Target: "Email", SourceField: "email"}}}
	switch obj {
	case "Lead":
		m.Fields = append(m.Fields, forcesync.FieldRow{Target: "Company", HasConstant: true, Constant: "Acme"})
		if m.Operations.DisableWrites == nil && !m.Operations.DisableRemoves {
			m.Operations.DisableWrites = map[string]any{"Status": "Closed - Not Converted"}
		}
	case "Contact":
		if m.Operations.DisableWrites == nil && !m.Operations.DisableRemoves {
			m.Operations.DisableWrites = map[string]any{"HasOptedOutOfEmail": true}
		}
	case "User":
		m.Fields = append(m.Fields,
			forcesync.FieldRow{Target: "Username", SourceField: "email"},
			forcesync.FieldRow{Target: "Alias", HasConstant: true, Constant: "person"},
			forcesync.FieldRow{Target: "TimeZoneSidKey", HasConstant: true, Constant: "GMT"},
			forcesync.FieldRow{Target: "LocaleSidKey", HasConstant: true, Constant: "en_US"},
			forcesync.FieldRow{Target: "EmailEncodingKey", HasConstant: true, Constant: "UTF-8"},
			forcesync.FieldRow{Target: "LanguageLocaleKey", HasConstant: true, Constant: "en_US"},
			forcesync.FieldRow{Target: "ProfileId", SourceField: "profile"})
	}
	return m
}

// disabledField is the field the table's disable writes set, and its
// value when written.
var disabledField = map[string][2]any{
	"Lead":    {"Status", "Closed - Not Converted"},
	"Contact": {"HasOptedOutOfEmail", true},
	"User":    {"IsActive", false},
}

// TestLifecycleTable runs object x operation x remove action x switch
// against the emulator and checks Salesforce's state and the record's
// status after each.
func TestLifecycleTable(t *testing.T) {
	type trigger string
	const (
		disable   trigger = "disable"   // ingest op disable
		appDelete trigger = "delete"    // deleted in the application
		scope     trigger = "out_scope" // the filter turns false
	)
	for _, obj := range []string{"Lead", "Contact", "User"} {
		for _, trig := range []trigger{disable, appDelete, scope} {
			for _, action := range []forcesync.DeleteAction{forcesync.DeleteDelete, forcesync.DeleteDeactivate, forcesync.DeleteIgnore} {
				for _, on := range []bool{true, false} {
					name := fmt.Sprintf("%s/%s/%s/on=%v", obj, trig, action, on)
					t.Run(name, func(t *testing.T) {
						ops := forcesync.Operations{Delete: action}
						if trig == disable {
							ops.NoDisable = !on
						} else {
							ops.NoDeprovision = !on
						}
						m := lifecycleMapping(obj, ops)
						if obj == "User" && action == forcesync.DeleteDelete {
							// Users can only be deactivated: refused up front.
							if err := m.Validate(); err == nil || !strings.Contains(err.Error(), "only deactivated") {
								t.Fatalf("Validate = %v, want the Users-cannot-be-deleted error", err)
							}
							return
						}
						r := newRig(t, engine.Config{}, m)
						fields := map[string]any{"last": "Lovelace", "email": "ada@example.com", "scope": true,
							"profile": r.profile("Standard User")}
						r.accept("person", forcesync.Change{Key: "p1", Fields: fields})
						r.drain()
						st := r.status("person", "p1")
						if st.State != forcesync.StateSynced {
							t.Fatalf("after create: %+v", st)
						}
						id := st.SalesforceID
						switch trig {
						case disable:
							r.accept("person", forcesync.Change{Key: "p1", Op: forcesync.OpDisable})
						case appDelete:
							r.accept("person", forcesync.Change{Key: "p1", Op: forcesync.OpDelete})
						case scope:
							out := map[string]any{}
							for k, v := range fields {
								out[k] = v
							}
							out["scope"] = false
							r.accept("person", forcesync.Change{Key: "p1", Fields: out})
						}
						r.drain()
						st = r.status("person", "p1")
						df := disabledField[obj]
						rec := r.query(fmt.Sprintf("SELECT Id, %s FROM %s WHERE Id = '%s'", df[0], obj, id))
						written := len(rec) == 1 && rec[0][df[0].(string)] == df[1]
						var wantState forcesync.State
						wantGone, wantWritten := false, false
						switch {
						case !on:
							wantState = forcesync.StateSkipped
						case trig == disable:
							// The table configures disable writes for every object.
							wantState, wantWritten = forcesync.StateDisabled, true
						case action == forcesync.DeleteDelete:
							wantState, wantGone = forcesync.StateDeleted, true
						case action == forcesync.DeleteDeactivate:
							wantState, wantWritten = forcesync.StateDeprovisioned, true
						default:
							wantState = forcesync.StateDeprovisioned
						}
						if st.State != wantState {
							t.Errorf("state %s (%v), want %s", st.State, st.Error, wantState)
						}
						if gone := len(rec) == 0; gone != wantGone {
							t.Errorf("record gone %v, want %v", gone, wantGone)
						}
						if written != wantWritten {
							t.Errorf("%s written %v (%v), want %v", df[0], written, rec, wantWritten)
						}
						// Doing it again costs no call.
						before := r.calls()
						r.accept("person", forcesync.Change{Key: "p1", Op: forcesync.OpDisable})
						r.drain()
						if trig == disable && on && r.calls() != before {
							t.Errorf("disabling again made %d calls", r.calls()-before)
						}
						// Back in scope: the same record is updated (a User active again).
						if wantGone {
							return
						}
						fields["last"] = "King"
						r.accept("person", forcesync.Change{Key: "p1", Fields: fields})
						r.drain()
						st = r.status("person", "p1")
						if st.State != forcesync.StateSynced || st.SalesforceID != id {
							t.Fatalf("back in scope: %+v, want synced to %s", st, id)
						}
						if obj == "User" {
							rec := r.query(fmt.Sprintf("SELECT IsActive, LastName FROM User WHERE Id = '%s'", id))
							if rec[0]["IsActive"] != true || rec[0]["LastName"] != "King" {
								t.Errorf("User back in scope: %v, want active King", rec[0])
							}
						}
					})
				}
			}
		}
	}
}

// profile returns the Id of the emulator's profile name.
func (r *rig) profile(name string) string {
	r.t.Helper()
	recs := r.query("SELECT Id FROM Profile WHERE Name = '" + name + "'")
	if len(recs) != 1 {
		r.t.Fatalf("profile %s: %v", name, recs)
	}
	return recs[0].ID()
}

// TestDisableWithRemoveAction: disable_with remove_action deletes a Lead on
// disable when the remove action is delete.
func TestDisableWithRemoveAction(t *testing.T) {
	m := lifecycleMapping("Lead", forcesync.Operations{Delete: forcesync.DeleteDelete, DisableRemoves: true})
	r := newRig(t, engine.Config{}, m)
	r.accept("person", forcesync.Change{Key: "p1", Fields: map[string]any{"last": "L", "scope": true}})
	r.drain()
	id := r.status("person", "p1").SalesforceID
	r.accept("person", forcesync.Change{Key: "p1", Fields: map[string]any{"last": "L", "scope": true, "gone": true}, Op: forcesync.OpDisable})
	r.drain()
	if st := r.status("person", "p1"); st.State != forcesync.StateDeleted {
		t.Fatalf("state %+v, want deleted", st)
	}
	if n := len(r.query("SELECT Id FROM Lead WHERE Id = '" + id + "'")); n != 0 {
		t.Fatalf("lead still there")
	}
}

// TestDisableWhenRule: the mapping rule disables a User whose source says so.
func TestDisableWhenRule(t *testing.T) {
	m := lifecycleMapping("User", forcesync.Operations{DisableWhen: `status == "suspended"`})
	r := newRig(t, engine.Config{}, m)
	f := map[string]any{"last": "L", "email": "u@example.com", "scope": true, "status": "ok", "profile": r.profile("Standard User")}
	r.accept("person", forcesync.Change{Key: "u", Fields: f})
	r.drain()
	id := r.status("person", "u").SalesforceID
	f["status"] = "suspended"
	r.accept("person", forcesync.Change{Key: "u", Fields: f})
	r.drain()
	if st := r.status("person", "u"); st.State != forcesync.StateDisabled {
		t.Fatalf("state %+v", st)
	}
	if rec := r.query("SELECT IsActive FROM User WHERE Id = '" + id + "'"); rec[0]["IsActive"] != false {
		t.Fatalf("user %v, want inactive", rec[0])
	}
	_ = context.Background()
}

// TestDisableOfARecordDeletedInSalesforce: a Lead a rep deleted in
// Salesforce is disabled in the application. Closing it cannot be written
// to a deleted record, and need not be: nothing in Salesforce is active.
// The record reads disabled and unbound (not held on ENTITY_IS_DELETED),
// and enabling it creates a new Lead rather than reporting synced to the
// deleted one without a call.
func TestDisableOfARecordDeletedInSalesforce(t *testing.T) {
	m := lifecycleMapping("Lead", forcesync.Operations{})
	r := newRig(t, engine.Config{}, m)
	fields := map[string]any{"last": "Lovelace", "email": "ada@example.com", "scope": true}
	r.accept("person", forcesync.Change{Key: "p1", Fields: fields})
	r.drain()
	first := r.status("person", "p1").SalesforceID
	if err := r.emu.DeleteAs("Lead", first); err != nil {
		t.Fatal(err)
	}
	r.accept("person", forcesync.Change{Key: "p1", Op: forcesync.OpDisable})
	r.drain()
	if st := r.status("person", "p1"); st.State != forcesync.StateDisabled || st.SalesforceID != "" || st.Error != nil {
		t.Fatalf("disabled after its Lead was deleted: %+v", st)
	}
	r.accept("person", forcesync.Change{Key: "p1", Fields: fields})
	r.drain()
	st := r.status("person", "p1")
	if st.State != forcesync.StateSynced || st.SalesforceID == "" || st.SalesforceID == first {
		t.Fatalf("enabled again: %+v, want synced to a new Lead (deleted: %s)", st, first)
	}
	if got := r.query("SELECT Id, Status FROM Lead WHERE Id = '" + st.SalesforceID + "'"); len(got) != 1 || got[0]["Status"] == "Closed - Not Converted" {
		t.Fatalf("the new Lead: %v", got)
	}
}
