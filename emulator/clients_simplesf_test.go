package emulator

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// simple-salesforce (Python) drives Bulk API 2.0 with requests of its own
// shape (simple_salesforce/bulk2.py): every call carries Content-Type,
// an upper-case ACCEPT and X-PrettyPrint: 1; a query job is created with
// ACCEPT text/csv yet its answer is parsed as JSON; an upload counts as
// done only on exactly 201; upsert defaults externalIdFieldName to Id; and
// results are paged with maxRecords on every call, the locator echoed
// until Sforce-Locator says "null", each page's count read with
// int(Sforce-NumberOfRecords). This replays those requests.
func TestSimpleSalesforceBulk2Requests(t *testing.T) {
	b := newBulkEnv(t, bulkTestConfig())
	send := func(method, path, ctype, accept, body string) (int, http.Header, []byte) {
		t.Helper()
		req, err := http.NewRequest(method, b.srv.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header["Content-Type"] = []string{ctype}
		req.Header["ACCEPT"] = []string{accept}
		req.Header.Set("Authorization", "Bearer "+b.token)
		req.Header.Set("X-PrettyPrint", "1")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, out
	}
	asJSON := func(st int, _ http.Header, out []byte) map[string]any {
		t.Helper()
		var m map[string]any
		if st != 200 || json.Unmarshal(out, &m) != nil {
			t.Fatalf("want 200 and a JSON object, got %d %s", st, out)
		}
		return m
	}
	poll := func(kind, id string) map[string]any {
		t.Helper()
		b.waitJob(kind, id)
		return asJSON(send("GET", b.jobsPath(kind)+"/"+id, "application/json", "application/json", ""))
	}

	// Ingest: upsert by Id with an empty Id column, as _convert_dict_to_csv
	// writes new records.
	job := asJSON(send("POST", b.jobsPath("ingest"), "application/json", "application/json",
		`{"operation":"upsert","columnDelimiter":"COMMA","lineEnding":"LF","externalIdFieldName":"Id","object":"Account","contentType":"CSV"}`))
	if job["state"] != "Open" {
		t.Fatalf("job state %v", job["state"])
	}
	id := job["id"].(string)
	var csv strings.Builder
	csv.WriteString("Name,Id\n")
	for i := range 5 {
		fmt.Fprintf(&csv, "Py %d,\n", i)
	}
	if st, _, out := send("PUT", b.jobsPath("ingest")+"/"+id+"/batches", "text/csv", "application/json", csv.String()); st != 201 {
		t.Fatalf("upload: %d %s (simple-salesforce needs exactly 201)", st, out)
	}
	asJSON(send("PATCH", b.jobsPath("ingest")+"/"+id, "application/json", "application/json", `{"state":"UploadComplete"}`))
	info := poll("ingest", id)
	if info["state"] != "JobComplete" || num(info["numberRecordsProcessed"]) != 5 || num(info["numberRecordsFailed"]) != 0 {
		t.Fatalf("ingest job %v", info)
	}

	// Query: created with ACCEPT text/csv, answered in JSON.
	job = asJSON(send("POST", b.jobsPath("query"), "application/json", "text/csv",
		`{"operation":"query","columnDelimiter":"COMMA","lineEnding":"LF","query":"SELECT Id, Name FROM Account"}`))
	qid := job["id"].(string)
	if info := poll("query", qid); info["state"] != "JobComplete" {
		t.Fatalf("query job %v", info)
	}
	locator, total, pages := "", 0, 0
	for {
		path := b.jobsPath("query") + "/" + qid + "/results?maxRecords=2"
		if locator != "" {
			path += "&locator=" + locator
		}
		st, h, out := send("GET", path, "application/json", "text/csv", "")
		n, err := strconv.Atoi(h.Get("Sforce-NumberOfRecords"))
		if st != 200 || err != nil {
			t.Fatalf("results page %d: %d %q %s", pages, st, h.Get("Sforce-NumberOfRecords"), out)
		}
		if lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n"); lines[0] != `"Id","Name"` || len(lines) != n+1 {
			t.Fatalf("page %d: %d records announced, body %q", pages, n, out)
		}
		total += n
		pages++
		locator = h.Get("Sforce-Locator")
		if locator == "null" || locator == "" || pages > 5 {
			break
		}
	}
	if total != 5 || pages != 3 || locator != "null" {
		t.Fatalf("paged %d records in %d pages, last locator %q", total, pages, locator)
	}
}
