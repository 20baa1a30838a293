package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/forcesync/forcesync/emulator"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/salesforce"
)

// TestReconcileCommand finds drift with the CLI and heals it through the
// mapping's mass-change guard: a heal of more records than the guard lets
// through changes nothing until the mapping is approved.
func TestReconcileCommand(t *testing.T) {
	ctx := context.Background()
	emu, url := startEmulator(t, emulator.Config{})
	r := newCLIRig(t, url, strings.Replace(serveConfig, "      delete: delete\n", "      delete: delete\n    guard:\n      max_records: 1\n", 1))
	r.push("client", clientChange("c1", "One", "one@example.com"), clientChange("c2", "Two", "two@example.com"), clientChange("c3", "Three", "three@example.com"))
	sf := emuClient(t, url)
	var ids = map[string]string{}
	for _, rec := range planQuery(t, sf, "SELECT Id, Forcesync_Key__c FROM Lead") {
		ids[rec["Forcesync_Key__c"].(string)] = rec.ID()
	}
	if _, err := sf.UpdateMany(ctx, "Lead", []salesforce.Record{{"attributes": map[string]any{"type": "Lead"}, "Id": ids["c1"], "LastName": "DRIFTED"}}, nil); err != nil {
		t.Fatal(err)
	}
	if err := emu.Purge(ids["c2"]); err != nil {
		t.Fatal(err)
	}

	out, err := r.run("reconcile", "--config", r.path, "--mapping", "clients_to_leads", "--format", "json")
	if err != nil {
		t.Fatalf("reconcile: %v", err)
	}
	var res struct {
		Run      forcesync.ReconcileRun
		Findings []forcesync.Finding
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	if res.Run.Checked != 3 || len(res.Findings) != 2 || res.Findings[0].Kind != forcesync.DriftFieldChanged || res.Findings[1].Kind != forcesync.DriftMissing {
		t.Fatalf("reconcile found %+v", res)
	}
	for _, bad := range [][]string{
		{"reconcile", "--config", r.path},
		{"reconcile", "--config", r.path, "--mapping", "clients_to_leads", "--heal", "--yes"},
		{"reconcile", "--config", r.path, "--mapping", "clients_to_leads", "--heal", "--max-changes", "5"},
	} {
		if _, err := r.run(bad...); exitCode(err) != 2 {
			t.Errorf("%v: %v; want a usage error", bad, err)
		}
	}
	out, err = r.run("reconcile", "--config", r.path, "--mapping", "clients_to_leads", "--heal")
	if err == nil || !strings.Contains(out, "2 changes would pass the mass-change guard's limit of 1") || !strings.Contains(out, "forcesync approve clients_to_leads") {
		t.Fatalf("heal beyond the guard: %v\n%s", err, out)
	}
	if got := planQuery(t, sf, "SELECT LastName FROM Lead WHERE Id = '"+ids["c1"]+"'"); got[0]["LastName"] != "DRIFTED" {
		t.Fatalf("a paused heal changed Salesforce: %v", got)
	}
	if out, err := r.run("approve", "--config", r.path, "clients_to_leads"); err != nil {
		t.Fatalf("approve: %v\n%s", err, out)
	}
	out, err = r.run("reconcile", "--config", r.path, "--mapping", "clients_to_leads", "--heal")
	if err != nil || !strings.Contains(out, "healed 2") {
		t.Fatalf("heal after approval: %v\n%s", err, out)
	}
	out, err = r.run("reconcile", "--config", r.path, "--mapping", "clients_to_leads")
	if err != nil || !strings.Contains(out, "no drift") {
		t.Fatalf("after the heal: %v\n%s", err, out)
	}
	got := map[string]string{}
	for _, rec := range planQuery(t, sf, "SELECT LastName, Forcesync_Key__c FROM Lead") {
		got[rec["Forcesync_Key__c"].(string)] = rec["LastName"].(string)
	}
	if got["c1"] != "One" || got["c2"] != "Two" || got["c3"] != "Three" {
		t.Fatalf("Salesforce after the heal: %v", got)
	}
}

func planQuery(t *testing.T, c *salesforce.Client, q string) []salesforce.Record {
	t.Helper()
	recs, err := c.QueryRecords(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func TestReconcileAPI(t *testing.T) {
	s := startServe(t)
	if code, body := s.do("POST", "/api/v1/mappings/clients_to_leads/reconcile", "", true); code != 200 || body["run"] == nil {
		t.Fatalf("reconcile = %d %v", code, body)
	}
	if code, body := s.do("POST", "/api/v1/mappings/clients_to_leads/reconcile", `{"heal":true}`, true); code != 200 {
		t.Fatalf("heal = %d %v; want 200", code, body)
	}
	if code, body := s.do("POST", "/api/v1/mappings/clients_to_leads/reconcile", `{"heal":true,"max_changes":5}`, true); code != 400 {
		t.Fatalf("heal with a cap (gone: the guard bounds heals) = %d %v; want 400", code, body)
	}
	if code, body := s.do("POST", "/api/v1/mappings/nope/reconcile", "", true); code != 404 {
		t.Fatalf("reconcile nope = %d %v; want 404", code, body)
	}
	code, body := s.do("GET", "/api/v1/reconcile/runs?mapping=clients_to_leads", "", true)
	runs, _ := body["runs"].([]any)
	if code != 200 || len(runs) != 2 {
		t.Fatalf("runs = %d %v", code, body)
	}
	id := runs[0].(map[string]any)["id"]
	if code, body := s.do("GET", "/api/v1/reconcile/runs/"+jsonNumber(id), "", true); code != 200 || body["findings"] == nil {
		t.Fatalf("run = %d %v", code, body)
	}
}

func jsonNumber(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestServeReconcilesOnSchedule(t *testing.T) {
	emu, sfURL := startEmulator(t, emulator.Config{})
	cfg := strings.Replace(fmt.Sprintf(serveConfig, sfURL), "    object: Lead\n", "    object: Lead\n    reconcile_every: 1h\n", 1)
	path := filepath.Join(t.TempDir(), "forcesync.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	s := serveFileTo(t, emu, path, nil, logs)
	deadline := time.Now().Add(20 * time.Second)
	for {
		code, body := s.do("GET", "/api/v1/reconcile/runs?mapping=clients_to_leads", "", true)
		if runs, _ := body["runs"].([]any); code == 200 && len(runs) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no scheduled reconcile run: %d %v", code, body)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Its outcome is logged with an event, as every line of interest is
	// (docs/operations.md): a log collector alerts on reconcile.drift.
	s.stop()
	if out := logs.String(); !strings.Contains(out, `"event":"reconcile.clean"`) {
		t.Fatalf("the scheduled reconcile logged no reconcile.clean event:\n%s", out)
	}
}

// TestReconcileHealHeldAgain: a never-synced record the heal queues and the
// push holds again is not called healed; the output says what became of it.
func TestReconcileHealHeldAgain(t *testing.T) {
	_, url := startEmulator(t, emulator.Config{})
	r := newCLIRig(t, url, serveConfig)
	r.push("client", clientChange("c1", "One", "one@example.com"), clientChange("bad", "Bad", "not-an-email"))
	out, err := r.run("reconcile", "--config", r.path, "--mapping", "clients_to_leads", "--heal", "--format", "json")
	if err != nil {
		t.Fatalf("heal: %v\n%s", err, out)
	}
	var res struct {
		Run      forcesync.ReconcileRun
		Findings []forcesync.Finding
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	if res.Run.Healed != 0 || len(res.Findings) != 1 || res.Findings[0].Key != "bad" || res.Findings[0].Healed ||
		!strings.HasSuffix(res.Findings[0].Detail, "; queued, then held: INVALID_EMAIL_ADDRESS") {
		t.Fatalf("heal: %+v; want bad queued, then held again, not healed", res)
	}
}

// TestReconcileTableSharedIsNotDrift: a record bound to several keys is
// reported shared, which is a note and not drift: the table still says
// there is no drift.
func TestReconcileTableSharedIsNotDrift(t *testing.T) {
	run := &forcesync.ReconcileRun{ID: 1, Mapping: "contacts", Checked: 2, API: "query",
		Counts: map[forcesync.DriftKind]int{forcesync.DriftShared: 1}}
	fs := []forcesync.Finding{{Mapping: "contacts", Key: "k1", SalesforceID: "003000000000001AAA", Kind: forcesync.DriftShared}}
	var out strings.Builder
	writeReconcileTable(&out, run, fs)
	if !strings.Contains(out.String(), "no drift") {
		t.Fatalf("table:\n%s", out.String())
	}
	fs = append(fs, forcesync.Finding{Mapping: "contacts", Key: "k2", SalesforceID: "003000000000002AAA", Kind: forcesync.DriftFieldChanged})
	out.Reset()
	writeReconcileTable(&out, run, fs)
	if strings.Contains(out.String(), "no drift") {
		t.Fatalf("table with a changed field says no drift:\n%s", out.String())
	}
}
