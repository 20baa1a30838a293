package config_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	forcesync "github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/config"
)

const minimal = `connections:
  - name: prod
    login_url: https://acme.my.salesforce.com
    auth: client_credentials
    client_id: abc
    client_secret: ${SF_SECRET}
sources:
  - name: client
mappings:
  - name: clients
    source: client
    object: Lead
    match:
      external_id: Key__c
    fields:
      - target: LastName
        source: last_name
`

func TestDefaults(t *testing.T) {
	cfg, err := config.Parse([]byte(minimal), "forcesync.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Server.Listen != config.DefaultListen || cfg.Engine.BulkThreshold != 2000 || cfg.Engine.APIShare != 0.5 ||
		cfg.Engine.Lease != 15*time.Second || cfg.Engine.Workers != 4 || cfg.Store.SQLite != "forcesync.db" {
		t.Fatalf("defaults: %+v %+v %+v", cfg.Server, cfg.Engine, cfg.Store)
	}
	want := forcesync.Mapping{Name: "clients", Source: "client", Connection: "prod", Object: "Lead", Direction: forcesync.Push,
		Match:      forcesync.MatchRule{Kind: forcesync.MatchExternalID, Field: "Key__c"},
		Operations: forcesync.Operations{Delete: forcesync.DeleteIgnore}, Mode: forcesync.KeepUpdated,
		Fields: []forcesync.FieldRow{{Target: "LastName", SourceField: "last_name", On: forcesync.Always}}}
	if diff := cmp.Diff(want, cfg.Mappings[0]); diff != "" {
		t.Fatalf("mapping (-want +got):\n%s", diff)
	}
	if cfg.Sources[0].Key != "id" || cfg.Connections[0].APIShare != 0.5 || cfg.Connections[0].Auth != forcesync.AuthClientCredentials {
		t.Fatalf("source/connection: %+v %+v", cfg.Sources[0], cfg.Connections[0])
	}
	if cfg.Connections[0].ClientSecret != "" {
		t.Fatal("secret resolved before Resolve")
	}
	if !cmp.Equal(cfg.Env(), []string{"SF_SECRET"}) {
		t.Fatalf("Env() = %v", cfg.Env())
	}
	err = cfg.Resolve(func(string) string { return "" })
	if err == nil || err.Error() != "forcesync.yaml:6: connections[0].client_secret: environment variable SF_SECRET is not set" {
		t.Fatalf("unset env: %v", err)
	}
	if err := cfg.Resolve(env{"SF_SECRET": "shh"}.get); err != nil || cfg.Connections[0].ClientSecret != "shh" {
		t.Fatalf("resolve: %v %q", err, cfg.Connections[0].ClientSecret)
	}
}

type env map[string]string

func (e env) get(k string) string { return e[k] }

func TestLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "forcesync.yaml")
	if err := os.WriteFile(path, []byte(minimal), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil || cfg.File != path {
		t.Fatalf("load: %v", err)
	}
	if _, err := config.Load(filepath.Join(t.TempDir(), "missing.yaml")); err == nil {
		t.Fatal("missing file loaded")
	}
}

