package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/forcesync/forcesync/emulator"
)

// groupsConfig scopes prospects (group "prospects") to Leads and customers
// (group "customers") to Contacts, with the whole lifecycle on.
const groupsConfig = scimConfigHead + `  - name: prospects
    source: idp_user
    object: Lead
    filter: '"prospects" in groups'
    match: {external_id: Forcesync_Key__c}
    operations:
      remove_action: deactivate
      disable_with: {Status: Closed - Not Converted}
    fields:
      - {target: Email, source: email}
      - {target: LastName, source: familyName, default: Undefined}
      - {target: Title, source: title, clear_when_empty: true}
      - {target: Company, value: Acme}
      - {target: Status, value: Working - Contacted}
  - name: customers
    source: idp_user
    object: Contact
    filter: '"customers" in groups'
    match: {external_id: Forcesync_Key__c}
    operations:
      remove_action: delete
      disable_with: {HasOptedOutOfEmail: true}
    fields:
      - {target: Email, source: email}
      - {target: LastName, source: familyName, default: Undefined}
      - {target: Title, source: title, clear_when_empty: true}
      - {target: HasOptedOutOfEmail, value: false}
`

// idpReplay drives one identity provider's requests against serve.
type idpReplay struct {
	t  *testing.T
	s  *served
	sf string
}

