package config_test

import (
	"strings"
	"testing"

	"github.com/forcesync/forcesync/config"
)

func TestSetMappingAddsAndReplaces(t *testing.T) {
	m := config.MappingYAML{Name: "people", Source: "client", Object: "Contact",
		Match:  map[string]any{"external_id": "Key__c"},
		Fields: []config.RowYAML{{Target: "LastName", Source: "last_name", Default: "Unknown"}, {Target: "Email", Source: "email"}}}
	text := "# our sync\n" + minimal
	out, err := config.SetMapping([]byte(text), m)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "# our sync") {
		t.Errorf("the comment was lost:\n%s", out)
	}
	cfg, err := config.Parse(out, "forcesync.yaml")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(cfg.Mappings) != 2 || cfg.Mappings[1].Name != "people" || cfg.Mappings[1].Fields[0].Default != "Unknown" {
		t.Fatalf("mappings after add: %+v", cfg.Mappings)
	}
	m.Object = "Lead"
	out, err = config.SetMapping(out, m)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err = config.Parse(out, "forcesync.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Mappings) != 2 || cfg.Mappings[1].Object != "Lead" {
		t.Fatalf("mappings after replace: %+v", cfg.Mappings)
	}
	if _, err := config.SetMapping([]byte("- a\n- b\n"), m); err == nil {
		t.Fatal("a list at the top was accepted")
	}
}
