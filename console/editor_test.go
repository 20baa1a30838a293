package console_test

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/config"
	"github.com/forcesync/forcesync/console"
	"github.com/forcesync/forcesync/salesforce"
	"golang.org/x/crypto/bcrypt"
)

// leadDescribe is a small Lead for the editor's type check.
type leadDescribe struct{}

func (leadDescribe) Objects(ctx context.Context, conn string) ([]salesforce.SObjectInfo, error) {
	return []salesforce.SObjectInfo{{Name: "Lead", Label: "Lead", Createable: true, Updateable: true}}, nil
}

func (leadDescribe) Describe(ctx context.Context, conn, object string) (*salesforce.SObjectDescribe, error) {
	f := func(name, typ string, length int) salesforce.Field {
		return salesforce.Field{Name: name, Type: typ, Length: length, Createable: true, Updateable: true, Nillable: true}
	}
	last := f("LastName", "string", 80)
	last.Nillable = false
	key := f("Key__c", "string", 80)
	key.ExternalID, key.IDLookup = true, true
	rating := f("Rating", "picklist", 40)
	rating.PicklistValues = []salesforce.PicklistValue{{Active: true, Value: "Hot", Label: "Hot"}, {Active: true, Value: "Cold", Label: "Cold"}}
	return &salesforce.SObjectDescribe{Name: "Lead", Createable: true, Updateable: true, Deletable: true, Fields: []salesforce.Field{
		last, key, rating, f("Email", "email", 80), f("Description", "textarea", 32000), f("LeadSource", "string", 40),
		f("Phone", "phone", 40), f("NumberOfEmployees", "int", 0)}}, nil
}

// fileConfig is the config file on disk, written in place (the atomic
// write is serve's, tested there).
type fileConfig struct{ path string }

func (f fileConfig) Read() ([]byte, string, error) {
	b, err := os.ReadFile(f.path)
	return b, f.path, err
}

func (f fileConfig) Write(data []byte) (string, error) {
	return f.path + ".bak", os.WriteFile(f.path, data, 0o600)
}

const editorConfig = `connections:
  - name: org
    login_url: https://acme.my.salesforce.com
    auth: access_token
    access_token: ${SF_TOKEN}
sources:
  - name: contact
mappings:
  - name: leads
    source: contact
    object: Lead
    operations:
      remove_action: delete
    match:
      external_id: Key__c
    fields:
      - target: LastName
        source: last_name
`

