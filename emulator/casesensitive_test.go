package emulator

import (
	"fmt"
	"strings"
	"testing"
)

// TestExternalIDCase checks describe reports caseSensitive for External ID
// fields (false by default, as Salesforce's unique External ID text fields
// are; true when the YAML marks the field case_sensitive), and that upsert
// matches the value the way describe says.
func TestExternalIDCase(t *testing.T) {
	cfg, err := ParseConfig("org.yaml", []byte(`
objects:
  - name: Lead
    fields:
      - name: Strict_Key__c
        type: string
        length: 40
        external_id: true
        unique: true
        case_sensitive: true
`))
	if err != nil {
		t.Fatal(err)
	}
	s := newCoreServer(t, cfg)
	r := s.do(t, "GET", "/services/data/v65.0/sobjects/Lead/describe", nil)
	wantStatus(t, r, 200)
	sens := map[string]any{}
	for _, f := range r.json(t).(map[string]any)["fields"].([]any) {
		f := f.(map[string]any)
		sens[f["name"].(string)] = f["caseSensitive"]
	}
	if sens["Forcesync_Key__c"] != false || sens["Strict_Key__c"] != true {
		t.Fatalf("caseSensitive: Forcesync_Key__c %v, Strict_Key__c %v", sens["Forcesync_Key__c"], sens["Strict_Key__c"])
	}
	const base = "/services/data/v65.0/sobjects/Lead/"
	lead := map[string]any{"LastName": "A", "Company": "B"}
	wantStatus(t, s.do(t, "PATCH", base+"Forcesync_Key__c/sbulk-00005", lead), 201)
	wantStatus(t, s.do(t, "PATCH", base+"Forcesync_Key__c/SBULK-00005", lead), 200) // the same Lead
	wantStatus(t, s.do(t, "PATCH", base+"Strict_Key__c/abc", lead), 201)
	wantStatus(t, s.do(t, "PATCH", base+"Strict_Key__c/ABC", lead), 201) // another Lead
	r = s.do(t, "GET", "/services/data/v65.0/query?q=SELECT+Id+FROM+Lead", nil)
	wantStatus(t, r, 200)
	if n := r.json(t).(map[string]any)["totalSize"]; fmt.Sprint(n) != "3" {
		t.Fatalf("leads: %v", n)
	}

	// Only a unique text field can be case-sensitive.
	_, err = ParseConfig("org.yaml", []byte(`
objects:
  - name: Lead
    fields:
      - name: Loose__c
        type: string
        external_id: true
        case_sensitive: true
`))
	if err == nil {
		_, err = New(Config{Objects: []ObjectConfig{{Name: "Lead", Fields: []FieldConfig{{Name: "Loose__c", Type: "string", ExternalID: true, CaseSensitive: true}}}}})
	}
	if err == nil || !strings.Contains(err.Error(), "case_sensitive needs a unique text field") {
		t.Fatalf("case_sensitive without unique: %v", err)
	}
}
