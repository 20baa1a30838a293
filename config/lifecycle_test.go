package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	forcesync "github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/config"
)

func withOps(object, ops string) string {
	s := strings.Replace(minimal, "object: Lead", "object: "+object, 1)
	return s + "    operations:\n" + ops
}

func TestLifecycleOperations(t *testing.T) {
	cfg, err := config.Parse([]byte(withOps("Lead", `      disable: true
      deprovision: true
      remove_action: deactivate
      disable_when: status == "suspended"
      disable_with: {Status: Closed - Not Converted, DoNotCall: true}
`)), "f.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := forcesync.Operations{Delete: forcesync.DeleteDeactivate, DisableWhen: `status == "suspended"`,
		DisableWrites: map[string]any{"Status": "Closed - Not Converted", "DoNotCall": true}}
	if diff := cmp.Diff(want, cfg.Mappings[0].Operations); diff != "" {
		t.Fatalf("operations (-want +got):\n%s", diff)
	}
	cfg, err = config.Parse([]byte(withOps("Contact", "      disable: false\n      deprovision: false\n      delete: true\n")), "f.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if o := cfg.Mappings[0].Operations; !o.NoDisable || !o.NoDeprovision || o.Delete != forcesync.DeleteDelete {
		t.Fatalf("switches: %+v", o)
	}
	cfg, err = config.Parse([]byte(withOps("Lead", "      disable_with: remove_action\n")), "f.yaml")
	if err != nil || !cfg.Mappings[0].Operations.DisableRemoves {
		t.Fatalf("disable_with remove_action: %v %+v", err, cfg)
	}
	cfg, err = config.Parse([]byte(withOps("Contact", "      remove_action: delete\n      deprovision_on_removal: true\n      demote: recreate_lead\n")), "f.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if o := cfg.Mappings[0].Operations; !o.DeprovisionOnRemoval || o.Demote != forcesync.DemoteRecreate {
		t.Fatalf("deprovision_on_removal, demote: %+v", o)
	}
	if got := cfg.MappingNames(); len(got) != 1 || got[0] != cfg.Mappings[0].Name {
		t.Fatalf("MappingNames = %v", got)
	}
}

func TestGuardConfig(t *testing.T) {
	cfg, err := config.Parse([]byte(minimal+"    guard: {max_records: 50, max_percent: 12.5, window: 30m}\n"), "f.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if g := cfg.Mappings[0].Guard; g.MaxRecords != 50 || g.MaxPercent != 12.5 || g.Window != 30*time.Minute || g.Off {
		t.Fatalf("guard %+v", g)
	}
	cfg, err = config.Parse([]byte(minimal+"    guard: false\n"), "f.yaml")
	if err != nil || !cfg.Mappings[0].Guard.Off {
		t.Fatalf("guard false: %v", err)
	}
	for _, bad := range []string{"guard: true", "guard: {max_percent: 150}", "guard: {max_records: 0}", "guard: {window: -1s}", "guard: {limit: 3}"} {
		if _, err := config.Parse([]byte(minimal+"    "+bad+"\n"), "f.yaml"); err == nil || !strings.Contains(err.Error(), "guard") {
			t.Errorf("%s: %v", bad, err)
		}
	}
}

func TestLifecycleOperationsRefused(t *testing.T) {
	for _, tc := range []struct{ object, ops, want string }{
		{"User", "      remove_action: delete\n", "only deactivated"},
		{"Lead", "      remove_action: deactivate\n", "disable_with"},
		{"Lead", "      remove_action: delete\n      delete: true\n", "set one of remove_action and delete"},
		{"Lead", "      remove_action: archive\n", `"archive" is not one of`},
		{"Lead", "      disable_with: {}\n", "at least one field"},
		{"Lead", "      disable_with: [Status]\n", "expected remove_action or a mapping"},
		{"Lead", "      disable_with: {Status: [a, b]}\n", "expected a single value"},
		{"Lead", "      disable: false\n      disable_when: x == 1\n", "would never apply"},
		{"Lead", "      disable_when: 'x =='\n", "disable_when"},
		{"Lead", "      disable_with: remove_action\n      remove_action: deactivate\n", "disable_with"},
		{"Lead", "      deprovision_on_removal: true\n", "deprovision_on_removal needs remove_action delete or deactivate"},
		{"Lead", "      remove_action: delete\n      deprovision: false\n      deprovision_on_removal: true\n", "deprovision_on_removal with deprovision: false"},
		{"Lead", "      demote: hold\n", "demote applies only to a Contact mapping"},
		{"Contact", "      demote: convert\n", `"convert"`},
		{"Contact", "      deprovision_on_removal: yes please\n", "deprovision_on_removal"},
	} {
		_, err := config.Parse([]byte(withOps(tc.object, tc.ops)), "f.yaml")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %q: err %v, want %q", tc.object, tc.ops, err, tc.want)
		}
	}
}
