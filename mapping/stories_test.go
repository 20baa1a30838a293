package mapping_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	forcesync "github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/config"
	"github.com/forcesync/forcesync/mapping"
	"github.com/forcesync/forcesync/salesforce"
)

var storyEnv = map[string]string{
	"SF_CLIENT_SECRET": "s1", "WP_PLUGIN_TOKEN": "t1", "SF_JWT_KEY": "-----BEGIN PRIVATE KEY-----",
	"SF_SECRET": "s2", "SF_PASSWORD": "p", "FORCESYNC_API_TOKEN": "tok", "DATABASE_URL": "postgres://x",
	"SF_REFRESH_TOKEN": "r",
}

// loadStory loads a connector story config and compiles its mappings.
func loadStory(t *testing.T, file string) (*config.Config, map[string]*mapping.Compiled) {
	t.Helper()
	cfg, err := config.Load("testdata/" + file)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if err := cfg.Resolve(func(k string) string { return storyEnv[k] }); err != nil {
		t.Fatalf("resolve: %v", err)
	}
	out := map[string]*mapping.Compiled{}
	for _, m := range cfg.Mappings {
		var d *salesforce.SObjectDescribe
		switch m.Object {
		case "Lead":
			d = leadDescribe()
		case "Contact":
			d = contactDescribe()
		}
		c, err := mapping.Compile(m, d)
		if err != nil {
			t.Fatalf("compile %s: %v", m.Name, err)
		}
		out[m.Name] = c
	}
	return cfg, out
}

func payload(t *testing.T, c *mapping.Compiled, key string, rec string, create bool) mapping.Payload {
	t.Helper()
	var fields map[string]any
	if err := json.Unmarshal([]byte(rec), &fields); err != nil {
		t.Fatal(err)
	}
	p, err := c.PayloadFor(key, fields, create)
	if err != nil {
		t.Fatalf("payload of %s: %v", rec, err)
	}
	return p
}

func TestStoryWordPress(t *testing.T) {
	cfg, cs := loadStory(t, "wordpress.yaml")
	c := cs["wp_users_to_contacts"]
	if cfg.Connections[0].ClientSecret != "s1" || cfg.Sources[0].APIToken != "t1" || cfg.Sources[0].APITokenEnv != "WP_PLUGIN_TOKEN" {
		t.Fatalf("secrets not resolved: %+v %+v", cfg.Connections[0], cfg.Sources[0])
	}
	if c.ExternalIDField() != "WP_User_Id__c" || !c.DeletesInSalesforce() || !c.CanUpdate() {
		t.Fatalf("match/operations: %q delete=%v update=%v", c.ExternalIDField(), c.DeletesInSalesforce(), c.CanUpdate())
	}
	rec := `{"id": 42, "user_login": "jdoe", "display_name": "John D", "first_name": "",
		"user_email": "john@example.com", "user_registered": "2024-03-01 10:00:00", "meta": {"job_title": "Editor"}}`
	p := payload(t, c, "42", rec, true)
	want := map[string]any{"WP_User_Id__c": "42", "LastName": "John D", "Email": "john@example.com", "Title": "Editor",
		"Description": "WordPress user jdoe, registered 2024-03-01 10:00:00"}
	if diff := cmp.Diff(want, p.Fields); diff != "" {
		t.Fatalf("create (-want +got):\n%s", diff)
	}
	if p.ExternalID != "42" || !cmp.Equal(p.Match, map[string]string{"WP_User_Id__c": "42"}) {
		t.Fatalf("match %q %v", p.ExternalID, p.Match)
	}
	// The update leaves the create-only Description out and clears FirstName.
	up := payload(t, c, "42", rec, false)
	want = map[string]any{"WP_User_Id__c": "42", "LastName": "John D", "FirstName": nil, "Email": "john@example.com", "Title": "Editor"}
	if diff := cmp.Diff(want, up.Fields); diff != "" {
		t.Fatalf("update (-want +got):\n%s", diff)
	}
	if p.UpdateFingerprint != up.Fingerprint {
		t.Fatal("create's UpdateFingerprint differs from the update's Fingerprint")
	}
	// Without a key there is nothing to upsert by.
	_, err := c.Payload(map[string]any{"user_login": "x"}, true)
	if re := recordErr(t, err); re == nil || re.Code != mapping.CodeRequiredFieldMissing || re.Fields[0] != "WP_User_Id__c" {
		t.Fatalf("got %v, want REQUIRED_FIELD_MISSING on WP_User_Id__c", err)
	}
}

