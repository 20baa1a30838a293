package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPushDryRun: push --dry-run says what the push would do, per mapping,
// with the API calls it would spend, and writes and sends nothing: no
// record reaches Salesforce, no progress file is left, and the real push
// that follows finds everything still to do and spends what was foretold.
func TestPushDryRun(t *testing.T) {
	r := newPushRig(t)
	r.emu.SetFinishBulkJobsAtOnce(true) // a job's first poll is final: the counts are exact
	data := filepath.Join(r.dir, "clients.csv")
	r.writeRows(data, "client_id,last_name,email", 2500, func(i int) string {
		return fmt.Sprintf("k%d,Last%d,k%d@example.com", i, i, i)
	})
	calls := func() int64 {
		st := r.emu.Stats()
		return st["bulk"] + st["collections"] + st["composite"] // REST holds the describes: checked by the Leads below
	}

	dry := func(file string) (string, error) {
		t.Helper()
		r.emu.ResetStats()
		out, errOut, err := r.push(context.Background(), "--file", file, "--dry-run")
		if n := calls(); n != 0 {
			t.Fatalf("the dry run made %d writing calls (stats %v)\n%s", n, r.emu.Stats(), out)
		}
		if _, serr := os.Stat(file + ".forcesync-progress"); serr == nil {
			t.Fatalf("the dry run left a progress file\n%s", out)
		}
		return out + errOut, err
	}

	// All new: one Bulk job.
	out, err := dry(data)
	if err != nil {
		t.Fatalf("dry run: %v\n%s", err, out)
	}
	for _, want := range []string{
		"Rows read: 2500; 0 bad; 0 unchanged (not written, no call); 2500 changed.",
		"Mapping clients_to_leads: send 2500 (2500 new or matched by External ID, 0 updates)",
		"About 5 API calls: 1 Bulk jobs, 0 Collections calls.",
		"k1 (clients_to_leads: new): not in the store yet",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("dry run of a new file does not say %q:\n%s", want, out)
		}
	}
	if n := r.count("SELECT Id FROM Lead"); n != 0 {
		t.Fatalf("%d Leads after a dry run, want 0", n)
	}

	// The real push does all of it, for the calls foretold.
	r.emu.ResetStats()
	if out, errOut, err := r.push(context.Background(), "--file", data); err != nil || !strings.Contains(out, "created 2500") {
		t.Fatalf("push after the dry run: %v\n%s\n%s", err, out, errOut)
	}
	if st := r.emu.Stats(); st["bulk"] != 5 {
		t.Fatalf("the push spent %v, the dry run foretold one Bulk job (5 calls)", st)
	}

	// Twenty rows changed, one bad row, one key twice: a Collections call,
	// the changes shown field by field, and exit 3 for the bad row.
	r.writeRows(data, "client_id,last_name,email", 2500, func(i int) string {
		switch {
		case i <= 20:
			return fmt.Sprintf("k%d,New%d,k%d@example.com", i, i, i)
		case i == 21:
			return "k21,Too,many,columns"
		case i == 22:
			return "k1,Again1,k1@example.com" // k1 again, changed again
		}
		return fmt.Sprintf("k%d,Last%d,k%d@example.com", i, i, i)
	})
	out, err = dry(data)
	if exitCode(err) != exitInvalid || !strings.Contains(err.Error(), "1 bad rows") {
		t.Fatalf("dry run with a bad row: exit %d (%v), want %d\n%s", exitCode(err), err, exitInvalid, out)
	}
	for _, want := range []string{
		"Rows read: 2500; 1 bad; 2478 unchanged (not written, no call); 21 changed (1 of them repeat a key changed earlier in the file).",
		"send 20 (0 new or matched by External ID, 20 updates); 0 recorded without a call (0 same payload, 0 out of the filter); 1 left to the engine.",
		"About 1 API calls: 0 Bulk jobs, 1 Collections calls.",
		`k1 (clients_to_leads: update): last_name: "Last1" -> "New1"`,
		"clients.csv:22: skipped row", // the bad row, listed as a push lists it
	} {
		if !strings.Contains(out, want) {
			t.Errorf("dry run of a changed file does not say %q:\n%s", want, out)
		}
	}
	if n := r.count("SELECT Id FROM Lead WHERE LastName LIKE 'New%'"); n != 0 {
		t.Fatalf("%d Leads changed by a dry run, want 0", n)
	}
	r.emu.ResetStats()
	out, errOut, err := r.push(context.Background(), "--file", data)
	if exitCode(err) != exitInvalid || !strings.Contains(out, "updated 20") {
		t.Fatalf("push of the changed file: exit %d (%v)\n%s\n%s", exitCode(err), err, out, errOut)
	}
	if st := r.emu.Stats(); st["bulk"] != 0 || st["collections"] != 1 {
		t.Fatalf("the push spent %v, the dry run foretold one Collections call", st)
	}
}

// TestUnknownNamesExit4: a source or a mapping the config does not have is
// a named thing that does not exist (exit 4, as docs/real-org.md lists),
// for push, its dry run, plan and reconcile alike.
func TestUnknownNamesExit4(t *testing.T) {
	r := newPushRig(t)
	data := filepath.Join(r.dir, "clients.csv")
	r.writeRows(data, "client_id,last_name,email", 1, func(i int) string { return "k1,Last1,k1@example.com" })
	for _, args := range [][]string{
		{"push", "--source", "nope", "--file", data},
		{"push", "--source", "nope", "--file", data, "--dry-run"},
		{"plan", "--mapping", "nope"},
		{"reconcile", "--mapping", "nope"},
	} {
		all := append(args, "--config", r.config)
		var out strings.Builder
		err := run(context.Background(), all, func(k string) string { return r.vars[k] }, strings.NewReader(""), &out, &out)
		if exitCode(err) != exitNotFound || !strings.Contains(err.Error(), `"nope"`) {
			t.Errorf("%v: exit %d (%v), want %d naming it\n%s", args, exitCode(err), err, exitNotFound, out.String())
		}
	}
}

// TestPushDryRunDeleteRow: a delete row of an NDJSON file is shown as a
// delete of the key, not as a record "not in the store yet" (the store
// holds it: the dry run compares only upserts' fields with it).
func TestPushDryRunDeleteRow(t *testing.T) {
	r := newPushRig(t)
	data := filepath.Join(r.dir, "clients.csv")
	r.writeRows(data, "client_id,last_name,email", 3, func(i int) string {
		return fmt.Sprintf("k%d,Last%d,k%d@example.com", i, i, i)
	})
	if out, errOut, err := r.push(context.Background(), "--file", data); err != nil {
		t.Fatalf("push: %v\n%s\n%s", err, out, errOut)
	}
	nd := filepath.Join(r.dir, "changes.ndjson")
	if err := os.WriteFile(nd, []byte(`{"key":"k2","op":"delete"}`+"\n"+`{"key":"k3","fields":{"client_id":"k3","last_name":"New3","email":"k3@example.com"}}`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut, err := r.push(context.Background(), "--file", nd, "--dry-run")
	if err != nil {
		t.Fatalf("dry run: %v\n%s\n%s", err, out, errOut)
	}
	for _, want := range []string{"k2 (clients_to_leads: engine): op delete", `k3 (clients_to_leads: update): last_name: "Last3" -> "New3"`} {
		if !strings.Contains(out, want) {
			t.Errorf("dry run does not say %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "k2 (clients_to_leads: engine): not in the store yet") {
		t.Errorf("dry run calls the stored k2 new:\n%s", out)
	}
}
