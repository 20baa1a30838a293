package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/sqlite"
)

// TestStatusJSONKeys: `forcesync status --json` names every key as the
// REST API does (snake_case; runs and failures in the shapes of GET
// /api/v1/runs and /api/v1/failures), not with the Go field names of the
// store's types, and leaves out the times it does not know.
func TestStatusJSONKeys(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "forcesync.yaml")
	if err := os.WriteFile(path, []byte(fmt.Sprintf(pushConfig, "http://127.0.0.1:1")), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "fs.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m := "clients_to_leads"
	if _, err := st.Accept(ctx, []string{m}, []forcesync.Change{{Source: "client", Key: "c1", Op: forcesync.OpUpsert,
		Fields: map[string]any{"email": "bad"}}}); err != nil {
		t.Fatal(err)
	}
	items, err := st.Claim(ctx, forcesync.ClaimRequest{Mapping: m, Owner: "w", Lease: time.Minute, Limit: 10, Now: time.Now()})
	if err != nil || len(items) != 1 {
		t.Fatalf("claim: %v", err)
	}
	at := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	if err := st.Complete(ctx, "w", []forcesync.Outcome{{Item: items[0], State: forcesync.StateHeld, Fingerprint: "f",
		Error: &forcesync.RecordError{Code: "INVALID_EMAIL_ADDRESS", Message: "Email: invalid", Fields: []string{"Email"}}}},
		&forcesync.Run{Mapping: m, API: "collections", Started: at, Finished: at.Add(time.Second), Records: 1, Failed: 1, APICalls: 1}); err != nil {
		t.Fatal(err)
	}
	if err := st.RecordAPIUsage(ctx, forcesync.APIUsage{Connection: "org", Used: 10, Max: 15000, At: at}); err != nil {
		t.Fatal(err)
	}
	if err := st.SetBudgetState(ctx, forcesync.BudgetState{Connection: "org", Own: 3, Budget: 7500, OrgUsed: 10, OrgMax: 15000, Updated: at}); err != nil {
		t.Fatal(err)
	}
	st.Close()

	var out bytes.Buffer
	vars := map[string]string{"TEST_SF_SECRET": "x", "TEST_SF_PASSWORD": "x"}
	if err := run(ctx, []string{"status", "--config", path, "--json"}, func(k string) string { return vars[k] }, strings.NewReader(""), &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	var rep map[string][]map[string]any
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("status --json: %v\n%s", err, out.String())
	}
	for _, c := range []struct {
		list string
		want []string
	}{
		{"runs", []string{"api", "api_calls", "created", "deleted", "failed", "finished", "id", "mapping", "records", "skipped", "started", "unchanged", "updated"}},
		{"failures", []string{"attempts", "error", "key", "mapping", "source", "state", "updated", "version"}},
		{"api_usage", []string{"at", "connection", "max", "used"}},
		{"budget", []string{"budget", "connection", "org_max", "org_used", "own_calls_24h", "updated"}},
	} {
		items := rep[c.list]
		if len(items) != 1 {
			t.Fatalf("%s: %v, want one\n%s", c.list, items, out.String())
		}
		keys := make([]string, 0, len(items[0]))
		for k := range items[0] {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		if !slices.Equal(keys, c.want) {
			t.Errorf("%s keys %v, want %v", c.list, keys, c.want)
		}
	}
	if f := rep["failures"][0]; f["key"] != "c1" || f["state"] != "held" {
		t.Errorf("failure %v", f)
	}
	if r := rep["runs"][0]; r["api_calls"] != 1.0 || r["started"] != "2026-12-05T10:00:00Z" {
		t.Errorf("run %v", r)
	}
}
