package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPushStreamsBulkJobsFromTheFile: a file's changed rows go straight into
// one Bulk job (five Bulk calls: create, upload, close, poll, results) and
// are recorded without the outbox; a key twice in the file ends with its
// later row; a handful of changed rows, below the Bulk threshold, go by
// Collections through the outbox instead of a Bulk job.
func TestPushStreamsBulkJobsFromTheFile(t *testing.T) {
	r := newPushRig(t)
	data := filepath.Join(r.dir, "clients.csv")
	var b strings.Builder
	b.WriteString("client_id,last_name,email\n")
	for i := 1; i <= 3000; i++ {
		fmt.Fprintf(&b, "k%d,Last%d,k%d@example.com\n", i, i, i)
	}
	b.WriteString("k5,Twice5,k5@example.com\n") // the same key again, later in the file
	if err := os.WriteFile(data, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	r.emu.SetFinishBulkJobsAtOnce(true) // a job's first poll is final: the count is exact
	r.emu.ResetStats()
	out, errOut, err := r.push(context.Background(), "--file", data, "--chunk", "500")
	if err != nil {
		t.Fatalf("push: %v\n%s\n%s", err, out, errOut)
	}
	stats := r.emu.Stats()
	if stats["bulk"] != 5 {
		t.Fatalf("bulk calls %d, want one job's 5 (stats %v)\n%s", stats["bulk"], stats, out)
	}
	if !strings.Contains(out, "Accepted 3001 records") || !strings.Contains(out, "synced 3000") {
		t.Fatalf("summary:\n%s", out)
	}
	got := r.leadsByKey()
	if len(got) != 3000 {
		t.Fatalf("%d leads, want 3000", len(got))
	}
	for k, n := range got {
		if n != 1 {
			t.Fatalf("lead %s present %d times", k, n)
		}
	}
	recs, err := r.client.QueryRecords(context.Background(), "SELECT LastName FROM Lead WHERE Forcesync_Key__c = 'k5'")
	if err != nil || len(recs) != 1 || recs[0]["LastName"] != "Twice5" {
		t.Fatalf("k5 = %v %v, want the file's later row", recs, err)
	}

	// 20 rows changed: too few for Bulk.
	b.Reset()
	b.WriteString("client_id,last_name,email\n")
	for i := 1; i <= 3000; i++ {
		last := fmt.Sprintf("Last%d", i)
		if i == 5 {
			last = "Twice5"
		}
		if i%150 == 0 {
			last = fmt.Sprintf("Changed%d", i)
		}
		fmt.Fprintf(&b, "k%d,%s,k%d@example.com\n", i, last, i)
	}
	if err := os.WriteFile(data, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	r.emu.ResetStats()
	out, errOut, err = r.push(context.Background(), "--file", data)
	if err != nil {
		t.Fatalf("second push: %v\n%s\n%s", err, out, errOut)
	}
	stats = r.emu.Stats()
	if stats["bulk"] != 0 || stats["collections"] != 1 || !strings.Contains(out, "updated 20") ||
		!strings.Contains(out, "2980 unchanged rows not written") {
		t.Fatalf("20 changed rows: stats %v\n%s", stats, out)
	}
	recs, err = r.client.QueryRecords(context.Background(), "SELECT Forcesync_Key__c FROM Lead WHERE LastName LIKE 'Changed%'")
	if err != nil || len(recs) != 20 {
		t.Fatalf("changed leads %d %v", len(recs), err)
	}
}

// TestPushKeyAgainAfterItsJobWasRecorded: rows are compared with the store
// ahead of their turn, while an earlier job of the same push may still be
// recorded. A key sent in one job and seen again a few chunks later, after
// that job's rows were recorded, must be judged against the recorded state:
// its later row reaches Salesforce and the store, so a push of the file's
// final state (each key once, as it ends) finds every row unchanged.
func TestPushKeyAgainAfterItsJobWasRecorded(t *testing.T) {
	r := newPushRig(t)
	var file, final strings.Builder
	file.WriteString("client_id,last_name,email\n")
	final.WriteString("client_id,last_name,email\n")
	again := map[int]bool{}
	for i := 1; i <= 6000; i++ {
		fmt.Fprintf(&file, "k%d,Last%d,k%d@example.com\n", i, i, i)
		if i%500 == 250 && i > 2000 {
			// A key of the first job (rows 1-2000) again, in a later chunk.
			k := i - 2000
			again[k] = true
			fmt.Fprintf(&file, "k%d,Again%d,k%d@example.com\n", k, k, k)
		}
	}
	for i := 1; i <= 6000; i++ {
		last := fmt.Sprintf("Last%d", i)
		if again[i] {
			last = fmt.Sprintf("Again%d", i)
		}
		fmt.Fprintf(&final, "k%d,%s,k%d@example.com\n", i, last, i)
	}
	data, finalData := filepath.Join(r.dir, "clients.csv"), filepath.Join(r.dir, "final.csv")
	for p, s := range map[string]string{data: file.String(), finalData: final.String()} {
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r.emu.SetFinishBulkJobsAtOnce(true)
	out, errOut, err := r.push(context.Background(), "--file", data, "--chunk", "500", "--job-rows", "2000")
	if err != nil {
		t.Fatalf("push: %v\n%s\n%s", err, out, errOut)
	}
	if !strings.Contains(out, "synced 6000") {
		t.Fatalf("summary:\n%s", out)
	}
	recs, err := r.client.QueryRecords(context.Background(), "SELECT Forcesync_Key__c, LastName FROM Lead WHERE LastName LIKE 'Again%'")
	if err != nil || len(recs) != len(again) {
		t.Fatalf("%d leads with a later row (%v), want %d", len(recs), err, len(again))
	}
	r.emu.ResetStats()
	out, errOut, err = r.push(context.Background(), "--file", finalData, "--chunk", "500", "--job-rows", "2000")
	if err != nil {
		t.Fatalf("push of the final state: %v\n%s\n%s", err, out, errOut)
	}
	if st := r.emu.Stats(); st["bulk"] != 0 || st["collections"] != 0 || st["composite"] != 0 {
		t.Fatalf("push of the final state made calls %v\n%s", st, out)
	}
	if !strings.Contains(out, "6000 unchanged rows not written") {
		t.Fatalf("push of the final state:\n%s", out)
	}
}
