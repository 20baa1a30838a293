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

// newEditorFixture serves editorConfig, with a second source client,
// from a file to an editor whose Reload builds the console again from the
// saved file, as serve does.
func newEditorFixture(t *testing.T) (*fixture, string) {
	t.Helper()
	f := newFixture(t)
	path := filepath.Join(t.TempDir(), "forcesync.yaml")
	text := strings.Replace(editorConfig, "  - name: contact\n", "  - name: contact\n  - name: client\n", 1)
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	var build func() (*console.Console, error)
	build = func() (*console.Console, error) {
		cfg, err := config.Load(path)
		if err != nil {
			return nil, err
		}
		return console.New(console.Config{Store: f.store, Engine: &fakeEngine{}, Now: f.clk.Now,
			Admins: []console.Admin{{Username: "alice", PasswordHash: string(hash)}}, Sources: []console.Source{{Name: "contact"}, {Name: "client"}},
			Mappings: cfg.Mappings, Connections: cfg.Connections, Describer: leadDescribe{}, ConfigFile: fileConfig{path},
			Reload: func(context.Context) error {
				c, err := build()
				if err == nil {
					f.c = c // the next request meets the new console, as serve swaps its routes
				}
				return err
			}})
	}
	if f.c, err = build(); err != nil {
		t.Fatal(err)
	}
	for _, ch := range []forcesync.Change{{Source: "contact", Key: "p1", Op: forcesync.OpUpsert, Fields: map[string]any{"last_name": "Lovelace"}},
		{Source: "client", Key: "c1", Op: forcesync.OpUpsert, Fields: map[string]any{"surname": "Hopper", "bio": strings.Repeat("b", 90)}}} {
		if _, err := f.store.Accept(context.Background(), nil, []forcesync.Change{ch}); err != nil {
			t.Fatal(err)
		}
	}
	return f, path
}

// newMappingForm is the editor's form for a new mapping of source
// client with the given rows (target, kind, value).
func newMappingForm(name string, rows ...[3]string) url.Values {
	form := url.Values{"name": {name}, "source": {"client"}, "connection": {"org"}, "object": {"Lead"}, "match_kind": {"external_id"},
		"match_field": {"Key__c"}, "action": {"check"}}
	for _, r := range rows {
		for i, k := range []string{"row_target", "row_kind", "row_value"} {
			form.Add(k, r[i])
		}
		for _, k := range []string{"row_default", "row_map", "row_on", "row_direction", "row_conflict", "row_clear"} {
			form.Add(k, "")
		}
	}
	return form
}

// TestEditorNewMappingOfAnotherSource: the form opens on the first
// source with one of its records to preview; changing the source keeps
// that choice in the form, which is no problem of the mapping: the check
// passes, previews a record of the new source, and Save saves.
func TestEditorNewMappingOfAnotherSource(t *testing.T) {
	f, path := newEditorFixture(t)
	ck := f.signIn()
	form := newMappingForm("client_leads", [3]string{"LastName", "source", "surname"})
	form.Set("sample", "p1") // a record of source contact, offered when the form opened
	html := body(t, f.do("POST", "/mappings/new", form, ck, nil))
	if strings.Contains(html, `id="problems"`) || !strings.Contains(html, "Type check passed") ||
		!strings.Contains(html, "&#34;LastName&#34;: &#34;Hopper&#34;") || !strings.Contains(html, `id="sample-note"`) {
		t.Fatalf("check of a new mapping after changing the source:\n%s", html)
	}
	form.Set("action", "save")
	if html := body(t, f.do("POST", "/mappings/new", form, ck, nil)); !strings.Contains(html, `id="saved"`) {
		t.Fatalf("save refused:\n%s", html)
	}
	if b, _ := os.ReadFile(path); !strings.Contains(string(b), "name: client_leads") {
		t.Fatalf("not saved:\n%s", b)
	}
}

// TestEditorNewMappingEditedAfterSaving: once a new mapping is saved and
// serve runs it, the page edits it: a further change saved from the same
// page is written, not refused as a second mapping of that name.
func TestEditorNewMappingEditedAfterSaving(t *testing.T) {
	f, path := newEditorFixture(t)
	ck := f.signIn()
	form := newMappingForm("client_leads", [3]string{"LastName", "source", "surname"})
	form.Set("action", "save")
	html := body(t, f.do("POST", "/mappings/new", form, ck, nil))
	if !strings.Contains(html, `id="saved"`) || !strings.Contains(html, `action="/mappings/client_leads/edit"`) {
		t.Fatalf("after saving a new mapping the form does not edit it:\n%s", html)
	}
	form.Add("row_target", "Description")
	for k, v := range map[string]string{"row_kind": "source", "row_value": "bio", "row_default": "", "row_map": "", "row_on": "",
		"row_direction": "", "row_conflict": "", "row_clear": ""} {
		form.Add(k, v)
	}
	if html := body(t, f.do("POST", "/mappings/client_leads/edit", form, ck, nil)); !strings.Contains(html, `id="saved"`) {
		t.Fatalf("second save:\n%s", html)
	}
	after, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if m := after.Mapping("client_leads"); m == nil || len(m.Fields) != 2 {
		t.Fatalf("saved: %+v", m)
	}
}

// TestEditorProblemsNameTheForm: problems the config's rules find in the
// edited mapping are said with the form's labels and shown on their row,
// not as a line and path of the file; the preview says what it cut.
func TestEditorProblemsNameTheForm(t *testing.T) {
	f, _ := newEditorFixture(t)
	ck := f.signIn()
	form := newMappingForm("client_leads", [3]string{"LastName", "source", "surname"}, [3]string{"Email", "expr", "lower(surname) +"},
		[3]string{"Description", "source", ""})
	form.Set("filter", "surname ==")
	html := body(t, f.do("POST", "/mappings/new", form, ck, nil))
	for _, want := range []string{"<li>Row 1 (Email): invalid expression", "<li>Filter: invalid", `<p class="field-err" id="p1">invalid expression`,
		"<li>Row 2 (Description): enter what the row sends: the source field it reads", `id="p2"`} {
		if !strings.Contains(html, want) {
			t.Errorf("check lacks %q", want)
		}
	}
	if strings.Contains(html, "forcesync.yaml:") || t.Failed() {
		t.Fatalf("problems of the form:\n%s", html)
	}
	form = newMappingForm("", [3]string{"LastName", "source", "surname"})
	form.Set("match_field", "")
	html = body(t, f.do("POST", "/mappings/new", form, ck, nil))
	if !strings.Contains(html, "<li>Name: enter a name") {
		t.Fatalf("no name:\n%s", html)
	}
	form.Set("name", "client_leads")
	html = body(t, f.do("POST", "/mappings/new", form, ck, nil))
	if !strings.Contains(html, "<li>Match: ") || strings.Contains(html, "forcesync.yaml:") {
		t.Fatalf("no match field:\n%s", html)
	}
	form = newMappingForm("client_leads", [3]string{"LastName", "source", "surname"}, [3]string{"Description", "source", "bio"})
	form.Set("sample", "c1")
	html = body(t, f.do("POST", "/mappings/new", form, ck, nil))
	if !strings.Contains(html, "Type check passed") || strings.Contains(html, "Changed to fit") {
		t.Fatalf("a long description fits a textarea:\n%s", html)
	}
	form = newMappingForm("client_leads", [3]string{"LastName", "source", "bio"})
	html = body(t, f.do("POST", "/mappings/new", form, ck, nil))
	if !strings.Contains(html, "Changed to fit: LastName truncated from 90 to 80") {
		t.Errorf("the preview does not say what it cut:\n%s", html)
	}
}