// TestEditorEditsEveryRowKind posts the editor's form for an existing
// mapping with a row of every kind; the check previews the sample, and
// saving writes rows that parse back to what the form said, keeping the
// mapping's operations.
func TestEditorEditsEveryRowKind(t *testing.T) {
	f := newFixture(t)
	path := filepath.Join(t.TempDir(), "forcesync.yaml")
	if err := os.WriteFile(path, []byte(editorConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse([]byte(editorConfig), path)
	if err != nil {
		t.Fatal(err)
	}
	if f.c, err = console.New(console.Config{Store: f.store, Engine: &fakeEngine{}, Now: f.clk.Now,
		Admins: []console.Admin{{Username: "alice", PasswordHash: string(hash)}}, Sources: []console.Source{{Name: "contact"}},
		Mappings: cfg.Mappings, Connections: cfg.Connections, Describer: leadDescribe{}, ConfigFile: fileConfig{path}}); err != nil {
		t.Fatal(err)
	}
	ck := f.signIn()
	if _, err := f.store.Accept(context.Background(), []string{"leads"}, []forcesync.Change{{Source: "contact", Key: "p1", Op: forcesync.OpUpsert,
		Fields: map[string]any{"last_name": "Lovelace", "phone": "", "mobile": "555-1", "rating": "1", "since": "1843"}}}); err != nil {
		t.Fatal(err)
	}
	// The mapping opens with its row.
	html := body(t, f.do("GET", "/mappings/leads/edit", nil, ck, nil))
	if !strings.Contains(html, `value="last_name"`) || !strings.Contains(html, "Type check passed") || !strings.Contains(html, "remove_action: delete") {
		t.Fatalf("editor of leads:\n%s", html)
	}
	rows := [][9]string{ // target, kind, value, default, map, on, direction, conflict, clear
		{"LastName", "source", "last_name", "Unknown", "", "", "", "", ""},
		{"Description", "template", "Customer since {{since}}", "", "", "", "", "", ""},
		{"LeadSource", "value", "Web", "", "", "create", "", "", ""},
		{"NumberOfEmployees", "value", "42", "", "", "", "", "", ""},
		{"Email", "expr", `lower(last_name) + "@example.com"`, "", "", "", "", "", ""},
		{"Phone", "first_of", "phone, mobile, 'none'", "", "", "", "", "", "yes"},
		{"Rating", "source", "rating", "", "1=Hot\n2=Cold\n", "", "", "", ""},
	}
	form := url.Values{"source": {"contact"}, "connection": {"org"}, "object": {"Lead"}, "match_kind": {"external_id"},
		"match_field": {"Key__c"}, "sample": {"p1"}, "action": {"check"}}
	for _, r := range rows {
		for i, name := range []string{"row_target", "row_kind", "row_value", "row_default", "row_map", "row_on", "row_direction", "row_conflict", "row_clear"} {
			form.Add(name, r[i])
		}
	}
	res := f.do("POST", "/mappings/leads/edit", form, ck, nil)
	html = body(t, res)
	for _, want := range []string{"Type check passed", `&#34;Description&#34;: &#34;Customer since 1843&#34;`, `&#34;Email&#34;: &#34;lovelace@example.com&#34;`,
		`&#34;Phone&#34;: &#34;555-1&#34;`, `&#34;Rating&#34;: &#34;Hot&#34;`, `&#34;NumberOfEmployees&#34;: 42`} {
		if !strings.Contains(html, want) {
			t.Fatalf("check lacks %s:\n%s", want, html)
		}
	}
	// A broken row is named on its row and nothing is saved.
	bad := url.Values{}
	for k, v := range form {
		bad[k] = append([]string(nil), v...)
	}
	bad["row_value"][4] = "lower(last_name) +"
	bad.Set("action", "save")
	html = body(t, f.do("POST", "/mappings/leads/edit", bad, ck, nil))
	if !strings.Contains(html, "invalid expression") || strings.Contains(html, `id="saved"`) {
		t.Fatalf("a broken expression was not refused:\n%s", html)
	}
	if b, _ := os.ReadFile(path); string(b) != editorConfig {
		t.Fatalf("a refused save wrote the file:\n%s", b)
	}
	form.Set("action", "save")
	if html := body(t, f.do("POST", "/mappings/leads/edit", form, ck, nil)); !strings.Contains(html, `id="saved"`) {
		t.Fatalf("save:\n%s", html)
	}
	after, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	m := after.Mapping("leads")
	if m == nil || len(m.Fields) != 7 || m.Operations.Delete != forcesync.DeleteDelete || m.Connection != "org" {
		t.Fatalf("saved mapping: %+v", m)
	}
	fs := m.Fields
	if fs[0].Default != "Unknown" || fs[1].Expr == "" || fs[2].Constant != "Web" || fs[2].On != forcesync.OnCreate ||
		fs[3].Constant == "42" || !fs[3].HasConstant || fs[4].Expr != `lower(last_name) + "@example.com"` ||
		len(fs[5].FirstOf) != 3 || !fs[5].ClearWhenEmpty || fs[6].ValueMap["2"] != "Cold" {
		t.Fatalf("saved rows: %+v", fs)
	}
	saved, _ := os.ReadFile(path)
	if strings.Contains(string(saved), "connection:") {
		t.Fatalf("the implicit connection was written out:\n%s", saved)
	}
	if res := f.do("GET", "/mappings/nope/edit", nil, ck, nil); res.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown mapping: %d", res.StatusCode)
	}
}
