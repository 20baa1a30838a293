package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/forcesync/forcesync/emulator"
	"github.com/forcesync/forcesync/engine"
)

// TestBindCommand: forcesync bind --dry-run lists, for a match-by-email
// mapping that never ran, the source records that have their Lead already
// (link), the ones that have none (create) and the ones with several
// (ambiguous), writing nothing; without --dry-run it binds the links, and
// the first push updates those Leads instead of creating twins.
func TestBindCommand(t *testing.T) {
	emu, url := startEmulator(t, emulator.Config{})
	r := newCLIRig(t, url, strings.Replace(serveConfig, "external_id: Forcesync_Key__c", "fields: [Email]", 1))
	ids, err := emu.Seed("Lead", []map[string]any{
		{"LastName": "Before", "Company": "Acme", "Email": "one@example.com"},
		{"LastName": "Dup A", "Company": "Acme", "Email": "dup@example.com"},
		{"LastName": "Dup B", "Company": "Acme", "Email": "dup@example.com"},
	})
	if err != nil {
		t.Fatal(err)
	}
	r.accept("client", clientChange("c1", "One", "one@example.com"), clientChange("c2", "Two", "two@example.com"),
		clientChange("c3", "Three", "dup@example.com"))

	out, err := r.run("bind", "--config", r.path, "--mapping", "clients_to_leads", "--dry-run", "--format", "json")
	if err != nil {
		t.Fatalf("bind --dry-run: %v\n%s", err, out)
	}
	var rep engine.BindReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, rec := range rep.Records {
		got[rec.Key] = rec.Action
	}
	if got["c1"] != "link" || got["c2"] != "create" || got["c3"] != "ambiguous" || rep.Bound != 0 || rep.MatchField != "Email" {
		t.Fatalf("dry run: %s", out)
	}
	out, err = r.run("bind", "--config", r.path, "--mapping", "clients_to_leads")
	if err != nil || !strings.Contains(out, "link 1, create 1, ambiguous 1; bound 1") || !strings.Contains(out, ids[0]) {
		t.Fatalf("bind: %v\n%s", err, out)
	}
	r.push("client")
	sf := emuClient(t, url)
	leads := planQuery(t, sf, "SELECT Id, LastName FROM Lead WHERE Email = 'one@example.com'")
	if len(leads) != 1 || leads[0].ID() != ids[0] || leads[0]["LastName"] != "One" {
		t.Fatalf("after the push: %v (want %s updated)", leads, ids[0])
	}
	for _, bad := range [][]string{
		{"bind", "--config", r.path},
		{"bind", "--config", r.path, "--mapping", "nope"},
		{"bind", "--config", r.path, "--mapping", "clients_to_leads", "--format", "xml"},
	} {
		if _, err := r.run(bad...); exitCode(err) != 2 {
			t.Errorf("%v: %v; want a usage error", bad, err)
		}
	}
}
