package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/forcesync/forcesync/emulator"
)

const schemaServeConfig = `
server:
  api_token: ${TEST_API_TOKEN}
store:
  sqlite: fs.db
` + emulatorConnection + `
sources:
  - name: client
mappings:
  - name: clients_to_leads
    source: client
    object: Lead
    match:
      external_id: Forcesync_Key__c
    fields:
      - target: LastName
        source: last_name
      - target: Company
        value: Trading Clients
        on: create
      - target: Tier__c
        source: tier
        map: {g: Gold, s: Silver}
`

// TestServePausesOnSchemaDrift renames a picklist value while serve runs:
// the next push is refused, the mapping pauses, the plan API says why
// (naming the field and the change), and the record waits.
func TestServePausesOnSchemaDrift(t *testing.T) {
	emu, sfURL := startEmulator(t, emulator.Config{Objects: []emulator.ObjectConfig{{Name: "Lead", Fields: []emulator.FieldConfig{
		{Name: "Tier__c", Type: "picklist", Picklist: []string{"Gold", "Silver"}, Restricted: true},
	}}}})
	s := startServeWith(t, emu, fmt.Sprintf(schemaServeConfig, sfURL), nil)
	s.do("POST", "/api/v1/sources/client/records", `[{"key":"c1","fields":{"last_name":"One","tier":"g"}}]`, true)
	s.waitState("c1", "synced")
	if err := emu.RenamePicklistValue("Lead", "Tier__c", "Gold", "Platinum"); err != nil {
		t.Fatal(err)
	}
	s.do("POST", "/api/v1/sources/client/records", `[{"key":"c2","fields":{"last_name":"Two","tier":"g"}}]`, true)
	deadline := time.Now().Add(20 * time.Second)
	for {
		code, body := s.do("GET", "/api/v1/plan", "", true)
		if code != 200 {
			t.Fatalf("plan: %d %v", code, body)
		}
		m := body["mappings"].([]any)[0].(map[string]any)
		if why, _ := m["paused"].(string); why != "" {
			if !strings.Contains(why, "Tier__c") || !strings.Contains(why, `removed ["Gold"]`) {
				t.Fatalf("paused because %q; want the field and the change named", why)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the mapping never paused: %v", m)
		}
		time.Sleep(20 * time.Millisecond)
	}
	code, body := s.do("GET", "/api/v1/sources/client/records/c2", "", true)
	st := body["mappings"].([]any)[0].(map[string]any)["state"]
	if code != 200 || st == "synced" {
		t.Fatalf("c2: %d %v; want it kept, not synced", code, body)
	}
}
