package config_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/config"
)

// richMapping has a row of every kind and keys the editor does not manage.
const richMapping = `connections:
  - name: prod
    login_url: https://acme.my.salesforce.com
    auth: client_credentials
    client_id: abc
    client_secret: ${SF_SECRET}
sources:
  - name: client
mappings:
  - name: people
    source: client
    object: Contact
    direction: both
    # kept as written: the editor does not manage operations
    operations:
      remove_action: delete
    batch_size: 50
    match:
      fields: [Email]
    fields:
      - target: LastName
        source: last_name
        default: Unknown
      - target: Description
        template: "Customer since {{since}}"
        direction: push
      - target: LeadSource
        value: Web
        direction: push
      - target: NumberOfEmployees
        value: 42
        direction: push
      - target: Title
        value: "42"
        direction: push
      - target: Department
        expr: upper(dept)
        direction: push
      - target: Phone
        first_of: [mobile, phone, "'none'"]
        direction: push
      - target: Level__c
        source: level
        map:
          1: Bronze
          2: Gold
        on: create
        clear_when_empty: true
        direction: push
      - target: Email
        source: email
        direction: both
        conflict: app_wins
`

// TestLoadMappingEditsEveryRowKind loads a mapping, changes one row and
// saves it: every row kind survives the round trip, the keys the editor
// does not manage stay, and the result parses to the same mapping but the
// changed row.
func TestLoadMappingEditsEveryRowKind(t *testing.T) {
	before, err := config.Parse([]byte(richMapping), "forcesync.yaml")
	if err != nil {
		t.Fatal(err)
	}
	m, ok, err := config.LoadMapping([]byte(richMapping), "people")
	if err != nil || !ok {
		t.Fatalf("LoadMapping: %v %v", ok, err)
	}
	if m.Direction != "both" || len(m.Fields) != 9 || m.Fields[1].Template != "Customer since {{since}}" ||
		m.Fields[2].Value == nil || *m.Fields[2].Value != "Web" || *m.Fields[3].Value != "42" || *m.Fields[4].Value != `"42"` ||
		m.Fields[6].FirstOf[2] != "'none'" || m.Fields[7].Map["1"] != "Bronze" || m.Fields[7].On != "create" ||
		!m.Fields[7].ClearWhenEmpty || m.Fields[8].Conflict != "app_wins" || m.Fields[0].Default != "Unknown" {
		t.Fatalf("loaded %+v", m)
	}
	if _, ok, _ := config.LoadMapping([]byte(richMapping), "nope"); ok {
		t.Fatal("found a mapping that is not there")
	}
	// Unchanged, the round trip parses to the same mapping.
	out, err := config.SetMapping([]byte(richMapping), *m)
	if err != nil {
		t.Fatal(err)
	}
	same, err := config.Parse(out, "forcesync.yaml")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !reflect.DeepEqual(same.Mappings, before.Mappings) {
		t.Fatalf("round trip changed the mapping:\n%+v\n%+v\n%s", same.Mappings, before.Mappings, out)
	}
	if !strings.Contains(string(out), "# kept as written") {
		t.Errorf("the comment of an unmanaged key was lost:\n%s", out)
	}
	// Change one row: LeadSource becomes an expression.
	m.Fields[2] = config.RowYAML{Target: "LeadSource", Expr: `"Web " + channel`, Direction: "push"}
	out, err = config.SetMapping([]byte(richMapping), *m)
	if err != nil {
		t.Fatal(err)
	}
	after, err := config.Parse(out, "forcesync.yaml")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	got := after.Mapping("people")
	if got.Fields[2].Expr != `"Web " + channel` || got.Fields[2].HasConstant || got.Operations.Delete != forcesync.DeleteDelete ||
		got.BatchSize != 50 || got.Fields[4].Constant != "42" || got.Fields[3].Constant == "42" {
		t.Fatalf("after the edit: %+v", got)
	}
	got.Fields[2] = before.Mapping("people").Fields[2]
	if !reflect.DeepEqual(after.Mappings, before.Mappings) {
		t.Fatalf("the edit changed more than its row:\n%+v\n%+v", after.Mappings, before.Mappings)
	}
}