func TestStoryTrading(t *testing.T) {
	cfg, cs := loadStory(t, "trading.yaml")
	c := cs["clients_to_leads"]
	if cfg.Engine.BulkThreshold != 5000 || cfg.Engine.APIShare != 0.3 || cfg.Connections[0].APIShare != 0.3 {
		t.Fatalf("engine settings: %+v, connection share %v", cfg.Engine, cfg.Connections[0].APIShare)
	}
	if cfg.Connections[0].PrivateKey == "" || cfg.Connections[0].LoginURL != config.ProductionLoginURL {
		t.Fatalf("connection: %+v", cfg.Connections[0])
	}
	p := payload(t, c, "C-1001", `{"client_id": "C-1001", "first_name": "Ann", "email": "ann@broker.example",
		"status": 1, "type": "pro", "kyc_level": 2, "deposits_total": 15000.75, "kyc_passed": "yes"}`, true)
	want := map[string]any{"Forcesync_Key__c": "C-1001", "LastName": "Undefined", "FirstName": "Ann",
		"Email": "ann@broker.example", "Company": "Broker Clients", "Client_Status__c": "Active",
		"Client_Type__c": "Professional", "Verification_Level__c": "Full", "AnnualRevenue": json.Number("15001"),
		"Verified__c": true}
	if diff := cmp.Diff(want, p.Fields); diff != "" {
		t.Fatalf("create (-want +got):\n%s", diff)
	}
	// A later edit is sent again, without the create-only Company.
	up := payload(t, c, "C-1001", `{"last_name": "Smith", "status": "dormant", "type": "retail"}`, false)
	want = map[string]any{"Forcesync_Key__c": "C-1001", "LastName": "Smith", "Client_Status__c": "Dormant",
		"Client_Type__c": "Retail", "Verification_Level__c": "None"}
	if diff := cmp.Diff(want, up.Fields); diff != "" {
		t.Fatalf("update (-want +got):\n%s", diff)
	}
	// An unknown status code is refused locally: no API call for it.
	_, err := c.PayloadFor("C-1", map[string]any{"status": 7.0}, true)
	if re := recordErr(t, err); re == nil || re.Code != mapping.CodeRestrictedPicklist || re.Fields[0] != "Client_Status__c" {
		t.Fatalf("got %v", err)
	}
}

