package crashtest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/emulator"
	"github.com/forcesync/forcesync/internal/testrig"
	"github.com/forcesync/forcesync/salesforce"
)

// binary is the forcesync executable built once by TestMain.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "forcesync-crashtest-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "forcesync")
	// Built without -race on purpose: the child is killed, not inspected,
	// and the race detector would only slow the pushes being interrupted.
	cmd := exec.Command("go", "build", "-o", binary, "github.com/forcesync/forcesync/cmd/forcesync")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build forcesync:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

const configHead = `
server:
  api_token: ${TEST_API_TOKEN}
store:
  sqlite: fs.db
engine:
  bulk_threshold: %d
  lease: 5s
` + testrig.EmulatorConnection + `
sources:
  - name: app
mappings:
  - name: app_to_leads
    source: app
    object: Lead
`

const matchExternalID = `    match:
      external_id: Forcesync_Key__c
`

const matchEmail = `    match:
      fields: [Email]
`

const configFields = `    fields:
      - target: LastName
        source: last_name
      - target: FirstName
        source: first_name
      - target: Email
        source: email
      - target: Company
        value: Crash Test Inc
        on: create
`

// scale is the size of one run.
type scale struct {
	records, kills, batch int
	updates               float64 // share of records sent again with a newer version
	drain                 time.Duration
}

func crashScale() scale {
	if os.Getenv("FORCESYNC_CRASH_FULL") == "1" {
		return scale{records: 20000, kills: 60, batch: 250, updates: 0.25, drain: 10 * time.Minute}
	}
	return scale{records: 2000, kills: 50, batch: 50, updates: 0.25, drain: 3 * time.Minute}
}

// change is one record as the ingest API takes it.
type change struct {
	Key     string         `json:"key"`
	Version int64          `json:"version"`
	Fields  map[string]any `json:"fields"`
}

// crashCase is one crash test: a mapping's match and where state lives.
type crashCase struct {
	match         string
	bulkThreshold int
	keyField      string
	// postgres runs the children on a PostgreSQL schema of their own;
	// replicas is how many run at once (each killed at its own moment).
	postgres bool
	replicas int
}

func TestCrashExternalID(t *testing.T) {
	// A low threshold sends the first backlog through Bulk 2.0 and the tail
	// (and the updates trickling in) through Collections.
	runCrash(t, crashCase{match: matchExternalID, bulkThreshold: 400, keyField: "Forcesync_Key__c"})
}

func TestCrashMatchByEmail(t *testing.T) {
	// Bulk is for External ID upserts only; this mapping has no External ID.
	runCrash(t, crashCase{match: matchEmail, bulkThreshold: 400, keyField: "Email"})
}

// TestCrashPostgresReplicas runs two serve replicas on one PostgreSQL
// schema and kills both at random points of every life: what one replica
// leased when it died is pushed by the other or by the next life, and
// nothing is lost or doubled.
func TestCrashPostgresReplicas(t *testing.T) {
	runCrash(t, crashCase{match: matchExternalID, bulkThreshold: 400, keyField: "Forcesync_Key__c", postgres: true, replicas: 2})
}

