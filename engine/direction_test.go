package engine_test

import (
	"strings"
	"testing"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/engine"
)

// TestPullRowsAreNeverPushed: a field row with direction pull is read back
// from Salesforce, never written to it (issue 9 item 7: it used to push
// the app's value over Salesforce's).
func TestPullRowsAreNeverPushed(t *testing.T) {
	m := forcesync.Mapping{Name: "leads", Source: "client", Object: "Lead", Direction: forcesync.Both,
		Match: forcesync.MatchRule{Kind: forcesync.MatchExternalID, Field: "Forcesync_Key__c"},
		Fields: []forcesync.FieldRow{
			{Target: "LastName", SourceField: "last"},
			{Target: "Company", SourceField: "company"},
			{Target: "Phone", SourceField: "phone", Direction: forcesync.Pull},
		}}
	r := newRig(t, engine.Config{}, m)
	r.accept("client", forcesync.Change{Key: "k1", Op: forcesync.OpUpsert,
		Fields: map[string]any{"last": "Ada", "company": "ACME", "phone": "555-APP"}})
	r.drain()
	recs := r.query("SELECT Id, LastName, Phone FROM Lead WHERE Forcesync_Key__c = 'k1'")
	if len(recs) != 1 || recs[0]["LastName"] != "Ada" {
		t.Fatalf("lead not pushed: %v", recs)
	}
	if recs[0]["Phone"] != nil {
		t.Fatalf("a pull row was pushed: Phone = %v", recs[0]["Phone"])
	}
}

// TestPullMappingNeverPushes: a mapping with direction pull queues no work
// and makes no call for accepted changes.
func TestPullMappingNeverPushes(t *testing.T) {
	m := forcesync.Mapping{Name: "leads", Source: "client", Object: "Lead", Direction: forcesync.Pull,
		Match: forcesync.MatchRule{Kind: forcesync.MatchExternalID, Field: "Forcesync_Key__c"},
		Fields: []forcesync.FieldRow{
			{Target: "LastName", SourceField: "last"},
			{Target: "Company", SourceField: "company"},
		}}
	r := newRig(t, engine.Config{}, m)
	if got := r.Eng.MappingsFor("client"); len(got) != 0 {
		t.Fatalf("pull mapping fed by ingest: %v", got)
	}
	before := r.calls()
	r.accept("client", forcesync.Change{Key: "k1", Op: forcesync.OpUpsert, Fields: map[string]any{"last": "Ada", "company": "ACME"}})
	if n := r.drain(); n != 0 {
		t.Fatalf("drain handled %d records of a pull mapping", n)
	}
	if recs := r.query("SELECT Id FROM Lead WHERE Forcesync_Key__c = 'k1'"); len(recs) != 0 {
		t.Fatalf("pull mapping pushed: %v", recs)
	}
	if d := r.calls() - before; d != 1 { // the query above
		t.Fatalf("calls = %d, want only the test's own query", d)
	}
}

// TestDirectionRules: rows that cannot be pulled are refused, naming the field.
func TestDirectionRules(t *testing.T) {
	base := func() forcesync.Mapping {
		return forcesync.Mapping{Name: "m", Source: "s", Object: "Lead", Direction: forcesync.Both,
			Match:  forcesync.MatchRule{Kind: forcesync.MatchBinding},
			Fields: []forcesync.FieldRow{{Target: "LastName", SourceField: "last"}}}
	}
	for name, tc := range map[string]struct {
		edit func(m *forcesync.Mapping)
		want string
	}{
		"pull row in push mapping": {func(m *forcesync.Mapping) {
			m.Direction = forcesync.Push
			m.Fields[0].Direction = forcesync.Pull
		}, "field LastName: direction pull needs the mapping's direction to be pull or both"},
		"expr pulled": {func(m *forcesync.Mapping) {
			m.Fields[0] = forcesync.FieldRow{Target: "LastName", Expr: `"x"`}
		}, "field LastName: direction both needs source:"},
		"push row in pull mapping": {func(m *forcesync.Mapping) {
			m.Direction = forcesync.Pull
			m.Fields[0].Direction = forcesync.Push
		}, "field LastName: direction push in a mapping with direction pull"},
		"conflict on pull row": {func(m *forcesync.Mapping) {
			m.Fields[0].Direction = forcesync.Pull
			m.Fields[0].Conflict = forcesync.AppWins
		}, "conflict applies only to direction both rows"},
		"conflict on pull mapping": {func(m *forcesync.Mapping) {
			m.Direction = forcesync.Pull
			m.Fields[0].Direction = ""
			m.Pull = &forcesync.PullConfig{Conflict: forcesync.AppWins}
		}, "pull: conflict applies only to direction both"},
		"webhook without url": {func(m *forcesync.Mapping) {
			m.Pull = &forcesync.PullConfig{Into: []string{"webhook"}}
		}, "webhook.url is not set"},
	} {
		t.Run(name, func(t *testing.T) {
			m := base()
			tc.edit(&m)
			err := m.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate() = %v, want %q", err, tc.want)
			}
		})
	}
}
