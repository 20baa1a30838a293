package emulator

import (
	"encoding/json"
	"strings"
	"testing"
)

type jobListResp struct {
	Done           bool             `json:"done"`
	Records        []map[string]any `json:"records"`
	NextRecordsURL *string          `json:"nextRecordsUrl"`
}

func (b *bulkEnv) listJobsAt(path string) (int, jobListResp, string) {
	b.t.Helper()
	st, _, out := b.do("GET", path, "", nil)
	var l jobListResp
	if st == 200 {
		if err := json.Unmarshal(out, &l); err != nil {
			b.t.Fatalf("%s: %v", out, err)
		}
	}
	return st, l, string(out)
}

func listedIDs(l jobListResp) []string {
	var ids []string
	for _, r := range l.Records {
		ids = append(ids, r["id"].(string)+":"+r["jobType"].(string))
	}
	return ids
}

// GET /jobs/ingest and /jobs/query list Bulk API 1.0 jobs too (jobType
// Classic) beside the Bulk 2.0 jobs of their kind, and filter by jobType,
// isPkChunkingEnabled and concurrencyMode.
func TestBulkListJobsIncludesClassic(t *testing.T) {
	b := newBulkEnv(t, bulkTestConfig())
	v2 := b.createJob("ingest", map[string]any{"object": "Account", "operation": "insert"})["id"].(string)
	st, out := b.v1do("POST", "job", "application/json", `{"operation":"insert","object":"Contact","contentType":"JSON"}`)
	if st != 201 {
		t.Fatalf("create classic job: %d %s", st, out)
	}
	var v1 map[string]any
	_ = json.Unmarshal(out, &v1)
	classic := v1["id"].(string)
	q := b.createJob("query", map[string]any{"operation": "query", "query": "SELECT Id FROM Account"})["id"].(string)

	for path, want := range map[string]string{
		b.jobsPath("ingest"):                                v2 + ":V2Ingest " + classic + ":Classic",
		b.jobsPath("ingest") + "?jobType=Classic":           classic + ":Classic",
		b.jobsPath("ingest") + "?jobType=V2Ingest":          v2 + ":V2Ingest",
		b.jobsPath("ingest") + "?concurrencyMode=parallel":  v2 + ":V2Ingest " + classic + ":Classic",
		b.jobsPath("ingest") + "?concurrencyMode=Serial":    "",
		b.jobsPath("ingest") + "?isPkChunkingEnabled=true":  "",
		b.jobsPath("ingest") + "?isPkChunkingEnabled=false": v2 + ":V2Ingest " + classic + ":Classic",
		b.jobsPath("query"):                                 classic + ":Classic " + q + ":V2Query",
		b.jobsPath("query") + "?jobType=V2Query":            q + ":V2Query",
	} {
		st, l, body := b.listJobsAt(path)
		if st != 200 || !l.Done || l.NextRecordsURL != nil || strings.Join(listedIDs(l), " ") != want {
			t.Errorf("%s: %d %s, want %q", path, st, body, want)
		}
	}
	_, l, body := b.listJobsAt(b.jobsPath("ingest") + "?jobType=Classic")
	rec := l.Records[0]
	if rec["operation"] != "insert" || rec["object"] != "Contact" || rec["state"] != "Open" || rec["contentType"] != "JSON" ||
		rec["apiVersion"] != 62.0 || rec["createdById"] != b.e.org.adminID || rec["createdDate"] == nil {
		t.Errorf("classic job entry: %s", body)
	}
	for _, bad := range []string{"?jobType=Bulk", "?isPkChunkingEnabled=maybe", "?concurrencyMode=fast", "?queryLocator=nope"} {
		if st, _, _ := b.listJobsAt(b.jobsPath("ingest") + bad); st != 400 {
			t.Errorf("%s: %d, want 400", bad, st)
		}
	}
}

// More than 1,000 jobs page through nextRecordsUrl, which keeps the
// filter; following it visits every job once.
func TestBulkListJobsPaging(t *testing.T) {
	if testing.Short() {
		t.Skip("creates 1,001 jobs")
	}
	b := newBulkEnv(t, bulkTestConfig())
	for range jobListPage {
		b.createJob("ingest", map[string]any{"object": "Account", "operation": "insert"})
	}
	st, out := b.v1do("POST", "job", "application/json", `{"operation":"insert","object":"Account","contentType":"CSV"}`)
	if st != 201 {
		t.Fatalf("create classic job: %d %s", st, out)
	}
	seen := map[string]bool{}
	path, pages := b.jobsPath("ingest"), 0
	for {
		st, l, body := b.listJobsAt(path)
		if st != 200 {
			t.Fatalf("%s: %d %s", path, st, body)
		}
		pages++
		for _, r := range l.Records {
			if seen[r["id"].(string)] {
				t.Fatalf("job %s listed twice", r["id"])
			}
			seen[r["id"].(string)] = true
		}
		if l.Done {
			if l.NextRecordsURL != nil {
				t.Fatalf("last page with nextRecordsUrl %q", *l.NextRecordsURL)
			}
			break
		}
		if len(l.Records) != jobListPage || l.NextRecordsURL == nil ||
			!strings.HasPrefix(*l.NextRecordsURL, b.jobsPath("ingest")+"?queryLocator=") {
			t.Fatalf("first page: %d records, next %v", len(l.Records), l.NextRecordsURL)
		}
		path = *l.NextRecordsURL
	}
	if pages != 2 || len(seen) != jobListPage+1 {
		t.Fatalf("%d pages, %d jobs", pages, len(seen))
	}
	// The filter rides along in nextRecordsUrl.
	_, l, _ := b.listJobsAt(b.jobsPath("ingest") + "?concurrencyMode=Parallel")
	if l.Done || l.NextRecordsURL == nil || !strings.Contains(*l.NextRecordsURL, "concurrencyMode=Parallel&queryLocator=") {
		t.Fatalf("filtered first page: next %v", l.NextRecordsURL)
	}
	if _, l, _ = b.listJobsAt(*l.NextRecordsURL); !l.Done || len(l.Records) != 1 || l.Records[0]["jobType"] != "Classic" {
		t.Fatalf("filtered second page: %v", l.Records)
	}
}
