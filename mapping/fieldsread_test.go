package mapping_test

import (
	"testing"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/mapping"
)

// TestReadsField: the source fields a mapping reads, from each kind of row,
// the filter and disable_when; an expression over the whole record reads
// them all.
func TestReadsField(t *testing.T) {
	m := forcesync.Mapping{Name: "m", Source: "s", Object: "Lead", Match: forcesync.MatchRule{Kind: forcesync.MatchBinding},
		Filter:     `score >= 50`,
		Operations: forcesync.Operations{DisableWhen: `status == "gone"`},
		Fields: []forcesync.FieldRow{
			{Target: "LastName", SourceField: "last"},
			{Target: "Company", FirstOf: []string{"company", "employer.name", "'Unknown'"}},
			{Target: "Title", Expr: `str(role) + " at " + coalesce(team, "HQ")`},
			{Target: "Phone", SourceField: "address.city"},
			{Target: "LeadSource", HasConstant: true, Constant: "Web"},
		}}
	c, err := mapping.Compile(m, leadDescribe())
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"last", "company", "employer", "employer.name", "role", "team", "address", "address.city", "score", "status"} {
		if !c.ReadsField(f) {
			t.Errorf("ReadsField(%q) = false, want true", f)
		}
	}
	for _, f := range []string{"emial", "Unknown", "Web", "city", "name", ""} {
		if c.ReadsField(f) {
			t.Errorf("ReadsField(%q) = true, want false", f)
		}
	}
	m.Fields = append(m.Fields, forcesync.FieldRow{Target: "Description", Expr: `$env["notes"]`})
	if c, err = mapping.Compile(m, leadDescribe()); err != nil {
		t.Fatal(err)
	}
	if !c.ReadsField("anything") {
		t.Error("an expression over $env: ReadsField(anything) = false, want true")
	}
}
