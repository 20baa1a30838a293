package crashtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/emulator"
	"github.com/forcesync/forcesync/internal/testrig"
	"github.com/forcesync/forcesync/salesforce"
)

const pushCrashConfig = `
store:
  sqlite: fs.db
` + testrig.EmulatorConnection + `
sources:
  - name: app
    key: key
mappings:
  - name: app_to_leads
    source: app
    object: Lead
    match:
      external_id: Forcesync_Key__c
    fields:
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

// pushCrashSecond is a second mapping of the source, on a custom object:
// the push then runs one Bulk job per mapping.
const pushCrashSecond = `  - name: app_to_clients
    source: app
    object: Crash_Client__c
    match:
      external_id: Client_Key__c
    fields:
      - target: First__c
        source: first_name
      - target: Last__c
        source: last_name
      - target: Email__c
        source: email
`

// pushCrashObjects declares pushCrashSecond's object in the emulator.
var pushCrashObjects = []emulator.ObjectConfig{{Name: "Crash_Client__c", Fields: []emulator.FieldConfig{
	{Name: "Client_Key__c", Type: "string", Length: 80, Unique: true, ExternalID: true},
	{Name: "First__c", Type: "string", Length: 80},
	{Name: "Last__c", Type: "string", Length: 80},
	{Name: "Email__c", Type: "email"},
}}}

// pushScale is the size of one run of the file push crash test: rows of
// the file and kills of `forcesync push`.
func pushScale() (rows, kills int) {
	if os.Getenv("FORCESYNC_CRASH_FULL") == "1" {
		return 100_000, 12
	}
	return 20_000, 8
}

// writePushFile writes the file: every row at generation 1, and rows whose
// index is a multiple of every at generation gen (every 0: none).
func writePushFile(t *testing.T, path string, rows, every, gen int) map[string]change {
	t.Helper()
	want := make(map[string]change, rows)
	var b bytes.Buffer
	b.WriteString("key,first_name,last_name,email\n")
	for i := 0; i < rows; i++ {
		g := 1
		if every > 0 && i%every == 0 {
			g = gen
		}
		k := fmt.Sprintf("k%06d", i)
		c := change{Key: k, Version: int64(g), Fields: map[string]any{
			"first_name": fmt.Sprintf("First%d-g%d", i, g), "last_name": fmt.Sprintf("Last%d", i),
			"email": fmt.Sprintf("person%06d@example.com", i)}}
		fmt.Fprintf(&b, "%s,%s,%s,%s\n", k, c.Fields["first_name"], c.Fields["last_name"], c.Fields["email"])
		want[k] = c
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return want
}

// TestCrashFilePush kills `forcesync push` of a large CSV at random points,
// changes a quarter of the file half-way, and pushes it to the end: every
// row must be in Salesforce once with the file's newest data, the store
// must hold every record synced, and no Bulk job may be left unfinished.
func TestCrashFilePush(t *testing.T) { runPushCrash(t, false, false) }

// TestCrashFilePushPostgres is TestCrashFilePush on a PostgreSQL schema.
func TestCrashFilePushPostgres(t *testing.T) { runPushCrash(t, true, false) }

// TestCrashFilePushTwoMappings is TestCrashFilePush with a second mapping
// of the source: a Bulk job per mapping in flight when the push is killed,
// each mapping's records once in Salesforce with the newest data.
func TestCrashFilePushTwoMappings(t *testing.T) { runPushCrash(t, false, true) }

func runPushCrash(t *testing.T, pg, two bool) {
	if testing.Short() {
		t.Skip("crash test is long")
	}
	var env []string
	storeCfg := "  sqlite: fs.db\n"
	if pg {
		dsn, schema := pgSchema(t)
		env = append(env, "TEST_PG_DSN="+dsn)
		storeCfg = "  postgres_dsn: ${TEST_PG_DSN}\n  postgres_schema: " + schema + "\n"
	}
	rows, kills := pushScale()
	rnd := rand.New(rand.NewPCG(20261204, 15))
	var emuCfg emulator.Config
	mappings := []string{"app_to_leads"}
	if two {
		emuCfg.Objects = pushCrashObjects
		mappings = append(mappings, "app_to_clients")
	}
	emu, err := emulator.New(emuCfg)
	if err != nil {
		t.Fatal(err)
	}
	sf := httptest.NewServer(emu)
	t.Cleanup(sf.Close)
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "forcesync.yaml")
	cfg := strings.Replace(fmt.Sprintf(pushCrashConfig, sf.URL), "  sqlite: fs.db\n", storeCfg, 1)
	if two {
		cfg += pushCrashSecond
	}
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "app.csv")
	want := writePushFile(t, data, rows, 0, 1)
	logPath := filepath.Join(dir, "push.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	push := func() *exec.Cmd {
		cmd := exec.Command(binary, "push", "--config", cfgPath, "--source", "app", "--file", data, "--progress-every", "1h")
		cmd.Dir = dir
		cmd.Env = append(append(os.Environ(), "TEST_SF_SECRET=forcesync-demo-secret", "TEST_SF_PASSWORD=forcesync"), env...)
		cmd.Stdout, cmd.Stderr = logf, logf
		return cmd
	}
	finished := 0
	for kill := 0; kill < kills; kill++ {
		if kill == kills/2 {
			// The file changes under the resumable push: a quarter of the
			// rows get newer data; the old checkpoint no longer applies.
			want = writePushFile(t, data, rows, 4, 2)
		}
		cmd := push()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		// Random kill points over a push's life: start, reading, the Bulk
		// job in flight, the results being recorded.
		d := time.Duration(50+rnd.IntN(2500)) * time.Millisecond
		select {
		case err := <-exited:
			if err != nil {
				t.Fatalf("push failed on its own: %v\n%s", err, tail(logPath))
			}
			finished++
		case <-time.After(d):
			_ = cmd.Process.Kill()
			<-exited
		}
	}
	// Last life: to the end.
	if err := push().Run(); err != nil {
		t.Fatalf("last push: %v\n%s", err, tail(logPath))
	}
	t.Logf("%d kills, %d lives finished by themselves", kills-finished, finished)

	client := newClient(t, sf.URL)
	recs, err := client.QueryRecords(context.Background(), "SELECT Id, Forcesync_Key__c, FirstName, LastName, Email FROM Lead")
	if err != nil {
		t.Fatal(err)
	}
	diff, dups := compare(recs, want, "Forcesync_Key__c")
	if dups != "" || diff != "" {
		t.Fatalf("Salesforce differs from the file: duplicates %q; %s\n%s", dups, diff, tail(logPath))
	}
	if two {
		recs, err := client.QueryRecords(context.Background(), "SELECT Id, Client_Key__c, First__c, Last__c, Email__c FROM Crash_Client__c")
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs { // in the Lead's names, for compare
			r["Forcesync_Key__c"], r["FirstName"], r["LastName"], r["Email"] = r["Client_Key__c"], r["First__c"], r["Last__c"], r["Email__c"]
		}
		diff, dups := compare(recs, want, "Forcesync_Key__c")
		if dups != "" || diff != "" {
			t.Fatalf("Crash_Client__c differs from the file: duplicates %q; %s\n%s", dups, diff, tail(logPath))
		}
	}
	st := openStore(t, dir, cfg)
	defer st.Close()
	for _, m := range mappings {
		counts, err := st.Counts(context.Background(), m)
		if err != nil {
			t.Fatal(err)
		}
		if counts[forcesync.StateSynced] != rows || len(counts) != 1 {
			t.Fatalf("%s: store states %v, want %d synced", m, counts, rows)
		}
		if n, err := st.Backlog(context.Background(), m); err != nil || n != 0 {
			t.Fatalf("%s: backlog %d %v, want 0", m, n, err)
		}
	}
	// No job is still running: a killed push's job finished on its own (the
	// upload was closed) or its rows were pushed again by the next life.
	for _, j := range ingestJobs(t, client) {
		if j.State == "UploadComplete" || j.State == "InProgress" {
			t.Errorf("Bulk job %s left %s", j.ID, j.State)
		}
	}
	// Nor open: the next push aborts the jobs a killed push left in the
	// ledger before it sends anything.
	for _, j := range ingestJobs(t, client) {
		if j.State == "Open" {
			t.Errorf("Bulk job %s left Open", j.ID)
		}
	}
	logText, _ := os.ReadFile(logPath)
	t.Logf("stats %v; %d Bulk jobs of killed pushes settled by the next push", emu.Stats(),
		strings.Count(string(logText), "Bulk job left by a stopped push"))
}

type jobRef struct {
	ID    string `json:"id"`
	State string `json:"state"`
}

func ingestJobs(t *testing.T, c *salesforce.Client) []jobRef {
	t.Helper()
	resp, err := c.Do(context.Background(), salesforce.KindBulk, "GET", c.DataPath("/jobs/ingest"), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var list struct {
		Records []jobRef `json:"records"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		t.Fatal(err)
	}
	return list.Records
}
