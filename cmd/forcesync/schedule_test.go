package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/emulator"
	"github.com/forcesync/forcesync/internal/pgtest"
	"github.com/forcesync/forcesync/postgres"
	"github.com/forcesync/forcesync/sqlite"
)

// metric reads the sum of the /metrics samples named name whose labels
// include every label="value" in want.
func (s *served) metric(name string, want ...string) float64 {
	s.t.Helper()
	req, _ := http.NewRequest("GET", s.base+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+s.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		s.t.Fatalf("/metrics: %d %s", resp.StatusCode, b)
	}
	var sum float64
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
next:
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name+"{") && !strings.HasPrefix(line, name+" ") {
			continue
		}
		for _, w := range want {
			if !strings.Contains(line, w) {
				continue next
			}
		}
		v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		if err != nil {
			s.t.Fatalf("/metrics line %q: %v", line, err)
		}
		sum += v
	}
	return sum
}

// waitCondFor polls cond until it holds or a minute passed.
func waitCondFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("never happened: %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// seedBeforeServe puts in st, before serve starts, five client records
// accepted while no mapping read the source, and the replay schedule's
// last firing, two days ago; it closes st.
func seedBeforeServe(t *testing.T, st forcesync.Store) {
	t.Helper()
	ctx := context.Background()
	defer st.Close()
	var cs []forcesync.Change
	for i := range 5 {
		cs = append(cs, forcesync.Change{Source: "client", Key: fmt.Sprintf("c%d", i), Op: forcesync.OpUpsert,
			Fields: map[string]any{"last_name": fmt.Sprintf("Early%d", i), "email": fmt.Sprintf("e%d@example.com", i)}})
	}
	if _, err := st.Accept(ctx, nil, cs); err != nil {
		t.Fatal(err)
	}
	ls, ok := forcesync.StoreAs[forcesync.LeaderStore](st)
	if !ok {
		t.Fatalf("%T has no leader leases", st)
	}
	const lease = "schedule:clients_to_leads:replay"
	l, held, err := ls.AcquireLease(ctx, lease, "a-replica-long-gone", time.Minute)
	if err != nil || !held {
		t.Fatal(held, err)
	}
	if ok, err := ls.MarkLease(ctx, lease, l.Token, time.Now().Add(-48*time.Hour)); err != nil || !ok {
		t.Fatal(ok, err)
	}
	if err := ls.ReleaseLease(ctx, lease, "a-replica-long-gone", l.Token); err != nil {
		t.Fatal(err)
	}
}

// twoWayScheduled makes serveConfig's mapping two-way, polled every
// 200ms, with a nightly replay.
func twoWayScheduled(cfg string) string {
	cfg = strings.Replace(cfg, "    object: Lead\n", `    object: Lead
    direction: both
    pull:
      poll_interval: 200ms
      into: [source, changes]
    schedule:
      replay: "0 3 * * *"
`, 1)
	return strings.Replace(cfg, "        on: create\n", "        on: create\n        direction: push\n", 1) // a constant is not pulled
}

// earlyLeads waits for the five seeded records in Salesforce, once each.
func earlyLeads(t *testing.T, sfURL string) {
	t.Helper()
	waitCondFor(t, "the replayed records in Salesforce", func() bool {
		return len(emuRecords(t, sfURL, "SELECT Forcesync_Key__c FROM Lead")) == 5
	})
	for _, r := range emuRecords(t, sfURL, "SELECT Forcesync_Key__c, LastName FROM Lead") {
		if !strings.HasPrefix(r["LastName"].(string), "Early") {
			t.Fatalf("lead %v", r)
		}
	}
}

// TestServeScheduleOnSQLite: one serve on SQLite holds every lease: the
// missed replay runs once at start, and it polls the two-way mapping.
func TestServeScheduleOnSQLite(t *testing.T) {
	emu, sfURL := startEmulator(t, emulator.Config{})
	db := filepath.Join(t.TempDir(), "fs.db")
	st, err := sqlite.Open(context.Background(), db, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	seedBeforeServe(t, st)
	cfg := twoWayScheduled(strings.Replace(fmt.Sprintf(serveConfig, sfURL), "  sqlite: fs.db\n", "  sqlite: "+db+"\n", 1))
	s := startServeWith(t, emu, cfg, nil)
	earlyLeads(t, sfURL)
	if n := s.metric("forcesync_schedule_fired_total", `job="replay"`); n != 1 {
		t.Fatalf("fired %v times, want 1", n)
	}
	if n := s.metric("forcesync_schedule_skipped_total", `reason="missed"`); n < 1 {
		t.Fatalf("missed firings counted %v, want at least 1 (two days of a nightly schedule)", n)
	}
	waitCondFor(t, "serve leads the polls", func() bool {
		return s.metric("forcesync_leader_lease_held", `lease="pull:clients_to_leads"`) == 1
	})

	// forcesync status shows who leads what, and the schedule's firings.
	var buf bytes.Buffer
	if err := run(context.Background(), []string{"status", "--json", "--config", s.path}, s.env.Getenv, s.env.Stdin, &buf, io.Discard); err != nil {
		t.Fatalf("status: %v", err)
	}
	var rep struct {
		Leaders []leaderStatus `json:"leaders"`
	}
	if err := json.Unmarshal(buf.Bytes(), &rep); err != nil {
		t.Fatalf("status --json: %v\n%s", err, buf.String())
	}
	got := map[string]leaderStatus{}
	for _, l := range rep.Leaders {
		got[l.Lease] = l
	}
	now := time.Now().UTC()
	last := time.Date(now.Year(), now.Month(), now.Day(), 3, 0, 0, 0, time.UTC)
	if now.Before(last) {
		last = last.AddDate(0, 0, -1)
	}
	sch := got["schedule:clients_to_leads:replay"]
	if sch.Owner == "" || !sch.LastFired.Equal(last) || !sch.NextFiring.Equal(last.AddDate(0, 0, 1)) {
		t.Fatalf("status of the schedule: %+v (want last %v)", sch, last)
	}
	if got["pull:clients_to_leads"].Owner == "" || got["deliver:webhook:clients_to_leads"].Lease != "" {
		t.Fatalf("status leaders: %+v", rep.Leaders)
	}
	buf.Reset()
	if err := run(context.Background(), []string{"status", "--config", s.path}, s.env.Getenv, s.env.Stdin, &buf, io.Discard); err != nil {
		t.Fatalf("status: %v", err)
	}
	if !strings.Contains(buf.String(), "schedule:clients_to_leads:replay") || !strings.Contains(buf.String(), "NEXT FIRING") {
		t.Fatalf("status output:\n%s", buf.String())
	}
}

// TestServeReplicasLeadOnPostgres: three serve replicas share PostgreSQL
// and one org. The mapping's replay schedule last fired two days ago (all
// replicas were down since): it fires once, in one replica, and the
// records that arrived before the mapping existed reach Salesforce once
// each. The two-way mapping is polled by one replica only: query calls
// follow the poll interval, not the number of replicas. Stopping the
// polling replica hands the polls to another.
func TestServeReplicasLeadOnPostgres(t *testing.T) {
	dsn, schema := pgtest.Schema(t, "serve_lead")
	ctx := context.Background()
	emu, sfURL := startEmulator(t, emulator.Config{})

	// Before the replicas: records accepted while no mapping read the
	// source, and the schedule's last firing, two days ago.
	st, err := postgres.Open(ctx, dsn, postgres.Options{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	seedBeforeServe(t, st)

	const every = 200 * time.Millisecond
	cfg := strings.Replace(fmt.Sprintf(serveConfig, sfURL), "  sqlite: fs.db\n",
		"  postgres_dsn: ${TEST_PG_DSN}\n  postgres_schema: "+schema+"\nengine:\n  leader_lease: 3s\n", 1)
	cfg = twoWayScheduled(cfg)
	extra := map[string]string{"TEST_PG_DSN": dsn}
	reps := startReplicas(t, emu, cfg, extra, 3)

	// The missed firing runs once: the early records are pushed, once each.
	earlyLeads(t, sfURL)
	fired := 0.0
	for _, r := range reps {
		fired += r.metric("forcesync_schedule_fired_total", `mapping="clients_to_leads"`, `job="replay"`)
	}
	if fired != 1 {
		t.Fatalf("the replay fired %v times across the replicas, want 1", fired)
	}

	// One replica polls.
	pollLease := `lease="pull:clients_to_leads"`
	leader := func() *served {
		var found *served
		for _, r := range reps {
			if r.stop != nil && r.metric("forcesync_leader_lease_held", pollLease) == 1 {
				if found != nil {
					t.Fatal("two replicas hold the pull lease")
				}
				found = r
			}
		}
		return found
	}
	waitCondFor(t, "a replica leads the polls", func() bool { return leader() != nil })
	first := leader()

	// Query calls over a window: the leader waits a poll interval between
	// polls, so there are at most window/interval + 1 of them (a poll that
	// reads changes may page once more), however many replicas run.
	emu.ResetStats()
	start := time.Now()
	waitCondFor(t, "15 query calls", func() bool { return emu.Stats()[emulator.KindQuery] >= 15 })
	calls := emu.Stats()[emulator.KindQuery]
	elapsed := time.Since(start)
	if limit := int64(elapsed/every) + 2; calls > limit {
		t.Fatalf("%d query calls in %v with three replicas: more than one poll per %v (at most %d)", calls, elapsed, every, limit)
	}
	t.Logf("%d query calls in %v at one poll per %v, three replicas", calls, elapsed.Round(time.Millisecond), every)

	// The leader stops: another replica polls.
	first.stop()
	first.stop = nil
	waitCondFor(t, "another replica leads the polls", func() bool { l := leader(); return l != nil && l != first })
	for _, r := range reps {
		if r.stop == nil {
			continue
		}
		if n := r.metric("forcesync_leader_lease_acquired_total", pollLease); n > 1 {
			t.Fatalf("a replica acquired the pull lease %v times", n)
		}
	}
}
