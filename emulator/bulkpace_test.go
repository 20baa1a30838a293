package emulator

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func leadsCSV(n int) string {
	var b strings.Builder
	b.WriteString("LastName,Company\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "Paced%d,Slow Co\n", i)
	}
	return b.String()
}

// openIngest creates an insert job of Leads with data uploaded, still Open.
func (b *bulkEnv) openIngest(n int) string {
	b.t.Helper()
	id := b.createJob("ingest", map[string]any{"object": "Lead", "operation": "insert"})["id"].(string)
	b.upload(id, leadsCSV(n))
	return id
}

// Issue 14 item 3: a paced job is seen InProgress with a growing count,
// several jobs run at once, and the pace comes from config or admin API.
func TestBulkPacedJobsRunConcurrently(t *testing.T) {
	b := newBulkEnv(t, Config{BulkRecordsPerSecond: 200, BulkStartDelay: 20 * time.Millisecond})
	ids := []string{b.openIngest(100), b.openIngest(100)}
	for _, id := range ids {
		if st, ji := b.patchState("ingest", id, "UploadComplete"); st != 200 || ji["state"] != "UploadComplete" {
			t.Fatalf("close: %d %v", st, ji)
		}
	}
	// Poll until both are InProgress at the same time, and one is seen
	// part way through.
	deadline := time.Now().Add(10 * time.Second)
	both, partial := false, false
	for !(both && partial) {
		if time.Now().After(deadline) {
			t.Fatalf("never saw both jobs InProgress (%v) with a partial count (%v)", both, partial)
		}
		a, c := b.getJob("ingest", ids[0]), b.getJob("ingest", ids[1])
		if a["state"] == "InProgress" && c["state"] == "InProgress" {
			both = true
		}
		for _, ji := range []map[string]any{a, c} {
			if n := num(ji["numberRecordsProcessed"]); ji["state"] == "InProgress" && n > 0 && n < 100 {
				partial = true
			}
		}
		if jobFinal(a["state"].(string)) && jobFinal(c["state"].(string)) {
			break
		}
		time.Sleep(2 * time.Millisecond) // poll interval
	}
	if !both || !partial {
		t.Fatalf("jobs finished before being seen in progress together (both %v, partial %v)", both, partial)
	}
	for _, id := range ids {
		if ji := b.waitJob("ingest", id); ji["state"] != "JobComplete" || num(ji["numberRecordsProcessed"]) != 100 {
			t.Fatalf("job %s: %v", id, ji)
		}
	}
}

func TestBulkPaceAdminAndFinishAtOnce(t *testing.T) {
	b := newBulkEnv(t, bulkTestConfig())
	st, _, out := b.do("POST", "/__emulator/bulk/pace", "application/json", strings.NewReader(`{"records_per_second":50,"start_delay":"10ms"}`))
	if st != 200 || !strings.Contains(string(out), `"records_per_second":50`) {
		t.Fatalf("set pace: %d %s", st, out)
	}
	if st, _, out := b.do("POST", "/__emulator/bulk/pace", "application/json", strings.NewReader(`{"start_delay":"soon"}`)); st != 400 {
		t.Fatalf("bad delay: %d %s", st, out)
	}
	// A query job at 50 rows/s over 20 rows takes ~0.4s: seen InProgress.
	b.seedAccounts(20)
	id := b.createJob("query", map[string]any{"operation": "query", "query": "SELECT Id FROM Account"})["id"].(string)
	seen := false
	deadline := time.Now().Add(10 * time.Second)
	for {
		ji := b.getJob("query", id)
		if ji["state"] == "InProgress" {
			seen = true
		}
		if jobFinal(ji["state"].(string)) {
			if ji["state"] != "JobComplete" || num(ji["numberRecordsProcessed"]) != 20 {
				t.Fatalf("query job: %v", ji)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("query job never finished")
		}
		time.Sleep(2 * time.Millisecond)
	}
	if !seen {
		t.Fatal("paced query job never seen InProgress")
	}
	// The finish-at-once knob still wins over a pace: the first poll is final.
	b.e.SetFinishBulkJobsAtOnce(true)
	id = b.openIngest(30)
	b.patchState("ingest", id, "UploadComplete")
	if ji := b.getJob("ingest", id); ji["state"] != "JobComplete" || num(ji["numberRecordsProcessed"]) != 30 {
		t.Fatalf("finish at once: %v", ji)
	}
}

func TestBulkFaultFailAndStall(t *testing.T) {
	b := newBulkEnv(t, Config{})
	if _, err := b.e.AddFault(Fault{Type: FaultBulkFail, Method: "PATCH", Path: "/services/data/*/jobs/ingest/*", Count: 1,
		Message: "InternalServerError : disk on fire"}); err != nil {
		t.Fatal(err)
	}
	id := b.openIngest(5)
	b.patchState("ingest", id, "UploadComplete")
	if ji := b.waitJob("ingest", id); ji["state"] != "Failed" || ji["errorMessage"] != "InternalServerError : disk on fire" || num(ji["numberRecordsProcessed"]) != 0 {
		t.Fatalf("failed job: %v", ji)
	}
	// A stall keeps the job InProgress, also with the finish-at-once knob,
	// until the client aborts it.
	b.e.SetFinishBulkJobsAtOnce(true)
	if _, err := b.e.AddFault(Fault{Type: FaultBulkStall, Method: "PATCH", Path: "/services/data/*/jobs/ingest/*", Count: 1}); err != nil {
		t.Fatal(err)
	}
	id = b.openIngest(5)
	b.patchState("ingest", id, "UploadComplete")
	deadline := time.Now().Add(10 * time.Second)
	for b.getJob("ingest", id)["state"] != "InProgress" {
		if time.Now().After(deadline) {
			t.Fatal("stalled job never InProgress")
		}
		time.Sleep(2 * time.Millisecond)
	}
	for i := 0; i < 5; i++ {
		if ji := b.getJob("ingest", id); ji["state"] != "InProgress" || num(ji["numberRecordsProcessed"]) != 0 {
			t.Fatalf("stalled job moved: %v", ji)
		}
	}
	if st, ji := b.patchState("ingest", id, "Aborted"); st != 200 || ji["state"] != "Aborted" {
		t.Fatalf("abort: %d %v", st, ji)
	}
	// Bad fault types are refused with the list of known ones.
	if _, err := b.e.AddFault(Fault{}); err == nil || !strings.Contains(err.Error(), "bulk_stall") {
		t.Fatalf("empty fault: %v", err)
	}
}

func TestBulkPaceConfigKeys(t *testing.T) {
	cfg, err := ParseConfig("e.yaml", []byte("bulk_records_per_second: 250\nbulk_start_delay: 2s\ndaily_api_overage_percent: 10\norg_name: Acme\nsandbox: true\n"))
	if err != nil || cfg.BulkRecordsPerSecond != 250 || cfg.BulkStartDelay != 2*time.Second || cfg.DailyAPIOveragePercent != 10 || cfg.OrgName != "Acme" || !cfg.Sandbox {
		t.Fatalf("parsed %+v, %v", cfg, err)
	}
	for _, bad := range []string{"bulk_start_delay: 5\n", "bulk_start_delay: -1s\n", "bulk_records_per_second: -3\n", "bulk_records_per_second: fast\n"} {
		if _, err := ParseConfig("e.yaml", []byte(bad)); err == nil || !strings.Contains(err.Error(), "bulk_") {
			t.Errorf("%q accepted: %v", bad, err)
		}
	}
}
