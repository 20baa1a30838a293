package console_test

import (
	"context"
	"fmt"
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

// userDescribe is a small User whose ProfileId takes an Id, and which
// looks profile names up as serve does (console.NameResolver).
type userDescribe struct{}

var _ console.NameResolver = userDescribe{}

func (userDescribe) Objects(ctx context.Context, conn string) ([]salesforce.SObjectInfo, error) {
	return []salesforce.SObjectInfo{{Name: "User", Label: "User", Createable: true, Updateable: true}}, nil
}

func (userDescribe) Describe(ctx context.Context, conn, object string) (*salesforce.SObjectDescribe, error) {
	f := func(name, typ string, length int) salesforce.Field {
		return salesforce.Field{Name: name, Type: typ, Length: length, Createable: true, Updateable: true, Nillable: true, Filterable: true}
	}
	last := f("LastName", "string", 80)
	last.Nillable = false
	profile := f("ProfileId", "reference", 18)
	profile.ReferenceTo = []string{"Profile"}
	return &salesforce.SObjectDescribe{Name: "User", Createable: true, Updateable: true, Fields: []salesforce.Field{
		last, profile, f("Email", "email", 128), f("Username", "string", 80), f("Alias", "string", 8),
		f("TimeZoneSidKey", "picklist", 40), f("LocaleSidKey", "picklist", 40), f("EmailEncodingKey", "picklist", 40),
		f("LanguageLocaleKey", "picklist", 40), f("IsActive", "boolean", 0)}}, nil
}

func (userDescribe) ResolveNames(ctx context.Context, conn string, m forcesync.Mapping) (forcesync.Mapping, error) {
	fields := append([]forcesync.FieldRow(nil), m.Fields...)
	for i := range fields {
		if r := &fields[i]; r.Target == "ProfileId" && r.HasConstant {
			if r.Constant != "Standard User" {
				return m, fmt.Errorf("mapping %s: field ProfileId: no Profile named %q in the org", m.Name, r.Constant)
			}
			r.Constant = "00e000000000001AAA"
		}
	}
	m.Fields = fields
	return m, nil
}

// TestEditorUserProfileByName: the editor checks a User mapping whose
// ProfileId is given by name (users.md, the cookbook's WordPress users)
// with the name looked up in the org, as serve compiles it: the check
// passes and Save writes the name, not the Id; a name the org lacks is a
// problem naming it.
func TestEditorUserProfileByName(t *testing.T) {
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
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	f.c, err = console.New(console.Config{Store: f.store, Engine: &fakeEngine{}, Now: f.clk.Now,
		Admins: []console.Admin{{Username: "alice", PasswordHash: string(hash)}}, Sources: []console.Source{{Name: "contact"}, {Name: "client"}},
		Mappings: cfg.Mappings, Connections: cfg.Connections, Describer: userDescribe{}, ConfigFile: fileConfig{path},
		Reload: func(context.Context) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	ck := f.signIn()
	form := newMappingForm("client_users", [3]string{"LastName", "source", "surname"}, [3]string{"Email", "source", "email"},
		[3]string{"ProfileId", "value", "Standard User"})
	form.Set("object", "User")
	form.Set("match_kind", "fields")
	form.Set("match_field", "Email")
	html := body(t, f.do("POST", "/mappings/new", form, ck, nil))
	if strings.Contains(html, `id="problems"`) || !strings.Contains(html, "Type check passed") {
		t.Fatalf("check of a User mapping with a profile by name:\n%s", html)
	}
	form.Set("action", "save")
	if html := body(t, f.do("POST", "/mappings/new", form, ck, nil)); !strings.Contains(html, `id="saved"`) {
		t.Fatalf("save refused:\n%s", html)
	}
	if b, _ := os.ReadFile(path); !strings.Contains(string(b), "Standard User") || strings.Contains(string(b), "00e000000000001AAA") {
		t.Fatalf("saved config does not keep the name:\n%s", b)
	}
	form = newMappingForm("client_users2", [3]string{"LastName", "source", "surname"}, [3]string{"Email", "source", "email"},
		[3]string{"ProfileId", "value", "No Such Profile"})
	form.Set("object", "User")
	form.Set("match_kind", "fields")
	form.Set("match_field", "Email")
	html = body(t, f.do("POST", "/mappings/new", form, ck, nil))
	if !strings.Contains(html, `no Profile named &#34;No Such Profile&#34;`) {
		t.Fatalf("check of an unknown profile:\n%s", html)
	}
}