// edit replaces old with new in the minimal config.
func edit(old, new string) string {
	if !strings.Contains(minimal, old) {
		panic("edit: " + old)
	}
	return strings.Replace(minimal, old, new, 1)
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want string // one line of the error, exactly
	}{
		{"bad match kind", edit("      external_id: Key__c\n", "      kind: extid\n"),
			`forcesync.yaml:14: mappings[0].match.kind: "extid" is not one of external_id, fields, binding`},
		{"unknown top key", "colour: blue\n" + minimal,
			`forcesync.yaml:1: colour: unknown key (expected one of connections, console, engine, mappings, scim, server, sources, store, version)`},
		{"unknown row key", edit("        source: last_name\n", "        source: last_name\n        sauce: x\n"),
			`forcesync.yaml:18: mappings[0].fields[0].sauce: unknown key (expected one of clear_when_empty, conflict, default, direction, expr, first_of, map, on, source, target, template, value)`},
		{"literal secret", edit("${SF_SECRET}", "hunter2"),
			`forcesync.yaml:6: connections[0].client_secret: must be an environment reference such as ${SF_CLIENT_SECRET}, or use client_secret_env; secrets are never written in the file`},
		{"bad env name", edit("client_secret: ${SF_SECRET}", "client_secret_env: 1BAD"),
			`forcesync.yaml:6: connections[0].client_secret_env: "1BAD" is not an environment variable name (letters, digits, underscores)`},
		{"secret twice", edit("client_secret: ${SF_SECRET}", "client_secret: ${A}\n    client_secret_env: B"),
			`forcesync.yaml:7: connections[0].client_secret_env: set client_secret or client_secret_env, not both`},
		{"auth needs secret", edit("    client_secret: ${SF_SECRET}\n", ""),
			`forcesync.yaml:2: connections[0]: auth client_credentials needs client_secret`},
		{"client credentials needs my domain", edit("https://acme.my.salesforce.com", "production"),
			`forcesync.yaml:2: connections[0]: auth client_credentials needs the org's My Domain URL as login_url, not https://login.salesforce.com`},
		{"bad auth", edit("auth: client_credentials", "auth: oauth"),
			`forcesync.yaml:4: connections[0].auth: "oauth" is not one of web_server, client_credentials, jwt, password, access_token`},
		{"bad login url", edit("https://acme.my.salesforce.com", "ftp://x"),
			`forcesync.yaml:3: connections[0].login_url: "ftp://x" is not production, sandbox or a URL such as https://example.my.salesforce.com`},
		{"two sources of value", edit("        source: last_name\n", "        source: last_name\n        value: Doe\n"),
			`forcesync.yaml:16: mappings[0].fields[0]: set exactly one of source, value, expr, template, first_of (got 2)`},
		{"bad expression", edit("        source: last_name\n", "        expr: 'first +'\n"),
			`forcesync.yaml:17: mappings[0].fields[0].expr: invalid expression: unexpected token EOF (1:7) | first + | ......^`},
		{"bad filter", edit("    object: Lead\n", "    object: Lead\n    filter: score >>= 3\n"),
			`forcesync.yaml:13: mappings[0].filter: invalid expression: unexpected token Operator(">=") (1:8) | score >>= 3 | .......^`},
		{"bad template", edit("        source: last_name\n", "        template: 'Hi {{ name'\n"),
			`forcesync.yaml:17: mappings[0].fields[0].template: invalid expression: template: "{{ name" has no closing }}`},
		{"batch size", edit("    object: Lead\n", "    object: Lead\n    batch_size: 500\n"),
			`forcesync.yaml:13: mappings[0].batch_size: expected a whole number from 1 to 200, got "500"`},
		{"mode", edit("    object: Lead\n", "    object: Lead\n    mode: forever\n"),
			`forcesync.yaml:13: mappings[0].mode: "forever" is not one of keep_updated, once`},
		{"on", edit("        source: last_name\n", "        source: last_name\n        on: update\n"),
			`forcesync.yaml:18: mappings[0].fields[0].on: "update" is not one of create, always`},
		{"delete", edit("    object: Lead\n", "    object: Lead\n    operations: {delete: purge}\n"),
			`forcesync.yaml:13: mappings[0].operations.delete: "purge" is not one of delete, ignore`},
		{"create not bool", edit("    object: Lead\n", "    object: Lead\n    operations: {create: sometimes}\n"),
			`forcesync.yaml:13: mappings[0].operations.create: expected true or false, got "sometimes"`},
		{"undeclared source", edit("    source: client\n", "    source: clients\n"),
			`forcesync.yaml:11: mappings[0].source: source "clients" is not declared under sources`},
		{"undeclared connection", edit("    source: client\n", "    source: client\n    connection: staging\n"),
			`forcesync.yaml:12: mappings[0].connection: connection "staging" is not declared under connections`},
		{"duplicate target", edit("        source: last_name\n", "        source: last_name\n      - target: lastname\n        value: x\n"),
			`forcesync.yaml:18: mappings[0].fields[1]: field lastname has a row already`},
		{"match missing", edit("    match:\n      external_id: Key__c\n", ""),
			`forcesync.yaml:10: mappings[0]: match is required: external_id: <Field>, fields: [Email] or binding`},
		{"match two forms", edit("      external_id: Key__c\n", "      external_id: Key__c\n      fields: [Email]\n"),
			`forcesync.yaml:14: mappings[0].match: set one of external_id, fields, binding`},
		{"match external id without field", edit("      external_id: Key__c\n", "      kind: external_id\n"),
			`forcesync.yaml:14: mappings[0].match: kind external_id needs field: <External ID field>`},
		{"bad field name", edit("target: LastName", "target: Last Name"),
			`forcesync.yaml:16: mappings[0].fields[0].target: "Last Name" is not a Salesforce field API name such as Email or Ext_Id__c`},
		{"api share", "engine:\n  api_share: 1.5\n" + minimal,
			`forcesync.yaml:2: engine.api_share: expected a share greater than 0 and at most 1 (e.g. 0.5), got "1.5"`},
		{"lease", "engine:\n  lease: forever\n" + minimal,
			`forcesync.yaml:2: engine.lease: expected a duration such as 30s or 5m (at most 24h), got "forever"`},
		{"store both", "store:\n  sqlite: a.db\n  postgres_dsn_env: PG\n" + minimal,
			`forcesync.yaml:3: store: set sqlite or postgres_dsn, not both`},
		{"saved with secrets", edit("    auth: client_credentials\n", "    saved: acme\n    auth: client_credentials\n"),
			`forcesync.yaml:3: connections[0].login_url: not allowed with saved: the saved connection "acme" supplies it (forcesync login --name acme)`},
		{"scim unknown source", "scim:\n  source: idp\n  token: ${T}\n" + minimal,
			`forcesync.yaml:2: scim.source: source "idp" is not declared under sources`},
		{"scim without token", "scim:\n  source: client\n" + minimal,
			`forcesync.yaml:2: scim: token is required (token: ${SCIM_TOKEN} or token_env: SCIM_TOKEN)`},
		{"schema without postgres", "store:\n  postgres_schema: forcesync\n" + minimal,
			`forcesync.yaml:2: store: postgres_schema needs postgres_dsn`},
		{"api version", edit("    client_id: abc\n", "    client_id: abc\n    api_version: 65\n"),
			`forcesync.yaml:6: connections[0].api_version: "65" is not an API version such as "65.0"`},
		{"duplicate mapping", minimal + "  - name: clients\n    source: client\n    object: Contact\n    match: binding\n    fields:\n      - {target: LastName, value: x}\n",
			`forcesync.yaml:18: mappings[1]: mapping name "clients" is used twice`},
		{"repeated key", edit("    object: Lead\n", "    object: Lead\n    object: Contact\n"),
			`forcesync.yaml:13: mappings[0].object: repeated key`},
		{"fields not a list", edit("    fields:\n      - target: LastName\n        source: last_name\n", "    fields: LastName\n"),
			`forcesync.yaml:15: mappings[0].fields: expected a list, got "LastName"`},
		{"value map of lists", edit("        source: last_name\n", "        source: last_name\n        map: {a: [b]}\n"),
			`forcesync.yaml:18: mappings[0].fields[0].map.a: expected a single value, got a list`},
		{"invalid yaml", "connections: [\n", `forcesync.yaml:1: invalid YAML: did not find expected node content`},
		{"two documents", minimal + "---\nserver: {}\n", `forcesync.yaml:18: only one YAML document is allowed`},
		{"empty", "", `forcesync.yaml:1: the file is empty`},
		{"top level list", "- a\n", `forcesync.yaml:1: expected a mapping of keys, got a list`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.Parse([]byte(tt.yaml), "forcesync.yaml")
			if err == nil {
				t.Fatalf("accepted:\n%s", tt.yaml)
			}
			if !strings.Contains("\n"+err.Error()+"\n", "\n"+tt.want+"\n") {
				t.Fatalf("error:\n%s\nwant a line:\n%s", err, tt.want)
			}
			if forcesync.ErrorCode(err) != forcesync.EInvalid {
				t.Fatalf("code %q, want invalid", forcesync.ErrorCode(err))
			}
		})
	}
}

