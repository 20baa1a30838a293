package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/forcesync/forcesync/emulator"
	"github.com/forcesync/forcesync/internal/pgtest"
	"github.com/forcesync/forcesync/salesforce"
)

// startReplicas starts n serves on config at once, replicas of one
// another when config's store is shared.
func startReplicas(t *testing.T, emu *emulator.Emulator, config string, extra map[string]string, n int) []*served {
	t.Helper()
	reps := make([]*served, n)
	var wg sync.WaitGroup
	for i := range reps {
		wg.Add(1)
		go func() { defer wg.Done(); reps[i] = startServeWith(t, emu, config, extra) }()
	}
	wg.Wait()
	for i, r := range reps {
		if r == nil {
			t.Fatalf("replica %d did not start", i)
		}
	}
	return reps
}

// TestServeReplicasOnPostgres runs two forcesync serve processes' worth of
// app (two stores, two engines, two APIs) on one PostgreSQL schema and one
// org: records ingested through either replica reach Salesforce exactly
// once, and `forcesync status` reads the shared store.
func TestServeReplicasOnPostgres(t *testing.T) {
	dsn, schema := pgtest.Schema(t, "serve")
	ctx := context.Background()
	emu, sfURL := startEmulator(t, emulator.Config{})
	cfg := strings.Replace(fmt.Sprintf(serveConfig, sfURL), "  sqlite: fs.db\n",
		"  postgres_dsn: ${TEST_PG_DSN}\n  postgres_schema: "+schema+"\n", 1)
	extra := map[string]string{"TEST_PG_DSN": dsn}
	reps := startReplicas(t, emu, cfg, extra, 2)

	// 200 clients, each sent twice (created, then renamed), alternately
	// through each replica, several bodies at once.
	const n = 200
	post := func(r *served, round, lo, hi int) {
		var b strings.Builder
		for i := lo; i < hi; i++ {
			fmt.Fprintf(&b, `{"key":"c%03d","version":%d,"fields":{"last_name":"Name%d-%d","email":"c%d@example.com"}}`+"\n", i, round, i, round, i)
		}
		if code, out := r.do("POST", "/api/v1/sources/client/records", b.String(), true); code != http.StatusAccepted {
			t.Errorf("ingest: %d %v", code, out)
		}
	}
	for round := 1; round <= 2; round++ {
		var posts sync.WaitGroup
		for lo := 0; lo < n; lo += 20 {
			posts.Add(1)
			go func() { defer posts.Done(); post(reps[(lo/20+round)%2], round, lo, lo+20) }()
		}
		posts.Wait()
	}
	client := emuClient(t, sfURL)
	deadline := time.Now().Add(60 * time.Second)
	for {
		recs := leadNames(t, client)
		done := len(recs) == n
		for k, names := range recs {
			if len(names) != 1 {
				t.Fatalf("lead %s present %d times", k, len(names))
			}
			if !strings.HasSuffix(names[0], "-2") {
				done = false
			}
		}
		if done {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 60s: %d leads, want %d with the second round's names", len(recs), n)
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, key := range []string{"c000", "c199"} {
		reps[1].waitState(key, "synced")
	}
	var buf bytes.Buffer
	env := *reps[0].env
	env.Stdout = &buf
	if err := run(ctx, []string{"status", "--config", reps[0].path}, env.Getenv, env.Stdin, env.Stdout, io.Discard); err != nil {
		t.Fatalf("status: %v", err)
	}
	if !strings.Contains(buf.String(), "clients_to_leads") {
		t.Fatalf("status output:\n%s", buf.String())
	}
}

// leadNames returns the LastNames of the org's Leads by Forcesync_Key__c,
// read through the REST API like any client.
func leadNames(t *testing.T, c *salesforce.Client) map[string][]string {
	t.Helper()
	recs, err := c.QueryRecords(context.Background(), "SELECT Id, Forcesync_Key__c, LastName FROM Lead")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, r := range recs {
		k, _ := r["Forcesync_Key__c"].(string)
		name, _ := r["LastName"].(string)
		out[k] = append(out[k], name)
	}
	return out
}