func runCrash(t *testing.T, cc crashCase) {
	if testing.Short() {
		t.Skip("crash test is long")
	}
	match, bulkThreshold, keyField := cc.match, cc.bulkThreshold, cc.keyField
	replicas := max(cc.replicas, 1)
	sc := crashScale()
	rnd := rand.New(rand.NewPCG(20261123, uint64(len(keyField)+10*replicas)))
	var env []string
	storeCfg := "  sqlite: fs.db\n"
	if cc.postgres {
		dsn, schema := pgSchema(t)
		env = append(env, "TEST_PG_DSN="+dsn)
		storeCfg = "  postgres_dsn: ${TEST_PG_DSN}\n  postgres_schema: " + schema + "\n"
	}

	emu, err := emulator.New(emulator.Config{})
	if err != nil {
		t.Fatal(err)
	}
	sf := httptest.NewServer(emu)
	t.Cleanup(sf.Close)

	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "forcesync.yaml")
	cfg := strings.Replace(fmt.Sprintf(configHead, bulkThreshold, sf.URL), "  sqlite: fs.db\n", storeCfg, 1) + match + configFields
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}

	batches, want := makeBatches(sc, rnd)
	logPath := filepath.Join(dir, "serve.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()

	var next atomic.Int64 // first batch not yet acknowledged with 202
	perLife := (len(batches) + sc.kills*3/4 - 1) / (sc.kills * 3 / 4)
	for kill := 0; kill < sc.kills; kill++ {
		cs := make([]*child, replicas)
		for i := range cs {
			cs[i] = startChild(t, cfgPath, logf, env)
		}
		c := cs[kill%replicas] // ingest goes to each replica in turn
		// Spread the ingest over the first lives so kills land while
		// records arrive and while they are pushed.
		quota := next.Load() + int64(perLife)
		if kill == 0 {
			quota = 4 // the large posts: a Bulk-sized backlog
		}
		done := c.send(batches, &next, quota)
		// Random kill points: mostly soon after start, when the push runs.
		// Each replica dies at its own moment.
		for _, victim := range rnd.Perm(replicas) {
			d := time.Duration(rnd.IntN(150)) * time.Millisecond
			if rnd.IntN(10) < 4 {
				d = time.Duration(150+rnd.IntN(1000)) * time.Millisecond
			}
			time.Sleep(d)
			cs[victim].kill(t)
		}
		<-done
	}
	t.Logf("%d kills done, %d of %d batches acknowledged", sc.kills, next.Load(), len(batches))

	// Last life: ingest what is left and drain.
	var c *child
	for i := 0; i < replicas; i++ {
		ci := startChild(t, cfgPath, logf, env)
		defer ci.kill(t)
		if c == nil {
			c = ci
		}
	}
	for next.Load() < int64(len(batches)) {
		if err := <-c.send(batches, &next, int64(len(batches))); err != nil && next.Load() < int64(len(batches)) {
			t.Fatalf("ingest to a live server failed: %v", err)
		}
	}
	client := newClient(t, sf.URL)
	deadline := time.Now().Add(sc.drain)
	var diff string
	for {
		recs, err := client.QueryRecords(context.Background(),
			"SELECT Id, Forcesync_Key__c, FirstName, LastName, Email FROM Lead")
		if err != nil {
			t.Fatal(err)
		}
		var dups string
		diff, dups = compare(recs, want, keyField)
		if dups != "" {
			t.Fatalf("duplicates in Salesforce: %s (log %s)", dups, tail(logPath))
		}
		if diff == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Salesforce never matched the source: %s\nserve log:\n%s", diff, tail(logPath))
		}
		time.Sleep(300 * time.Millisecond)
	}

	// The store agrees: every record synced, nothing pending or held. A
	// killed life may have pushed a batch without recording it; the last
	// life pushes it again once that lease runs out, so this can lag
	// Salesforce by up to a lease.
	st := openStore(t, dir, cfg)
	defer st.Close()
	for {
		counts, err := st.Counts(context.Background(), "app_to_leads")
		if err != nil {
			t.Fatal(err)
		}
		if counts[forcesync.StateSynced] == len(want) && len(counts) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("store states %v, want %d synced\nserve log:\n%s", counts, len(want), tail(logPath))
		}
		time.Sleep(300 * time.Millisecond)
	}
	t.Logf("stats %v", emu.Stats())
}

// makeBatches builds the ingest batches: every record at version 1, then a
// share of them again at version 2 with new names, shuffled among the tail.
// want holds each record's newest fields.
func makeBatches(sc scale, rnd *rand.Rand) ([][]change, map[string]change) {
	var all []change
	want := map[string]change{}
	for i := 0; i < sc.records; i++ {
		c := change{Key: fmt.Sprintf("k%06d", i), Version: 1, Fields: map[string]any{
			"first_name": fmt.Sprintf("First%d", i), "last_name": fmt.Sprintf("Last%d", i),
			"email": fmt.Sprintf("person%06d@example.com", i)}}
		all = append(all, c)
		want[c.Key] = c
	}
	for _, i := range rnd.Perm(sc.records)[:int(float64(sc.records)*sc.updates)] {
		c := change{Key: fmt.Sprintf("k%06d", i), Version: 2, Fields: map[string]any{
			"first_name": fmt.Sprintf("Renamed%d", i), "last_name": fmt.Sprintf("Last%d-v2", i),
			"email": fmt.Sprintf("person%06d@example.com", i)}}
		all = append(all, c)
		want[c.Key] = c
	}
	// The first half of the initial load comes in large posts, so the
	// backlog crosses the bulk threshold; the rest trickles in small ones.
	var out [][]change
	bulkPart := sc.records / 2
	for lo := 0; lo < bulkPart; lo += sc.records / 8 {
		out = append(out, all[lo:min(lo+sc.records/8, bulkPart)])
	}
	for lo := bulkPart; lo < len(all); lo += sc.batch {
		out = append(out, all[lo:min(lo+sc.batch, len(all))])
	}
	return out, want
}