func TestStoryCMS(t *testing.T) {
	cfg, cs := loadStory(t, "cms.yaml")
	c := cs["cms_contacts_to_leads"]
	if cfg.Connections[0].LoginURL != config.SandboxLoginURL || cfg.Connections[0].Password != "p" {
		t.Fatalf("connection: %+v", cfg.Connections[0])
	}
	if c.CanUpdate() {
		t.Fatal("mode once must not update")
	}
	for rec, want := range map[string]bool{`{"score": 50}`: true, `{"score": 49.5}`: false, `{}`: false} {
		var f map[string]any
		_ = json.Unmarshal([]byte(rec), &f)
		if got, err := c.Filter(f); err != nil || got != want {
			t.Errorf("Filter(%s) = %v, %v", rec, got, err)
		}
	}
	notes := strings.Repeat("ü", 40000)
	rec := `{"id": "c-7", "last_name": "Lee", "email": "lee@example.org", "employer": "Globex", "score": 88,
		"interests": ["forex", "crypto"], "company_size": "120", "notes": "` + notes + `"}`
	p := payload(t, c, "c-7", rec, true)
	desc := p.Fields["Description"].(string)
	if n := len([]rune(desc)); n != 32000 || !strings.HasPrefix(desc, "Score 88 - interests: forex, crypto\nüü") {
		t.Fatalf("description: %d runes, starts %q", n, desc[:40])
	}
	if !cmp.Equal(p.Warnings, []string{"Description truncated from 40036 to 32000 characters"}) {
		t.Fatalf("warnings %q", p.Warnings)
	}
	delete(p.Fields, "Description")
	want := map[string]any{"Forcesync_Key__c": "c-7", "LastName": "Lee", "Email": "lee@example.org", "Company": "Globex",
		"LeadSource": "Web", "NumberOfEmployees": json.Number("120"), "Interests__c": "Forex;Crypto"}
	if diff := cmp.Diff(want, p.Fields); diff != "" {
		t.Fatalf("create (-want +got):\n%s", diff)
	}
	p = payload(t, c, "c-8", `{"last_name": "Kim", "score": 51}`, true)
	if p.Fields["Company"] != "Unknown" {
		t.Fatalf("fallback chain: %v", p.Fields["Company"])
	}
	// The same story kept updated: compile it with mode keep_updated.
	m := *cfg.Mapping("cms_contacts_to_leads")
	m.Mode = forcesync.KeepUpdated
	ku, err := mapping.Compile(m, leadDescribe())
	if err != nil || !ku.CanUpdate() {
		t.Fatalf("keep_updated: %v", err)
	}
}

func TestStoryIdentityProvider(t *testing.T) {
	cfg, cs := loadStory(t, "idp.yaml")
	if cfg.Server.Listen != ":8443" || cfg.Server.APIToken != "tok" || cfg.Store.PostgresDSN != "postgres://x" || cfg.Store.SQLite != "" {
		t.Fatalf("server/store: %+v %+v", cfg.Server, cfg.Store)
	}
	leads, contacts := cs["signups_to_leads"], cs["customers_to_contacts"]
	if !leads.CanCreate() || leads.CanUpdate() || leads.DeletesInSalesforce() {
		t.Fatal("lead operations")
	}
	if !contacts.CanCreate() || !contacts.CanUpdate() || !contacts.DeletesInSalesforce() {
		t.Fatal("contact operations")
	}
	signup := `{"sub": "u1", "email": "new@corp.example", "given_name": "Nia", "groups": ["trial"]}`
	customer := `{"sub": "u2", "email": "Cust@Corp.example ", "family_name": "Okafor", "groups": ["customers"],
		"birthdate": "1990-02-03", "address": {"locality": "Lagos"}}`
	for _, tc := range []struct {
		c    *mapping.Compiled
		rec  string
		want bool
	}{{leads, signup, true}, {leads, customer, false}, {contacts, signup, false}, {contacts, customer, true}} {
		var f map[string]any
		_ = json.Unmarshal([]byte(tc.rec), &f)
		if got, err := tc.c.Filter(f); err != nil || got != tc.want {
			t.Errorf("%s Filter = %v, %v; want %v", tc.c.Mapping().Name, got, err, tc.want)
		}
	}
	p := payload(t, leads, "u1", signup, true)
	want := map[string]any{"Email": "new@corp.example", "LastName": "Undefined", "FirstName": "Nia",
		"Company": "Self-registered", "Status": "Open - Not Contacted"}
	if diff := cmp.Diff(want, p.Fields); diff != "" || !cmp.Equal(p.Match, map[string]string{"Email": "new@corp.example"}) {
		t.Fatalf("lead (-want +got):\n%s\nmatch %v", diff, p.Match)
	}
	p = payload(t, contacts, "u2", customer, true)
	want = map[string]any{"Email": "Cust@Corp.example", "LastName": "Okafor", "Birthdate": "1990-02-03", "MailingCity": "Lagos"}
	if diff := cmp.Diff(want, p.Fields); diff != "" || p.Match["Email"] != "Cust@Corp.example" {
		t.Fatalf("contact (-want +got):\n%s\nmatch %v", diff, p.Match)
	}
}