func (p *idpReplay) do(method, path, body string, want int) map[string]any {
	p.t.Helper()
	req, _ := http.NewRequest(method, p.s.base+"/scim/v2"+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer idp-token")
	req.Header.Set("Content-Type", "application/scim+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	if resp.StatusCode != want {
		p.t.Fatalf("%s %s: %d %v, want %d", method, path, resp.StatusCode, out, want)
	}
	return out
}

// until polls the emulator until check accepts soql's rows.
func (p *idpReplay) until(step, soql string, check func(r []map[string]any) bool) {
	p.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		recs := emuRecords(p.t, p.sf, soql)
		rows := make([]map[string]any, len(recs))
		for i, r := range recs {
			rows[i] = r
		}
		if check(rows) {
			return
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("step %q: %v", step, rows)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func startReplay(t *testing.T) *idpReplay {
	emu, sfURL := startEmulator(t, emulator.Config{})
	s := startServeWith(t, emu, fmt.Sprintf(groupsConfig, sfURL), map[string]string{"TEST_SCIM_TOKEN": "idp-token"})
	return &idpReplay{t: t, s: s, sf: sfURL}
}

// checkLifecycle asserts Salesforce after each step of a replay; steps
// run the identity provider's requests for that step.
func (p *idpReplay) checkLifecycle(id string, steps map[string]func()) {
	lead := "SELECT Title, Status, IsConverted, ConvertedContactId FROM Lead WHERE Forcesync_Key__c = '" + id + "'"
	contact := "SELECT Id, Title, HasOptedOutOfEmail FROM Contact"
	one := func(r []map[string]any) bool { return len(r) == 1 }
	steps["join prospects"]()
	p.until("join prospects: a Lead", lead, func(r []map[string]any) bool { return one(r) && r[0]["Title"] == "Analyst" })
	steps["update"]()
	p.until("update: the Lead's title", lead, func(r []map[string]any) bool { return one(r) && r[0]["Title"] == "Lead Analyst" })
	steps["disable"]()
	p.until("disable: the Lead closed", lead, func(r []map[string]any) bool { return one(r) && r[0]["Status"] == "Closed - Not Converted" })
	steps["enable"]()
	p.until("enable: the Lead open again", lead, func(r []map[string]any) bool { return one(r) && r[0]["Status"] == "Working - Contacted" })
	steps["move to customers"]()
	p.until("move: the Lead converted", lead, func(r []map[string]any) bool { return one(r) && r[0]["IsConverted"] == true })
	p.until("move: one Contact, the converted one", contact, func(r []map[string]any) bool {
		conv := emuRecords(p.t, p.sf, lead)[0]["ConvertedContactId"]
		return one(r) && r[0]["Id"] == conv && r[0]["Title"] == "Lead Analyst"
	})
	steps["disable"]()
	p.until("disable: the Contact opted out", contact, func(r []map[string]any) bool { return one(r) && r[0]["HasOptedOutOfEmail"] == true })
	steps["enable"]()
	p.until("enable: the Contact opted in", contact, func(r []map[string]any) bool { return one(r) && r[0]["HasOptedOutOfEmail"] == false })
	steps["delete"]()
	p.until("delete: the Contact deleted", contact, func(r []map[string]any) bool { return len(r) == 0 })
	if n := len(emuRecords(p.t, p.sf, "SELECT Id FROM Lead")); n != 1 {
		p.t.Fatalf("%d Leads, want the one converted", n)
	}
}

const userJSON = `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ada@example.com",
	"name":{"givenName":"Ada","familyName":"Lovelace"},"emails":[{"value":"ada@example.com","type":"work","primary":true}],
	"title":%q,"active":%t}`

// TestOktaLifecycleThroughSCIM replays Okta's requests: users replaced by
// PUT, group members added with add/members and removed by a filter path.
func TestOktaLifecycleThroughSCIM(t *testing.T) {
	p := startReplay(t)
	p.do("GET", "/Users?filter=userName%20eq%20%22ada%40example.com%22&startIndex=1&count=100", "", 200)
	id := p.do("POST", "/Users", fmt.Sprintf(userJSON, "Analyst", true), 201)["id"].(string)
	prospects := p.do("POST", "/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"prospects","members":[]}`, 201)["id"].(string)
	customers := p.do("POST", "/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"customers","members":[]}`, 201)["id"].(string)
	title := "Lead Analyst"
	patchGroup := func(gid, ops string) {
		p.do("PATCH", "/Groups/"+gid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[`+ops+`]}`, 204)
	}
	p.checkLifecycle(id, map[string]func(){
		"join prospects": func() {
			patchGroup(prospects, `{"op":"add","path":"members","value":[{"value":"`+id+`","display":"ada@example.com"}]}`)
		},
		"update":  func() { p.do("PUT", "/Users/"+id, fmt.Sprintf(userJSON, title, true), 200) },
		"disable": func() { p.do("PUT", "/Users/"+id, fmt.Sprintf(userJSON, title, false), 200) },
		"enable":  func() { p.do("PUT", "/Users/"+id, fmt.Sprintf(userJSON, title, true), 200) },
		"move to customers": func() {
			patchGroup(prospects, `{"op":"remove","path":"members[value eq \"`+id+`\"]"}`)
			patchGroup(customers, `{"op":"add","path":"members","value":[{"value":"`+id+`","display":"ada@example.com"}]}`)
		},
		"delete": func() { p.do("DELETE", "/Users/"+id, "", 204) },
	})
	// The Group lists its member; the User shows its groups.
	g := p.do("GET", "/Groups/"+customers, "", 200)
	if ms := g["members"].([]any); len(ms) != 1 || ms[0].(map[string]any)["value"] != id {
		t.Fatalf("customers members %v", g["members"])
	}
}

// TestEntraLifecycleThroughSCIM replays Entra ID's requests: users changed
// by PATCH with capitalised ops and "True"/"False" strings, group members
// added and removed with value lists.
func TestEntraLifecycleThroughSCIM(t *testing.T) {
	p := startReplay(t)
	p.do("GET", "/Users?filter=userName+eq+%22ada%40example.com%22", "", 200)
	id := p.do("POST", "/Users", fmt.Sprintf(userJSON, "Analyst", true), 201)["id"].(string)
	gid := func(name string) string {
		return p.do("POST", "/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"`+name+`","externalId":"`+name+`-ext"}`, 201)["id"].(string)
	}
	prospects, customers := gid("prospects"), gid("customers")
	patch := func(path, ops string, want int) {
		p.do("PATCH", path, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[`+ops+`]}`, want)
	}
	member := `{"op":"%s","path":"members","value":[{"value":"` + id + `"}]}`
	p.checkLifecycle(id, map[string]func(){
		"join prospects": func() { patch("/Groups/"+prospects, fmt.Sprintf(member, "Add"), 204) },
		"update": func() {
			patch("/Users/"+id, `{"op":"Replace","path":"title","value":"Lead Analyst"},{"op":"Replace","path":"addresses[type eq \"work\"].formatted","value":"1 Main St"}`, 200)
		},
		"disable": func() { patch("/Users/"+id, `{"op":"Replace","path":"active","value":"False"}`, 200) },
		"enable":  func() { patch("/Users/"+id, `{"op":"Replace","path":"active","value":"True"}`, 200) },
		"move to customers": func() {
			patch("/Groups/"+prospects, fmt.Sprintf(member, "Remove"), 204)
			patch("/Groups/"+customers, fmt.Sprintf(member, "Add"), 204)
		},
		"delete": func() { p.do("DELETE", "/Users/"+id, "", 204) },
	})
}