func TestEveryProblemReported(t *testing.T) {
	y := edit("auth: client_credentials", "auth: oauth")
	y = strings.Replace(y, "kind: x", "", 1)
	y = strings.Replace(y, "    object: Lead\n", "    object: Lead\n    mode: never\n", 1)
	_, err := config.Parse([]byte(y), "f.yaml")
	var list config.ErrorList
	if !errors.As(err, &list) || len(list) != 2 {
		t.Fatalf("want both problems, got %v", err)
	}
	var one *config.Error
	if !errors.As(err, &one) || one.Pos != "f.yaml:4: connections[0].auth" {
		t.Fatalf("errors.As *Error: %v", one)
	}
}

func TestShortFormsAndConstants(t *testing.T) {
	y := `connections:
  - {name: a, login_url: "http://127.0.0.1:8123", auth: access_token, access_token_env: TOK}
  - {name: b, login_url: sandbox, client_id: x, refresh_token: "${RT}"}
sources: [{name: s, key: uid}]
mappings:
  - name: m
    source: s
    connection: a
    object: Foo__c
    match: binding
    operations: {create: false, update: true, delete: true}
    fields:
      - {target: Count__c, value: 0x10}
      - {target: Big__c, value: 123456789012345678901234567890}
      - {target: Ratio__c, value: 1.50}
      - {target: On__c, value: yes}
      - {target: Flag__c, value: true}
      - {target: Tags__c, value: [a, 2, false]}
      - {target: Empty__c, value: null, clear_when_empty: true}
      - {target: Map__c, source: x, map: {1: One, true: Yes, "two": 2}, default: 7}
      - {target: Chain__c, first_of: [a, "'b'"]}
`
	cfg, err := config.Parse([]byte(y), "f.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Connections[0].LoginURL != "http://127.0.0.1:8123" || cfg.Connections[1].LoginURL != config.SandboxLoginURL ||
		cfg.Connections[1].Auth != forcesync.AuthWebServer {
		t.Fatalf("connections %+v", cfg.Connections)
	}
	m := cfg.Mappings[0]
	if m.Match.Kind != forcesync.MatchBinding || !m.Operations.NoCreate || m.Operations.NoUpdate || m.Operations.Delete != forcesync.DeleteDelete {
		t.Fatalf("match/operations %+v %+v", m.Match, m.Operations)
	}
	got := map[string]any{}
	for _, r := range m.Fields {
		got[r.Target] = r.Constant
	}
	want := map[string]any{"Count__c": jsonNumber("16"), "Big__c": jsonNumber("123456789012345678901234567890"),
		"Ratio__c": jsonNumber("1.50"), "On__c": "yes", "Flag__c": true, "Tags__c": []any{"a", jsonNumber("2"), false},
		"Empty__c": nil, "Map__c": nil, "Chain__c": nil}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("constants (-want +got):\n%s", diff)
	}
	if !m.Fields[6].HasConstant || !cmp.Equal(m.Fields[7].ValueMap, map[string]string{"1": "One", "true": "Yes", "two": "2"}) ||
		m.Fields[7].Default != jsonNumber("7") || !cmp.Equal(m.Fields[8].FirstOf, []string{"a", "'b'"}) {
		t.Fatalf("rows %+v", m.Fields)
	}
}

func TestAliases(t *testing.T) {
	y := edit("    fields:\n", "    fields:\n      - &ln {target: FirstName, source: first_name}\n")
	y += "  - name: other\n    source: client\n    object: Contact\n    match: binding\n    fields: [*ln]\n"
	cfg, err := config.Parse([]byte(y), "f.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Mappings[1].Fields[0].SourceField != "first_name" {
		t.Fatalf("alias not followed: %+v", cfg.Mappings[1].Fields)
	}
}

// A connection saved by forcesync login needs only its name in the config.
func TestSavedConnection(t *testing.T) {
	y := strings.Replace(minimal, `    login_url: https://acme.my.salesforce.com
    auth: client_credentials
    client_id: abc
    client_secret: ${SF_SECRET}
`, "    saved: acme\n    api_share: 0.2\n", 1)
	cfg, err := config.Parse([]byte(y), "forcesync.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c := cfg.Connection("prod")
	if c == nil || c.Saved != "acme" || c.APIShare != 0.2 || len(cfg.Env()) != 0 {
		t.Fatalf("connection %+v, env %v", c, cfg.Env())
	}
}
