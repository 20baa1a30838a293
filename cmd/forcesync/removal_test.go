package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/emulator"
)

// TestServeRemovedMapping: a mapping with deprovision_on_removal and bound
// records leaves the config. serve, started again, pauses the removal at
// once (the guard lists it; nothing is deleted); the API approves the
// removed mapping and its Leads are deleted. The CLI's --keep refuses a
// configured mapping and a name never seen.
func TestServeRemovedMapping(t *testing.T) {
	emu, sfURL := startEmulator(t, emulator.Config{})
	path := filepath.Join(t.TempDir(), "forcesync.yaml")
	with := strings.Replace(fmt.Sprintf(serveConfig, sfURL), "    operations:\n      delete: delete\n",
		"    guard: {max_records: 2}\n    operations:\n      remove_action: delete\n      deprovision_on_removal: true\n", 1)
	if with == fmt.Sprintf(serveConfig, sfURL) {
		t.Fatal("config not edited")
	}
	if err := os.WriteFile(path, []byte(with), 0o600); err != nil {
		t.Fatal(err)
	}
	s := serveFile(t, emu, path, nil)
	s.do("POST", "/api/v1/sources/client/records", `[{"key":"a","fields":{"last_name":"A"}},{"key":"b","fields":{"last_name":"B"}},{"key":"c","fields":{"last_name":"C"}}]`, true)
	for _, k := range []string{"a", "b", "c"} {
		s.waitState(k, "synced")
	}
	s.stop()
	// The mapping leaves the config; another takes the source's place.
	without := strings.Replace(with, "  - name: clients_to_leads\n", "  - name: clients_to_contacts\n", 1)
	without = strings.Replace(without, "    object: Lead\n", "    object: Contact\n", 1)
	without = strings.Replace(without, "    guard: {max_records: 2}\n    operations:\n      remove_action: delete\n      deprovision_on_removal: true\n", "", 1)
	without = strings.Replace(without, "      - target: Company\n        value: Trading Clients\n        on: create\n", "", 1)
	without = strings.Replace(without, "external_id: Forcesync_Key__c", "fields: [Email]", 1)
	if err := os.WriteFile(path, []byte(without), 0o600); err != nil {
		t.Fatal(err)
	}
	s = serveFile(t, emu, path, nil)
	code, out := s.do("GET", "/api/v1/guard", "", true)
	if code != 200 || !strings.Contains(fmt.Sprint(out), "name:clients_to_leads") || !strings.Contains(fmt.Sprint(out), "paused:true") {
		t.Fatalf("guard after the removal: %d %v", code, out)
	}
	if n := len(emuRecords(t, sfURL, "SELECT Id FROM Lead")); n != 3 {
		t.Fatalf("%d leads, want 3 kept by the guard", n)
	}
	var buf bytes.Buffer
	for _, name := range []string{"clients_to_contacts", "never_seen"} {
		err := run(context.Background(), []string{"approve", "--keep", "--config", path, name}, s.env.Getenv, s.env.Stdin, &buf, io.Discard)
		if err == nil {
			t.Fatalf("approve --keep %s succeeded", name)
		}
	}
	code, out = s.do("POST", "/api/v1/mappings/clients_to_leads/approve", "", true)
	if code != 200 {
		t.Fatalf("approve: %d %v", code, out)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for len(emuRecords(t, sfURL, "SELECT Id FROM Lead")) != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("leads left after the approval: %v", emuRecords(t, sfURL, "SELECT Id, LastName FROM Lead"))
		}
		time.Sleep(50 * time.Millisecond)
	}
	for {
		st, err := s.status("a", "clients_to_leads")
		if err != nil {
			t.Fatal(err)
		}
		if st == string(forcesync.StateDeleted) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("status of a: %q", st)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// status returns the state of key under mapping.
func (s *served) status(key, mapping string) (string, error) {
	code, body := s.do("GET", "/api/v1/sources/client/records/"+key, "", true)
	if code != 200 {
		return "", fmt.Errorf("%d %v", code, body)
	}
	for _, m := range body["mappings"].([]any) {
		if m := m.(map[string]any); m["mapping"] == mapping {
			return fmt.Sprint(m["state"]), nil
		}
	}
	return "", fmt.Errorf("no status under %s: %v", mapping, body)
}
