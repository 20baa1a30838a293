package main

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/emulator"
	"github.com/forcesync/forcesync/ingest"
	"github.com/forcesync/forcesync/salesforce"
)

// pushSourceHead is the start of the push tests' configs: the store, the
// emulator's connection and source client, keyed by client_id.
const pushSourceHead = `
store:
  sqlite: fs.db
` + emulatorConnection + `
sources:
  - name: client
    key: client_id
mappings:
`

const pushConfig = pushSourceHead + `  - name: clients_to_leads
    source: client
    object: Lead
    match:
      external_id: Forcesync_Key__c
    fields:
      - target: LastName
        source: last_name
        default: Undefined
      - target: Company
        value: Broker Clients
        on: create
      - target: Email
        source: email
`

type pushRig struct {
	t      *testing.T
	dir    string
	config string
	client *salesforce.Client
	vars   map[string]string
	emu    *emulator.Emulator
}

func newPushRig(t *testing.T) *pushRig {
	t.Helper()
	emu, sfURL := startEmulator(t, emulator.Config{})
	dir := t.TempDir()
	path := filepath.Join(dir, "forcesync.yaml")
	if err := os.WriteFile(path, []byte(fmt.Sprintf(pushConfig, sfURL)), 0o600); err != nil {
		t.Fatal(err)
	}
	return &pushRig{t: t, dir: dir, config: path, client: emuClient(t, sfURL), emu: emu,
		vars: map[string]string{"TEST_SF_SECRET": "forcesync-demo-secret", "TEST_SF_PASSWORD": "forcesync"}}
}

func (r *pushRig) push(ctx context.Context, args ...string) (string, string, error) {
	var out, errOut lockedBuffer
	all := append([]string{"push", "--config", r.config, "--source", "client"}, args...)
	err := run(ctx, all, func(k string) string { return r.vars[k] }, strings.NewReader(""), &out, &errOut)
	return out.String(), errOut.String(), err
}

// leadsByKey returns how many Leads Salesforce holds per External ID.
func (r *pushRig) leadsByKey() map[string]int {
	r.t.Helper()
	recs, err := r.client.QueryRecords(context.Background(), "SELECT Id, Forcesync_Key__c, LastName FROM Lead")
	if err != nil {
		r.t.Fatal(err)
	}
	out := map[string]int{}
	for _, rec := range recs {
		k, _ := rec["Forcesync_Key__c"].(string)
		out[k]++
	}
	return out
}

