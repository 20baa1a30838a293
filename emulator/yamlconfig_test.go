package emulator

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseConfig(t *testing.T) {
	const doc = `# an org for tests
base_url: http://127.0.0.1:7400
daily_api_requests: 5000
session_timeout: 30m
auto_approve: true
require_security_token: true
connected_apps:
  - client_id: my-app
    client_secret: s3cret
    redirect_uris: [http://localhost:8080/callback]
    run_as: jane@example.com
users:
  - username: jane@example.com
    password: pw
    security_token: JaneTok3n
    first_name: Jane
    last_name: Doe
    profile: Standard User
  - username: joe@example.com
    password: pw2
objects:
  - name: Lead
    fields:
      - name: Ext_Id__c
        type: string
        length: 40
        external_id: true
        unique: true
`
	cfg, err := ParseConfig("org.yaml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.BaseURL != "http://127.0.0.1:7400" || cfg.DailyAPIRequests != 5000 || cfg.SessionTimeout != 30*time.Minute || !cfg.AutoApprove {
		t.Errorf("scalars: %+v", cfg)
	}
	if len(cfg.ConnectedApps) != 1 || cfg.ConnectedApps[0].RedirectURIs[0] != "http://localhost:8080/callback" || cfg.ConnectedApps[0].RunAs != "jane@example.com" {
		t.Errorf("apps: %+v", cfg.ConnectedApps)
	}
	if len(cfg.Users) != 2 || cfg.Users[0].FirstName != "Jane" || cfg.Users[1].Password != "pw2" ||
		cfg.Users[0].SecurityToken != "JaneTok3n" || !cfg.RequireSecurityToken {
		t.Errorf("users: %+v", cfg.Users)
	}
	if len(cfg.Objects) != 1 || !cfg.Objects[0].Fields[0].ExternalID || cfg.Objects[0].Fields[0].Length != 40 {
		t.Errorf("objects: %+v", cfg.Objects)
	}
	// The parsed config builds an org whose users can log in.
	if _, err := New(cfg); err != nil {
		t.Fatalf("New(parsed config): %v", err)
	}

	empty, err := ParseConfig("empty.yaml", []byte("# nothing\n"))
	if err != nil || empty.BaseURL != "" || len(empty.Users) != 0 {
		t.Errorf("empty file: %+v %v", empty, err)
	}
}

func TestParseConfigErrors(t *testing.T) {
	cases := []struct {
		name string
		doc  string
		want []string // each must appear in the error text
	}{
		{"unknown top-level key", "base_url: http://x\nsesion_timeout: 2h\n",
			[]string{`org.yaml:2: unknown key "sesion_timeout"`, "expected one of:", "session_timeout"}},
		{"unknown nested key", "users:\n  - username: a@b.c\n    passwd: x\n",
			[]string{`org.yaml:3: unknown key "passwd" in users[0]`, "password"}},
		{"bad integer", "daily_api_requests: lots\n",
			[]string{`org.yaml:1: daily_api_requests: expected an integer, got text "lots"`}},
		{"bad security token", "users:\n  - username: a@b.c\n    security_token: ab cd\n",
			[]string{`users[0].security_token: letters and digits only`}},
		{"bad bool", "auto_approve: maybe\n",
			[]string{`org.yaml:1: auto_approve: expected true or false`}},
		{"list expected", "users:\n  username: a@b.c\n",
			[]string{`org.yaml:2: users: expected a list, got a mapping`}},
		{"mapping expected", "users: [a, b]\n",
			[]string{`org.yaml:1: users: expected a mapping, got text "a"`}},
		{"duration as number", "session_timeout: 3600\n",
			[]string{`org.yaml:1: session_timeout: expected a duration such as 2h or 30m, got "3600"`}},
		{"bad duration", "session_timeout: soon\n",
			[]string{`org.yaml:1: session_timeout: expected a duration`}},
		{"syntax", "users:\n  - username: a\n   bad: [\n",
			[]string{"org.yaml:", "YAML syntax"}},
		{"duplicate usernames", "users:\n  - username: a@b.c\n  - username: A@B.C\n",
			[]string{`org.yaml:3: users[1].username: duplicate username "A@B.C"`}},
		{"username shape", "users:\n  - username: jane\n",
			[]string{`org.yaml:2: users[0].username: expected an email-shaped username`}},
		{"missing username", "users:\n  - password: x\n",
			[]string{`org.yaml:2: users[0].username: required`}},
		{"unknown profile", "users:\n  - username: a@b.c\n    profile: Wizard\n",
			[]string{`org.yaml:3: users[0].profile: unknown profile "Wizard"`, "System Administrator"}},
		{"app without id", "connected_apps:\n  - client_secret: x\n",
			[]string{`org.yaml:2: connected_apps[0].client_id: required`}},
		{"duplicate app", "connected_apps:\n  - client_id: a\n  - client_id: a\n",
			[]string{`org.yaml:3: connected_apps[1].client_id: duplicate client id "a"`}},
		{"run_as unknown", "connected_apps:\n  - client_id: a\n    run_as: ghost@x.y\n",
			[]string{`org.yaml:3: connected_apps[0].run_as: "ghost@x.y" is not a user`}},
		{"bad certificate", "connected_apps:\n  - client_id: a\n    certificate: not a pem\n",
			[]string{`org.yaml:3: connected_apps[0].certificate: expected a PEM certificate`}},
		{"bad redirect", "connected_apps:\n  - client_id: a\n    redirect_uris:\n      - /callback\n",
			[]string{`org.yaml:4: connected_apps[0].redirect_uris[0]: expected an absolute URL`}},
		{"custom field name", "objects:\n  - name: Lead\n    fields:\n      - name: Ext_Id\n        type: string\n",
			[]string{`org.yaml:4: objects[0].fields[0].name: custom field names end in __c`}},
		{"bad org id", "org_id: 001000000000001\n",
			[]string{`org.yaml:1: org_id: expected a 15- or 18-character Id starting with 00D`}},
		{"not a mapping", "- a\n- b\n", []string{"org.yaml:1: expected a mapping of settings"}},
		{"two mistakes", "daily_api_requests: x\nauto_approve: maybe\n",
			[]string{"org.yaml:1: daily_api_requests", "org.yaml:2: auto_approve"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseConfig("org.yaml", []byte(tc.doc))
			if err == nil {
				t.Fatal("no error")
			}
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Errorf("error %T does not wrap *ConfigError", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestLoadConfigFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "emu.yaml")
	if err := os.WriteFile(path, []byte("daily_api_requests: 10\nbogus: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := LoadConfig(path)
	if err == nil || !strings.Contains(err.Error(), path+":2: unknown key \"bogus\"") {
		t.Fatalf("got %v", err)
	}
	if _, err := LoadConfig(filepath.Join(t.TempDir(), "missing.yaml")); err == nil {
		t.Fatal("missing file: no error")
	}
}

func FuzzParseConfig(f *testing.F) {
	f.Add([]byte("users:\n  - username: a@b.c\n"))
	f.Add([]byte("session_timeout: 2h\nconnected_apps: [{client_id: x}]\n"))
	f.Add([]byte("objects:\n  - name: Foo__c\n    fields: [{name: A__c, type: string}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = ParseConfig("fuzz.yaml", data) // must not panic
	})
}
