package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/forcesync/forcesync/emulator"
)

// cookbookForEmulator returns the yaml block of the cookbook section whose
// heading starts with heading, its connection pointed at the emulator at
// sfURL (password auth; secrets from TEST_SF_SECRET, TEST_SF_PASSWORD).
func cookbookForEmulator(t *testing.T, heading, sfURL string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "cookbook.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	i := strings.Index(doc, "\n"+heading)
	if i < 0 {
		t.Fatalf("no cookbook section %q", heading)
	}
	m := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindStringSubmatch(doc[i:])
	if m == nil {
		t.Fatalf("section %q has no yaml block", heading)
	}
	conn := fmt.Sprintf(emulatorConnection, sfURL) + "\nsources:"
	out := regexp.MustCompile(`(?s)connections:\n.*?\nsources:`).ReplaceAllLiteralString(m[1], conn)
	if out == m[1] {
		t.Fatalf("section %q: no connections to replace", heading)
	}
	return out
}

// TestCookbookPingOne runs the PingOne-style config of docs/cookbook.md
// through SCIM: a prospect becomes a Lead, then a customer (the Lead is
// converted, no twin), is disabled and enabled again, has an attribute
// removed (cleared in Salesforce) and is deleted.
func TestCookbookPingOne(t *testing.T) {
	emu, sfURL := startEmulator(t, emulator.Config{})
	s := startServeWith(t, emu, cookbookForEmulator(t, "## 5.", sfURL),
		map[string]string{"FORCESYNC_API_TOKEN": "s3cret-token", "SCIM_TOKEN": "idp-token"})
	scimDo := func(method, path, body string) map[string]any {
		t.Helper()
		req, _ := http.NewRequest(method, s.base+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer idp-token")
		req.Header.Set("Content-Type", "application/scim+json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		if resp.StatusCode >= 300 {
			t.Fatalf("%s %s: %d %v", method, path, resp.StatusCode, out)
		}
		return out
	}
	patch := func(id, ops string) {
		scimDo("PATCH", "/scim/v2/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[`+ops+`]}`)
	}
	// until polls the emulator until check accepts the rows of soql.
	var id string
	until := func(what, soql string, check func([]map[string]any) bool) []map[string]any {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			recs := emuRecords(t, sfURL, soql)
			rows := make([]map[string]any, len(recs))
			for i, r := range recs {
				rows[i] = r
			}
			if check(rows) {
				return rows
			}
			if time.Now().After(deadline) {
				_, st := s.do("GET", "/api/v1/sources/pingone_user/records/"+id, "", true)
				t.Fatalf("%s: %v; statuses %v", what, rows, st)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	u := scimDo("POST", "/scim/v2/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ada@example.com",
		"name":{"givenName":"Ada","familyName":"Lovelace"},"title":"Analyst","userType":"prospect",
		"emails":[{"value":"ada@example.com","primary":true}],"active":true}`)
	id = u["id"].(string)
	until("a Lead", "SELECT Id, Title FROM Lead", func(r []map[string]any) bool { return len(r) == 1 && r[0]["Title"] == "Analyst" })

	patch(id, `{"op":"replace","path":"userType","value":"customer"}`)
	contacts := until("the converted Contact", "SELECT Id, Forcesync_Key__c, Title FROM Contact", func(r []map[string]any) bool {
		return len(r) == 1 && r[0]["Forcesync_Key__c"] == id
	})
	leads := emuRecords(t, sfURL, "SELECT IsConverted, ConvertedContactId FROM Lead")
	if len(leads) != 1 || leads[0]["IsConverted"] != true || leads[0]["ConvertedContactId"] != contacts[0]["Id"] {
		t.Fatalf("lead after promotion %v (contact %v)", leads, contacts)
	}
	cid := contacts[0]["Id"].(string)
	one := "SELECT HasOptedOutOfEmail, Title FROM Contact WHERE Id = '" + cid + "'"

	patch(id, `{"op":"replace","value":{"active":false}}`)
	until("disabled: opted out", one, func(r []map[string]any) bool { return len(r) == 1 && r[0]["HasOptedOutOfEmail"] == true })
	patch(id, `{"op":"replace","path":"active","value":"True"}`)
	until("enabled again", one, func(r []map[string]any) bool { return len(r) == 1 && r[0]["HasOptedOutOfEmail"] == false })

	patch(id, `{"op":"remove","path":"title"}`)
	until("title cleared", one, func(r []map[string]any) bool { return len(r) == 1 && r[0]["Title"] == nil })

	// The delete is the second removal within the hour for one customer:
	// past 20%, so the guard holds it until approved.
	scimDo("DELETE", "/scim/v2/Users/"+id, "")
	st := s.waitStateOf("pingone_user", id, "pingone_customers", "held")
	if st["error"].(map[string]any)["code"] != "MASS_CHANGE_PAUSED" {
		t.Fatalf("held with %v", st["error"])
	}
	if code, out := s.do("POST", "/api/v1/mappings/pingone_customers/approve", "", true); code != 200 || out["requeued"] != 1.0 {
		t.Fatalf("approve: %d %v", code, out)
	}
	until("deleted", one, func(r []map[string]any) bool { return len(r) == 0 })
	if st := s.waitStateOf("pingone_user", id, "pingone_prospects", "converted"); st["error"] != nil {
		t.Fatalf("lead status %v", st)
	}
	if n := len(emuRecords(t, sfURL, "SELECT Id FROM Contact")); n != 0 {
		t.Fatalf("%d contacts left", n)
	}
}

// waitStateOf polls a record until its status under mapping is state.
func (s *served) waitStateOf(source, key, mapping, state string) map[string]any {
	s.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var last map[string]any
	for time.Now().Before(deadline) {
		code, body := s.do("GET", "/api/v1/sources/"+source+"/records/"+key, "", true)
		if code == 200 {
			last = body
			for _, m := range body["mappings"].([]any) {
				if m := m.(map[string]any); m["mapping"] == mapping && m["state"] == state {
					return m
				}
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.t.Fatalf("record %s never reached %s under %s: %v", key, state, mapping, last)
	return nil
}