func writeCSV(t *testing.T, path string, rows int) {
	t.Helper()
	var b strings.Builder
	b.WriteString("client_id,last_name,email\n")
	for i := 1; i <= rows; i++ {
		fmt.Fprintf(&b, "k%d,Last%d,k%d@example.com\n", i, i, i)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestPushCSVWithBadRowsAndFailures(t *testing.T) {
	r := newPushRig(t)
	data := filepath.Join(r.dir, "clients.csv")
	content := "client_id,last_name,email\n" +
		"a1,Ada,ada@example.com\n" +
		"a2,,noname@example.com\n" + // default Undefined
		"a3,Bad,not-an-email\n" + // held locally
		"a4,Too,many,columns\n" + // bad row, line 5
		",Nokey,nokey@example.com\n" + // bad row, line 6
		"a5,\"Quoted, Name\",q@example.com\n" +
		"a6,Bad\"Quote,bq@example.com\n" + // bad row, line 8
		"a7,Last,last@example.com" // no final newline
	if err := os.WriteFile(data, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, err := r.push(context.Background(), "--file", data)
	if err == nil || forcesync.ErrorCode(err) != forcesync.EInvalid || exitCode(err) != exitInvalid ||
		err.Error() != "3 bad rows not read (listed above) and 1 records refused, by Salesforce or by forcesync's checks before a call (held: see the failures file)" {
		t.Fatalf("push: %v (want exit 3 naming the bad rows and the held record)\n%s\n%s", err, out, errOut)
	}
	for _, want := range []string{"clients.csv:5: skipped row: 4 columns, the header has 3", "clients.csv:6: skipped row: empty key column", `clients.csv:8: skipped row: bare " in non-quoted-field`} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	if !strings.Contains(out, "Accepted 5 rows; 3 bad rows") || !strings.Contains(out, "created 4") {
		t.Errorf("summary:\n%s", out)
	}
	got := r.leadsByKey()
	if len(got) != 4 || got["a1"] != 1 || got["a2"] != 1 || got["a5"] != 1 || got["a7"] != 1 {
		t.Fatalf("leads %v", got)
	}
	f, err := os.Open(data + ".failures.csv")
	if err != nil {
		t.Fatalf("no failures file: %v\n%s", err, out)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil || len(recs) != 2 || recs[1][0] != "a3" || recs[1][2] != "held" || recs[1][3] != "INVALID_EMAIL_ADDRESS" {
		t.Fatalf("failures %v %v", recs, err)
	}
	if _, err := os.Stat(ingest.CheckpointPath(data)); !os.IsNotExist(err) {
		t.Fatalf("checkpoint left after a complete push: %v", err)
	}
}

func TestPushNDJSONBothShapes(t *testing.T) {
	r := newPushRig(t)
	data := filepath.Join(r.dir, "clients.jsonl")
	content := `{"key":"n1","op":"upsert","version":3,"fields":{"last_name":"One","email":"one@example.com"}}
{"client_id":"n2","last_name":"Two","email":"two@example.com"}
{"client_id":42,"last_name":"Numeric"}

not json
{"key":"n3","op":"explode","fields":{}}
{"last_name":"Keyless"}
`
	if err := os.WriteFile(data, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, err := r.push(context.Background(), "--file", data)
	if forcesync.ErrorCode(err) != forcesync.EInvalid { // its bad rows
		t.Fatalf("push: %v (want EInvalid for the bad rows)\n%s\n%s", err, out, errOut)
	}
	for _, want := range []string{"clients.jsonl:5: skipped row: not a JSON object", `clients.jsonl:6: skipped row: op: "explode" is not one of upsert, delete, disable`, `clients.jsonl:7: skipped row: empty or missing key "client_id"`} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	got := r.leadsByKey()
	if len(got) != 3 || got["n1"] != 1 || got["n2"] != 1 || got["42"] != 1 {
		t.Fatalf("leads %v\n%s", got, out)
	}
}

func TestPushResumesAfterInterruption(t *testing.T) {
	r := newPushRig(t)
	data := filepath.Join(r.dir, "clients.csv")
	writeCSV(t, data, 1500)

	ctx, cancel := context.WithCancel(context.Background())
	pushChunkHook = func(rows int64) {
		if rows >= 300 {
			cancel()
		}
	}
	t.Cleanup(func() { pushChunkHook = nil })
	// Jobs of 300 rows: the progress file moves past a job's rows once
	// Salesforce answered them.
	out, errOut, err := r.push(ctx, "--file", data, "--chunk", "100", "--job-rows", "300")
	if err == nil || !strings.Contains(err.Error(), "run the same command again to resume") {
		t.Fatalf("interrupted push: %v\n%s\n%s", err, out, errOut)
	}
	b, err := os.ReadFile(ingest.CheckpointPath(data))
	if err != nil || !strings.Contains(string(b), `"rows_accepted": 300`) {
		t.Fatalf("checkpoint %q %v", b, err)
	}
	if n := len(r.leadsByKey()); n >= 1500 {
		t.Fatalf("the interrupted run pushed everything (%d); the test proves nothing", n)
	}

	pushChunkHook = nil
	out, errOut, err = r.push(context.Background(), "--file", data, "--chunk", "100", "--progress-every", "1ns")
	if err != nil {
		t.Fatalf("resumed push: %v\n%s\n%s", err, out, errOut)
	}
	if !strings.Contains(out, "Resuming: 300 rows") || !strings.Contains(out, "Accepted 1200 rows") {
		t.Fatalf("resume summary:\n%s", out)
	}
	// Not a terminal: plain progress lines, no bar escape codes.
	if !strings.Contains(out, "pushed ") || !strings.Contains(out, "records/s") || strings.Contains(out, "\x1b") || strings.Contains(out, "\r") {
		t.Fatalf("progress output:\n%s", out)
	}
	got := r.leadsByKey()
	if len(got) != 1500 {
		t.Fatalf("%d distinct leads, want 1500", len(got))
	}
	for k, n := range got {
		if n != 1 {
			t.Fatalf("lead %s present %d times", k, n)
		}
	}
	if !strings.Contains(out, "synced 1500") {
		fb, _ := os.ReadFile(data + ".failures.csv")
		t.Fatalf("mapping counts:\n%s\nfailures:\n%.2000s", out[max(len(out)-600, 0):], fb)
	}

	// --restart pushes the whole file again: accepted, but no API call for
	// unchanged records and no duplicates.
	out, _, err = r.push(context.Background(), "--file", data, "--restart")
	if err != nil || !strings.Contains(out, "Accepted 0 rows; 0 bad rows; 1500 unchanged rows not written") || !strings.Contains(out, " 0 API calls") {
		t.Fatalf("restart: %v\n%s", err, out)
	}
	if got := r.leadsByKey(); len(got) != 1500 {
		t.Fatalf("after restart %d leads", len(got))
	}

	// One row in ten changed: only those are written and pushed.
	var sb strings.Builder
	sb.WriteString("client_id,last_name,email\n")
	for i := 1; i <= 1500; i++ {
		last := fmt.Sprintf("Last%d", i)
		if i%10 == 0 {
			last = fmt.Sprintf("Changed%d", i)
		}
		fmt.Fprintf(&sb, "k%d,%s,k%d@example.com\n", i, last, i)
	}
	if err := os.WriteFile(data, []byte(sb.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	out, _, err = r.push(context.Background(), "--file", data)
	if err != nil || !strings.Contains(out, "Accepted 150 rows; 0 bad rows; 1350 unchanged rows not written") || !strings.Contains(out, "updated 150") {
		t.Fatalf("10%% changed: %v\n%s", err, out)
	}
	recs, err := r.client.QueryRecords(context.Background(), "SELECT Forcesync_Key__c, LastName FROM Lead WHERE LastName LIKE 'Changed%'")
	if err != nil || len(recs) != 150 {
		t.Fatalf("changed leads in Salesforce: %d, %v", len(recs), err)
	}
}

func TestPushRefusesBadUsage(t *testing.T) {
	r := newPushRig(t)
	for _, args := range [][]string{
		{"--file", "x.txt"},
		{"--file", "x.csv", "--format", "xml"},
		{"--file", "x.csv", "--progress-every", "0s"},
		{"--file", "x.csv", "--progress-every", "-1s"},
		{},
	} {
		_, _, err := r.push(context.Background(), args...)
		if exitCode(err) != 2 {
			t.Errorf("%v: want a usage error, got %v", args, err)
		}
	}
	var out lockedBuffer
	err := run(context.Background(), []string{"push", "--config", r.config, "--source", "nope", "--file", filepath.Join(r.dir, "a.csv")},
		func(k string) string { return r.vars[k] }, strings.NewReader(""), &out, io.Discard)
	if err == nil || !strings.Contains(err.Error(), `source "nope"`) {
		t.Fatalf("unknown source: %v", err)
	}
}

// TestPushExitCodes checks that a script can tell from push's exit code
// how the push went: rows that did not make it are not an exit 0.
func TestPushExitCodes(t *testing.T) {
	r := newPushRig(t)
	write := func(name, content string) string {
		path := filepath.Join(r.dir, name)
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	for _, c := range []struct {
		name, file string
		want       int
		says       string
	}{
		{"missing file", filepath.Join(r.dir, "gone.csv"), exitNotFound, "gone.csv does not exist"},
		{"empty file", write("empty.csv", ""), exitInvalid, "the file is empty"},
		{"empty NDJSON file", write("empty.ndjson", ""), exitInvalid, "the file is empty"},
		{"no key column", write("nokey.csv", "last_name,email\nAda,ada@example.com\n"), exitInvalid, `no "client_id" column`},
		{"broken header", write("header.csv", "client_id,\"last_name\n"), exitInvalid, "the header row (line 1) is not valid CSV"},
		{"all good", write("good.csv", "client_id,last_name,email\ng1,Ada,ada@example.com\ng2,Bob,bob@example.com\n"), exitOK, ""},
	} {
		out, errOut, err := r.push(context.Background(), "--file", c.file)
		if exitCode(err) != c.want || c.says != "" && (err == nil || !strings.Contains(err.Error(), c.says)) {
			t.Errorf("%s: exit %d (%v), want %d saying %q\n%s\n%s", c.name, exitCode(err), err, c.want, c.says, out, errOut)
		}
		if c.want == exitNotFound && out != "" {
			t.Errorf("%s: printed %q; a missing file announces no push", c.name, out)
		}
	}

	// A source no mapping reads is the config's mistake, not a bug.
	cfg, err := os.ReadFile(r.config)
	if err != nil {
		t.Fatal(err)
	}
	unread := write("unread.yaml", strings.Replace(string(cfg), "mappings:\n", "  - name: unread\n    key: id\nmappings:\n", 1))
	err = run(context.Background(), []string{"push", "--config", unread, "--source", "unread", "--file", filepath.Join(r.dir, "good.csv")},
		func(k string) string { return r.vars[k] }, strings.NewReader(""), io.Discard, io.Discard)
	if exitCode(err) != exitInvalid || err == nil || !strings.Contains(err.Error(), `no mapping reads source "unread"`) {
		t.Errorf("a source no mapping reads: exit %d (%v), want %d", exitCode(err), err, exitInvalid)
	}

	// Salesforce locks every row: the records are left retrying, for serve
	// or the next push, and the exit code says to try again later.
	if _, err := r.emu.AddFault(emulator.Fault{Type: emulator.FaultLockRow, Method: "PATCH", Path: "/services/data/*/composite/sobjects/**"}); err != nil {
		t.Fatal(err)
	}
	out, errOut, err := r.push(context.Background(), "--file", write("locked.csv", "client_id,last_name,email\nl1,Lin,lin@example.com\nl2,Lee,lee@example.com\n"))
	if exitCode(err) != exitUnavailable || !strings.Contains(out, "retrying 2;") {
		t.Fatalf("locked rows: exit %d (%v), want %d with 2 retrying\n%s\n%s", exitCode(err), err, exitUnavailable, out, errOut)
	}
}

// TestPushOpensNoDoors: a push builds no HTTP door (openDoors: console,
// SCIM, REST API) and listens nowhere. The config names a free loopback
// port as server.listen: nothing answers there while the push accepts its
// chunks nor after it, and serve, given the same config, builds the doors
// and listens there (so the probes can see a door).
func TestPushOpensNoDoors(t *testing.T) {
	r := newPushRig(t)
	var built atomic.Int32
	doorsHook = func() { built.Add(1) }
	t.Cleanup(func() { doorsHook = nil })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cfg, err := os.ReadFile(r.config)
	if err != nil {
		t.Fatal(err)
	}
	cfg = append([]byte("server:\n  listen: "+addr+"\n"), cfg...)
	if err := os.WriteFile(r.config, cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	listening := func() bool {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			return false
		}
		c.Close()
		return true
	}
	data := filepath.Join(r.dir, "clients.csv")
	writeCSV(t, data, 300)
	var probes, heard atomic.Int32
	pushChunkHook = func(int64) {
		probes.Add(1)
		if listening() {
			heard.Add(1)
		}
	}
	t.Cleanup(func() { pushChunkHook = nil })
	out, errOut, err := r.push(context.Background(), "--file", data, "--chunk", "100")
	if err != nil {
		t.Fatalf("push: %v\n%s\n%s", err, out, errOut)
	}
	if probes.Load() == 0 || heard.Load() != 0 {
		t.Fatalf("%d of %d probes during the push found %s listening", heard.Load(), probes.Load(), addr)
	}
	if listening() {
		t.Fatalf("%s listens after the push", addr)
	}
	if n := built.Load(); n != 0 {
		t.Fatalf("the push built the HTTP doors (openDoors called %d times)", n)
	}

	ctx, cancel := context.WithCancel(context.Background())
	env := &Env{Getenv: func(k string) string { return r.vars[k] }, Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: io.Discard}
	ready, done := make(chan string, 1), make(chan error, 1)
	go func() { done <- runServe(ctx, env, serveFlags{config: r.config}, func(a string) { ready <- a }) }()
	select {
	case a := <-ready:
		if a != addr || !listening() {
			t.Errorf("serve listens on %s, want %s", a, addr)
		}
	case err := <-done:
		t.Fatalf("serve: %v", err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
	if n := built.Load(); n != 1 {
		t.Fatalf("serve called openDoors %d times, want 1", n)
	}
}

// TestPushNamesUnreadColumns: a column no mapping of the source reads (a
// misspelt header) is named before the push, once, whatever the number of
// rows; the columns the mapping reads are not.
func TestPushNamesUnreadColumns(t *testing.T) {
	r := newPushRig(t)
	data := filepath.Join(r.dir, "clients.csv")
	if err := os.WriteFile(data, []byte("client_id,last_name,emial,phone\na1,Ada,ada@example.com,1\na2,Bob,bob@example.com,2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, err := r.push(context.Background(), "--file", data)
	if err != nil {
		t.Fatalf("push: %v\n%s\n%s", err, out, errOut)
	}
	want := `Columns "emial", "phone" are read by no mapping of source client: their values are stored, not sent to Salesforce.`
	if strings.Count(out, want) != 1 || strings.Contains(out, `"last_name"`) || strings.Contains(out, `"client_id"`) {
		t.Fatalf("output, want the unread columns named once:\n%s", out)
	}
}

// TestPushKeepsCRLFInQuotedValues: a multi-line value in a CSV file saved
// by Excel or on Windows ("\r\n" inside the quotes, "\r\n" row ends)
// reaches Salesforce byte for byte, through sObject Collections and
// through Bulk API 2.0 alike, and the rows' own ends leave no "\r" behind.
func TestPushKeepsCRLFInQuotedValues(t *testing.T) {
	for _, tc := range []struct{ name, engine string }{
		{"collections", ""},
		{"bulk", "engine:\n  bulk_threshold: 1\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			emu, sfURL := startEmulator(t, emulator.Config{})
			dir := t.TempDir()
			config := filepath.Join(dir, "forcesync.yaml")
			cfg := fmt.Sprintf(pushSourceHead, sfURL) + `  - name: clients_to_leads
    source: client
    object: Lead
    match:
      external_id: Forcesync_Key__c
    fields:
      - target: LastName
        source: last_name
      - target: Company
        value: Broker Clients
        on: create
      - target: Description
        source: notes
` + tc.engine
			if err := os.WriteFile(config, []byte(cfg), 0o600); err != nil {
				t.Fatal(err)
			}
			data := filepath.Join(dir, "clients.csv")
			content := "client_id,last_name,notes\r\n" +
				"c1,Ada,\"line1\r\nline2\"\r\n" +
				"c2,Bob,\"one\ntwo\"\r\n" +
				"c3,Cy,plain\r\n"
			if err := os.WriteFile(data, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
			var out, errOut lockedBuffer
			vars := map[string]string{"TEST_SF_SECRET": "forcesync-demo-secret", "TEST_SF_PASSWORD": "forcesync"}
			err := run(context.Background(), []string{"push", "--config", config, "--source", "client", "--file", data},
				func(k string) string { return vars[k] }, strings.NewReader(""), &out, &errOut)
			if err != nil {
				t.Fatalf("push: %v\n%s\n%s", err, out.String(), errOut.String())
			}
			if tc.engine != "" && emu.Stats()[emulator.KindBulk] == 0 {
				t.Fatalf("bulk_threshold 1 made no Bulk call\n%s", out.String())
			}
			recs, err := emuClient(t, sfURL).QueryRecords(context.Background(), "SELECT Forcesync_Key__c, LastName, Description FROM Lead")
			if err != nil {
				t.Fatal(err)
			}
			want := map[string][2]string{"c1": {"Ada", "line1\r\nline2"}, "c2": {"Bob", "one\ntwo"}, "c3": {"Cy", "plain"}}
			if len(recs) != len(want) {
				t.Fatalf("%d leads, want %d: %v", len(recs), len(want), recs)
			}
			for _, rec := range recs {
				k, _ := rec["Forcesync_Key__c"].(string)
				if w := want[k]; rec["LastName"] != w[0] || rec["Description"] != w[1] {
					t.Errorf("lead %s: LastName %q Description %q, want %q %q", k, rec["LastName"], rec["Description"], w[0], w[1])
				}
			}
		})
	}
}
