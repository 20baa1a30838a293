package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/emulator"
)

// TestServeMassChangeGuard: deletes past the mapping's guard are held, the
// API lists the pause, and approving (API, then CLI) lets them through.
func TestServeMassChangeGuard(t *testing.T) {
	emu, sfURL := startEmulator(t, emulator.Config{})
	cfg := strings.Replace(fmt.Sprintf(serveConfig, sfURL), "    operations:\n", "    guard: {max_records: 2}\n    operations:\n", 1)
	s := startServeWith(t, emu, cfg, nil)
	s.do("POST", "/api/v1/sources/client/records", `[{"key":"a","fields":{"last_name":"A"}},{"key":"b","fields":{"last_name":"B"}},{"key":"c","fields":{"last_name":"C"}}]`, true)
	for _, k := range []string{"a", "b", "c"} {
		s.waitState(k, "synced")
	}
	s.do("POST", "/api/v1/sources/client/records", `[{"key":"a","op":"delete"},{"key":"b","op":"delete"},{"key":"c","op":"delete"}]`, true)
	st := s.waitState("c", "held")
	if st["error"].(map[string]any)["code"] != forcesync.CodeMassChangePaused {
		t.Fatalf("held with %v", st["error"])
	}
	if n := len(emuRecords(t, sfURL, "SELECT Id FROM Lead")); n != 3 {
		t.Fatalf("%d leads, want 3 kept by the guard", n)
	}
	code, out := s.do("GET", "/api/v1/guard", "", true)
	if code != 200 || !strings.Contains(fmt.Sprint(out), "paused:true") {
		t.Fatalf("guard: %d %v", code, out)
	}
	if code, _ := s.do("POST", "/api/v1/mappings/nope/approve", "", true); code != 404 {
		t.Fatalf("unknown mapping: %d", code)
	}
	code, out = s.do("POST", "/api/v1/mappings/clients_to_leads/approve", "", true)
	if code != 200 || out["requeued"] != 3.0 {
		t.Fatalf("approve: %d %v", code, out)
	}
	for _, k := range []string{"a", "b", "c"} {
		s.waitState(k, "deleted")
	}
	// The CLI approves through the same store; nothing is left to requeue.
	var buf bytes.Buffer
	if err := run(context.Background(), []string{"approve", "--config", s.path, "clients_to_leads"}, s.env.Getenv, s.env.Stdin, &buf, io.Discard); err != nil {
		t.Fatalf("approve: %v", err)
	}
	if !strings.Contains(buf.String(), "approved clients_to_leads: 0 records requeued") {
		t.Fatalf("approve output %q", buf.String())
	}
	if err := run(context.Background(), []string{"approve", "--config", s.path, "nope"}, s.env.Getenv, s.env.Stdin, &buf, io.Discard); err == nil {
		t.Fatal("approve of an unknown mapping succeeded")
	}
}
