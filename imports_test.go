package forcesync_test

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const module = "github.com/forcesync/forcesync"

// allowed lists, per package directory, which of our packages its non-test
// files may import (DESIGN.md §3). A directory not listed may import any.
var allowed = map[string][]string{
	".":             {},
	"emulator":      {"emulator/"}, // its own sub-packages only
	"emulator/soql": {},
	"salesforce":    {"internal/csvcr"}, // CSV whose quoted values keep their "\r\n"
	"mapping":       {".", "salesforce"},
	"sqlite":        {".", "storeplan"},
	"postgres":      {".", "storeplan"},
	"storeplan":     {"."}, // the stores' shared decisions
	"storetest":     {"."},
	// encoding/csv keeping quoted "\r\n": standard library only
	"internal/csvcr": {},
	"config":         {".", "mapping", "schedule"}, // checks expressions and cron schedules at load
	"engine":         {".", "salesforce", "mapping"},
	"secret":         {},
	"httpserver":     {".", "ingest"}, // the change codec is ingest's
	"scim":           {".", "ingest"}, // one rule set for changes (ingest.Check)
	// pull reads Salesforce back: the client to query, mapping to compare
	// what the app would push, never the engine (serve wires them).
	"pull": {".", "salesforce", "mapping"},
	// an application's receiver of forcesync's webhooks: standard library only
	"examples/webhookreceiver": {},
	"ingest":                   {".", "internal/csvcr"}, // the file and body codecs: domain types and CSV only
	// filepush drives the engine (its compiled mappings decide what is
	// unchanged) and reads files through ingest; it never sees the client.
	"filepush": {".", "engine", "mapping", "ingest"},
	// schedule runs duties once across replicas (leader leases, cron
	// firings) through the Store's contracts only; serve wires the work.
	"schedule": {"."},
	"console":  {".", "mapping", "salesforce", "config", "secret", "ingest"}, // the domain through the Store; previews and type checks (mapping); the OAuth flow and describes (salesforce); the YAML the editor writes (config); sealed pending flows (secret); the record editor is a door: one rule set for changes (ingest.Check)
}

// TestImportRules fails when a package imports one of ours it must not.
func TestImportRules(t *testing.T) {
	for dir, ok := range allowed {
		files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			af, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			for _, imp := range af.Imports {
				p := strings.Trim(imp.Path.Value, `"`)
				if p != module && !strings.HasPrefix(p, module+"/") {
					continue
				}
				rel := strings.TrimPrefix(strings.TrimPrefix(p, module), "/")
				if rel == "" {
					rel = "."
				}
				if !permitted(rel, ok) {
					t.Errorf("%s imports %s; %s may import only %v of forcesync", f, p, dir, ok)
				}
			}
		}
	}
	if _, err := os.Stat("emulator"); err != nil {
		t.Fatal("run from the module root")
	}
}

func permitted(rel string, ok []string) bool {
	for _, a := range ok {
		if rel == a || (strings.HasSuffix(a, "/") && strings.HasPrefix(rel, a)) {
			return true
		}
	}
	return false
}