// compare checks Salesforce's Leads against the newest source records. It
// returns a description of the first differences, and of duplicates.
func compare(recs []salesforce.Record, want map[string]change, keyField string) (diff, dups string) {
	byKey := map[string][]salesforce.Record{}
	for _, r := range recs {
		k, _ := r[keyField].(string)
		if keyField == "Email" {
			// person000123@example.com belongs to k000123.
			k = "k" + strings.TrimSuffix(strings.TrimPrefix(k, "person"), "@example.com")
		}
		byKey[k] = append(byKey[k], r)
	}
	var d, dup []string
	for k, rs := range byKey {
		if len(rs) > 1 {
			dup = append(dup, fmt.Sprintf("%s x%d", k, len(rs)))
		}
		if _, ok := want[k]; !ok {
			d = append(d, "unexpected "+k)
		}
	}
	missing := 0
	for k, c := range want {
		rs := byKey[k]
		if len(rs) == 0 {
			missing++
			continue
		}
		r := rs[0]
		if r["FirstName"] != c.Fields["first_name"] || r["LastName"] != c.Fields["last_name"] || r["Email"] != c.Fields["email"] {
			if len(d) < 5 {
				d = append(d, fmt.Sprintf("%s: have %v/%v/%v, want v%d %v", k, r["FirstName"], r["LastName"], r["Email"], c.Version, c.Fields))
			}
		}
	}
	if missing > 0 {
		d = append(d, fmt.Sprintf("%d records missing", missing))
	}
	if len(dup) > 5 {
		dup = append(dup[:5], fmt.Sprintf("and %d more", len(dup)-5))
	}
	return strings.Join(d, "; "), strings.Join(dup, ", ")
}

func newClient(t *testing.T, url string) *salesforce.Client {
	t.Helper()
	c, err := salesforce.NewClient(context.Background(), salesforce.Config{LoginURL: url,
		Auth: salesforce.Password{ClientID: "forcesync-demo", ClientSecret: "forcesync-demo-secret",
			Username: "admin@forcesync.local", Password: "forcesync"}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// child is one life of `forcesync serve`.
type child struct {
	cmd    *exec.Cmd
	base   string
	waited chan struct{}
}

func startChild(t *testing.T, cfgPath string, logf *os.File, env []string) *child {
	t.Helper()
	cmd := exec.Command(binary, "serve", "--config", cfgPath, "--listen", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "TEST_API_TOKEN=crash-token", "TEST_SF_SECRET=forcesync-demo-secret", "TEST_SF_PASSWORD=forcesync")
	cmd.Env = append(cmd.Env, env...)
	cmd.Stderr = logf
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, waited: make(chan struct{})}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "forcesync API on "); ok {
				addr <- strings.Fields(a)[0]
			}
		}
		close(addr)
	}()
	go func() {
		_ = cmd.Wait()
		close(c.waited)
	}()
	select {
	case a, ok := <-addr:
		if !ok {
			t.Fatalf("serve exited before listening; log:\n%s", tail(logf.Name()))
		}
		c.base = a
	case <-time.After(60 * time.Second):
		c.kill(t)
		t.Fatalf("serve did not start; log:\n%s", tail(logf.Name()))
	}
	return c
}

// kill ends the child with SIGKILL and waits for it.
func (c *child) kill(t *testing.T) {
	select {
	case <-c.waited:
		return
	default:
	}
	_ = c.cmd.Process.Kill()
	<-c.waited
}

// send posts batches from *next on, advancing *next on every 202, until
// batch quota or the end is reached or a post fails (the child died). The
// channel gets the error.
func (c *child) send(batches [][]change, next *atomic.Int64, quota int64) <-chan error {
	done := make(chan error, 1)
	go func() {
		hc := &http.Client{Timeout: 30 * time.Second}
		for {
			i := next.Load()
			if i >= int64(len(batches)) || i >= quota {
				done <- nil
				return
			}
			body, _ := json.Marshal(batches[i])
			req, _ := http.NewRequest("POST", c.base+"/api/v1/sources/app/records", bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer crash-token")
			req.Header.Set("Content-Type", "application/json")
			resp, err := hc.Do(req)
			if err != nil {
				done <- err
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusAccepted {
				done <- fmt.Errorf("ingest batch %d: %d %s", i, resp.StatusCode, b)
				return
			}
			next.Add(1)
		}
	}()
	return done
}

// tail returns the end of a log file for failure messages.
func tail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}
