package emulator

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// seedAccounts inserts n Accounts named "Acct 000".. through a bulk job.
func (b *bulkEnv) seedAccounts(n int) []string {
	b.t.Helper()
	var sb strings.Builder
	sb.WriteString("Name,Ext__c,NumberOfEmployees\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&sb, "Acct %03d,Q%d,%d\n", i, i, i)
	}
	id, ji := b.runIngest(map[string]any{"object": "Account", "operation": "insert"}, sb.String())
	if num(ji["numberRecordsFailed"]) != 0 {
		b.t.Fatalf("seed %v", ji)
	}
	var ids []string
	for _, row := range b.results(id, "successfulResults", ',')[1:] {
		ids = append(ids, row[0])
	}
	return ids
}

func TestBulkQueryPaging(t *testing.T) {
	b := newBulkEnv(t, bulkTestConfig())
	ids := b.seedAccounts(25)
	ji := b.createJob("query", map[string]any{"operation": "query",
		"query": "SELECT Id, Name, NumberOfEmployees, Description FROM Account WHERE NumberOfEmployees >= 3 ORDER BY Name"})
	if ji["state"] != "UploadComplete" || ji["jobType"] != "V2Query" || ji["object"] != "Account" || ji["operation"] != "query" {
		t.Fatalf("created %v", ji)
	}
	if _, has := ji["contentUrl"]; has {
		t.Errorf("query job with contentUrl: %v", ji)
	}
	id := ji["id"].(string)
	done := b.waitJob("query", id)
	if done["state"] != "JobComplete" || num(done["numberRecordsProcessed"]) != 22 {
		t.Fatalf("job %v", done)
	}
	var all [][]string
	locator := ""
	pages := 0
	for {
		path := b.jobsPath("query") + "/" + id + "/results?maxRecords=10"
		if locator != "" {
			path += "&locator=" + url.QueryEscape(locator)
		}
		st, h, out := b.do("GET", path, "", nil)
		if st != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/csv") {
			t.Fatalf("page: %d %s", st, out)
		}
		if !strings.HasPrefix(string(out), `"Id","Name","NumberOfEmployees","Description"`+"\n") {
			t.Fatalf("page without header: %q", out)
		}
		recs, err := csv.NewReader(strings.NewReader(string(out))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if got := h.Get("Sforce-NumberOfRecords"); got != fmt.Sprint(len(recs)-1) {
			t.Errorf("Sforce-NumberOfRecords %s for %d rows", got, len(recs)-1)
		}
		all = append(all, recs[1:]...)
		pages++
		locator = h.Get("Sforce-Locator")
		if locator == "null" {
			break
		}
		if locator == "" || pages > 5 {
			t.Fatalf("locator %q after %d pages", locator, pages)
		}
	}
	if pages != 3 || len(all) != 22 {
		t.Fatalf("%d pages, %d rows", pages, len(all))
	}
	if all[0][0] != ids[3] || all[0][1] != "Acct 003" || all[0][2] != "3" || all[0][3] != "" || all[21][1] != "Acct 024" {
		t.Errorf("rows %v ... %v", all[0], all[21])
	}
	// A locator can be read again; another API version is refused with 409.
	st, h, _ := b.do("GET", b.jobsPath("query")+"/"+id+"/results?maxRecords=10", "", nil)
	if st != 200 || h.Get("Sforce-Locator") == "null" {
		t.Errorf("first page again: %d %v", st, h)
	}
	if st, _, out := b.do("GET", "/services/data/v64.0/jobs/query/"+id+"/results", "", nil); st != 409 {
		t.Errorf("other version: %d %s", st, out)
	}
	if st, _, _ := b.do("GET", b.jobsPath("query")+"/"+id+"/results?locator=%21%21", "", nil); st != 400 {
		t.Errorf("bad locator: %d", st)
	}
	if st, _, _ := b.do("GET", b.jobsPath("query")+"/"+id+"/results?maxRecords=0", "", nil); st != 400 {
		t.Errorf("maxRecords=0: %d", st)
	}
	// Without maxRecords everything fits one page.
	_, h, out := b.do("GET", b.jobsPath("query")+"/"+id+"/results", "", nil)
	if h.Get("Sforce-Locator") != "null" || h.Get("Sforce-NumberOfRecords") != "22" || strings.Count(string(out), "\n") != 23 {
		t.Errorf("single page: %v", h)
	}
	// Listed, then deleted.
	st, _, lst := b.do("GET", b.jobsPath("query"), "", nil)
	if st != 200 || !strings.Contains(string(lst), id) {
		t.Errorf("list %d %s", st, lst)
	}
	if st, _, _ := b.do("DELETE", b.jobsPath("query")+"/"+id, "", nil); st != 204 {
		t.Errorf("delete %d", st)
	}
	if st, _, _ := b.do("GET", b.jobsPath("query")+"/"+id, "", nil); st != 404 {
		t.Errorf("get deleted %d", st)
	}
}

