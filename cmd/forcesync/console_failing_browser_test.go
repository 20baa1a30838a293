package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/forcesync/forcesync/emulator"
)

// TestConsoleBrowserOverviewShowsFailingPushes: while Salesforce refuses
// every push (503 on every Collections call), the overview in a real
// Chromium says the mapping is retrying, with the error and since when,
// as /metrics and forcesync status do, instead of "running".
func TestConsoleBrowserOverviewShowsFailingPushes(t *testing.T) {
	b := newBrowser(t)
	s := startConsoleServe(t)
	b.mu.Lock()
	b.origin = s.base
	b.mu.Unlock()
	b.signIn(s.base)
	if txt := b.waitText(s.base+"/", "clients_to_leads"); !strings.Contains(txt, "running") {
		t.Fatalf("overview before the trouble:\n%s", txt)
	}

	if _, err := s.emu.AddFault(emulator.Fault{Type: emulator.FaultError, Status: http.StatusServiceUnavailable, Method: "*",
		Path: "/services/data/*/composite/sobjects/**"}); err != nil {
		t.Fatal(err)
	}
	if code, _ := s.do("POST", "/api/v1/sources/client/records", `[
		{"key": "c1", "fields": {"last_name": "Lovelace", "email": "ada@example.com"}},
		{"key": "c2", "fields": {"last_name": "Hopper", "email": "grace@example.com"}}]`, true); code != http.StatusAccepted {
		t.Fatalf("ingest: %d", code)
	}
	s.waitState("c1", "retrying")
	s.waitState("c2", "retrying")

	txt := b.waitText(s.base+"/", "SERVER_UNAVAILABLE")
	// The mapping's row: from its name to the next section.
	row, _, _ := strings.Cut(txt[strings.Index(txt, "clients_to_leads\t"):], "Records per minute")
	// After three failed calls in a row the connection counts as
	// unreachable (as /healthz says), which the row gives as the reason.
	for _, want := range []string{"retrying", "Salesforce unreachable", "since 20", "SERVER_UNAVAILABLE"} {
		if !strings.Contains(row, want) {
			t.Fatalf("overview row lacks %q: %q\n%s", want, row, txt)
		}
	}
	if strings.Contains(row, "running") {
		t.Fatalf("overview row says running while every push fails: %q", row)
	}
	b.shot("30-overview-failing")
	if n := s.metric("forcesync_records", `mapping="clients_to_leads"`, `state="retrying"`); n != 2 {
		t.Fatalf("forcesync_records retrying = %v, want 2", n)
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"status", "--config", s.path, "--json"}, s.env.Getenv, s.env.Stdin, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	var rep statusReport
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Mappings) != 1 || rep.Mappings[0].Failing == nil || rep.Mappings[0].Failing.LastError == nil ||
		rep.Mappings[0].Failing.LastError.Code != "SERVER_UNAVAILABLE" || rep.Mappings[0].Failing.Since.IsZero() {
		t.Fatalf("status --json mappings: %s", out.String())
	}
	out.Reset()
	if err := run(context.Background(), []string{"status", "--config", s.path}, s.env.Getenv, s.env.Stdin, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "Mapping clients_to_leads is failing: every record of its last") {
		t.Fatalf("status:\n%s", out.String())
	}
}
