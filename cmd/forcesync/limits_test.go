package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/forcesync/forcesync/emulator"
)

func TestLimitsCommand(t *testing.T) {
	o := startCLIOrg(t, emulator.Config{DailyAPIRequests: 15000})
	o.loginClientCredentials(t, "default")

	out, stderr, err := o.runCLI(t, "limits")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	var line string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "DailyApiRequests ") {
			line = l
		}
	}
	f := strings.Fields(line)
	if len(f) != 4 || f[1] != "15000" {
		t.Fatalf("DailyApiRequests line %q in:\n%s", line, out)
	}
	if !strings.HasPrefix(out, "NAME") {
		t.Fatalf("no header:\n%s", out)
	}

	out, _, err = o.runCLI(t, "limits", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]struct{ Max, Remaining int }
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("--json output: %v\n%s", err, out)
	}
	if d := m["DailyApiRequests"]; d.Max != 15000 || d.Remaining <= 0 || d.Remaining >= 15000 {
		t.Fatalf("DailyApiRequests %+v", d)
	}

	if _, _, err := o.runCLI(t, "limits", "--connection", "missing"); err == nil || !strings.Contains(err.Error(), "forcesync login") {
		t.Fatalf("missing connection: %v", err)
	}
}