func TestBulkQueryAllDelimiterAndParent(t *testing.T) {
	b := newBulkEnv(t, bulkTestConfig())
	ids := b.seedAccounts(3)
	b.runIngest(map[string]any{"object": "Account", "operation": "delete"}, "Id\n"+ids[0]+"\n")
	b.runIngest(map[string]any{"object": "Contact", "operation": "insert"}, "LastName,Account.Ext__c\n\"Semi;colon\",Q1\n")

	b.e.SetFinishBulkJobsAtOnce(true)
	ji := b.createJob("query", map[string]any{"operation": "queryAll", "query": "SELECT Name, IsDeleted FROM Account ORDER BY Name",
		"columnDelimiter": "SEMICOLON", "lineEnding": "CRLF"})
	_, _, out := b.do("GET", b.jobsPath("query")+"/"+ji["id"].(string)+"/results", "", nil)
	want := "\"Name\";\"IsDeleted\"\r\n\"Acct 000\";\"true\"\r\n\"Acct 001\";\"false\"\r\n\"Acct 002\";\"false\"\r\n"
	if string(out) != want {
		t.Errorf("queryAll\n got %q\nwant %q", out, want)
	}
	ji = b.createJob("query", map[string]any{"operation": "query", "query": "SELECT LastName, Account.Name FROM Contact",
		"columnDelimiter": "SEMICOLON"})
	if got := b.getJob("query", ji["id"].(string)); got["state"] != "JobComplete" {
		t.Fatalf("first poll %v", got)
	}
	_, _, out = b.do("GET", b.jobsPath("query")+"/"+ji["id"].(string)+"/results", "", nil)
	if want := "\"LastName\";\"Account.Name\"\n\"Semi;colon\";\"Acct 001\"\n"; string(out) != want {
		t.Errorf("parent columns\n got %q\nwant %q", out, want)
	}
}

func TestBulkQueryErrors(t *testing.T) {
	b := newBulkEnv(t, bulkTestConfig())
	cases := []struct {
		name, body string
		code       string
	}{
		{"malformed", `{"operation":"query","query":"SELECT FROM Account"}`, "MALFORMED_QUERY"},
		{"unknown object", `{"operation":"query","query":"SELECT Id FROM Nope__c"}`, "INVALID_TYPE"},
		{"unknown field", `{"operation":"query","query":"SELECT Nope FROM Account"}`, "INVALID_FIELD"},
		{"offset", `{"operation":"query","query":"SELECT Id FROM Account LIMIT 5 OFFSET 2"}`, "MALFORMED_QUERY"},
		{"count", `{"operation":"query","query":"SELECT COUNT() FROM Account"}`, "MALFORMED_QUERY"},
		{"group by", `{"operation":"query","query":"SELECT Name FROM Account GROUP BY Name"}`, "MALFORMED_QUERY"},
		{"parent-to-child", `{"operation":"query","query":"SELECT Name, (SELECT LastName FROM Contacts) FROM Account"}`, "MALFORMED_QUERY"},
		{"bad operation", `{"operation":"select","query":"SELECT Id FROM Account"}`, "API_ERROR"},
		{"no query", `{"operation":"query"}`, "API_ERROR"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st, _, out := b.do("POST", b.jobsPath("query"), "application/json", strings.NewReader(tc.body))
			var errs []APIError
			if err := json.Unmarshal(out, &errs); err != nil || len(errs) != 1 || st != 400 || errs[0].ErrorCode != tc.code {
				t.Errorf("%d %s", st, out)
			}
		})
	}
	if st, _, _ := b.do("POST", "/services/data/v46.0/jobs/query", "application/json",
		strings.NewReader(`{"operation":"query","query":"SELECT Id FROM Account"}`)); st != 404 {
		t.Errorf("v46.0: %d", st)
	}
	// Results of an aborted job are refused.
	ji := b.createJob("query", map[string]any{"operation": "query", "query": "SELECT Id FROM Account"})
	id := ji["id"].(string)
	st, info := b.patchState("query", id, "Aborted")
	if st == 200 {
		if info["state"] != "Aborted" {
			t.Errorf("abort %v", info)
		}
		st, _, out := b.do("GET", b.jobsPath("query")+"/"+id+"/results", "", nil)
		var errs []APIError
		_ = json.Unmarshal(out, &errs)
		if st != 412 || len(errs) != 1 || errs[0].ErrorCode != "JOB_NOT_COMPLETE" {
			t.Errorf("results of aborted job: %d %s", st, out)
		}
	} else if st != 400 {
		// The worker finished it first: aborting a complete job is refused.
		t.Errorf("abort: %d %v", st, info)
	}
	if !slices.Contains([]string{"Aborted", "JobComplete"}, b.waitJob("query", id)["state"].(string)) {
		t.Errorf("final state")
	}
}
