package main

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/forcesync/forcesync/emulator"
)

const connTestConfig = `
` + emulatorConnection + `
sources:
  - name: client
mappings:
  - name: clients_to_leads
    source: client
    object: %s
    match:
      external_id: Forcesync_Key__c
    fields:
      - target: LastName
        source: last_name
      - target: Company
        value: Acme
`

// TestConnectionTest runs forcesync connection test against the emulator:
// a saved connection and a config connection that work (exit 0, with the
// org, the API version, the daily allowance and the mapped object with its
// External ID's case sensitivity, in text and JSON); and the failures a
// script must tell apart: refused credentials (6), an org that does not
// answer (7), a mapped object that cannot be described (4), an unknown
// saved connection (4).
func TestConnectionTest(t *testing.T) {
	o := startCLIOrg(t, emulator.Config{})
	o.loginClientCredentials(t, "acme")

	out, errOut, err := o.runCLI(t, "connection", "test", "acme")
	if err != nil || exitCode(err) != 0 {
		t.Fatalf("saved: %v\n%s\n%s", err, out, errOut)
	}
	for _, want := range []string{"connection acme: ok", "login     ok", "identity  ok", emulator.DefaultOrgID, "limits    ok", "DailyApiRequests:"} {
		if !strings.Contains(out, want) {
			t.Errorf("text output lacks %q:\n%s", want, out)
		}
	}

	dir := t.TempDir()
	writeCfg := func(name, loginURL, object string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(fmt.Sprintf(connTestConfig, loginURL, object)), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	o.env["TEST_SF_SECRET"] = emulator.DemoClientSecret
	o.env["TEST_SF_PASSWORD"] = "forcesync"
	good := writeCfg("good.yaml", o.url, "Lead")
	out, errOut, err = o.runCLI(t, "connection", "test", "org", "--config", good, "--format", "json")
	if err != nil {
		t.Fatalf("config: %v\n%s\n%s", err, out, errOut)
	}
	var rep connReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("json: %v\n%s", err, out)
	}
	if !rep.OK || rep.ExitCode != 0 || rep.OrgID != emulator.DefaultOrgID || rep.APIVersion == "" || rep.DailyAPI == nil || rep.DailyAPI.Max <= 0 ||
		len(rep.Objects) != 1 || !rep.Objects[0].OK || rep.Objects[0].Name != "Lead" || rep.Objects[0].CaseSensitive == nil || *rep.Objects[0].CaseSensitive ||
		len(rep.Steps) != 4 {
		t.Fatalf("report %+v", rep)
	}
	if strings.Contains(out, "forcesync-demo-secret") || strings.Contains(out, "access_token") {
		t.Fatalf("a secret in the report:\n%s", out)
	}

	// A closed port: nothing answers.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		exit int
		says string
	}{
		{"wrong password", []string{"--config", writeCfg("auth.yaml", o.url, "Lead")}, map[string]string{"TEST_SF_PASSWORD": "wrong"}, exitAuth, "login     FAIL"},
		{"unreachable", []string{"--config", writeCfg("down.yaml", closed, "Lead")}, nil, exitUnavailable, "login     FAIL"},
		{"object missing", []string{"--config", writeCfg("obj.yaml", o.url, "Nope__c")}, nil, exitNotFound, "describe  FAIL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				old := o.env[k]
				o.env[k] = v
				defer func() { o.env[k] = old }()
			}
			out, errOut, err := o.runCLI(t, append([]string{"connection", "test", "org"}, tc.args...)...)
			if got := exitCode(err); got != tc.exit || !strings.Contains(out, tc.says) || !strings.Contains(out, "connection org: FAILED") {
				t.Fatalf("exit %d (%v), want %d saying %q:\n%s\n%s", got, err, tc.exit, tc.says, out, errOut)
			}
		})
	}
	_, _, err = o.runCLI(t, "connection", "test", "nobody")
	if got := exitCode(err); got != exitNotFound {
		t.Fatalf("unknown saved connection: exit %d (%v)", got, err)
	}
	_, _, err = o.runCLI(t, "connection", "test", "acme", "--format", "xml")
	if got := exitCode(err); got != exitUsage {
		t.Fatalf("--format xml: exit %d (%v)", got, err)
	}
}
