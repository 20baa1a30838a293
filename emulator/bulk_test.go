package emulator

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"
)

// bulkEnv is an emulator served over real HTTP with a session for its admin.
type bulkEnv struct {
	t     testing.TB
	e     *Emulator
	srv   *httptest.Server
	token string
	ver   string // "v65.0"
}

// bulkTestConfig adds an External ID field to Account and Contact.
func bulkTestConfig() Config {
	return Config{Objects: []ObjectConfig{
		{Name: "Account", Fields: []FieldConfig{{Name: "Ext__c", Type: "string", Length: 40, ExternalID: true, Unique: true}}},
		{Name: "Contact", Fields: []FieldConfig{{Name: "Ext__c", Type: "string", Length: 40, ExternalID: true}}},
	}}
}

func newBulkEnv(t testing.TB, cfg Config) *bulkEnv {
	t.Helper()
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.mu.Lock()
	if e.org.adminID == "" {
		if err := e.seedLocked(); err != nil {
			e.mu.Unlock()
			t.Fatal(err)
		}
	}
	s := e.newSessionLocked("forcesync-demo", e.org.adminID, "admin@forcesync.local", []string{"api"}, "")
	e.mu.Unlock()
	srv := httptest.NewServer(e)
	t.Cleanup(func() {
		srv.Close()
		e.closeBulk()
	})
	return &bulkEnv{t: t, e: e, srv: srv, token: s.Token, ver: "v65.0"}
}

// do sends a request and returns status, headers and body.
func (b *bulkEnv) do(method, path, ctype string, body io.Reader) (int, http.Header, []byte) {
	b.t.Helper()
	req, err := http.NewRequest(method, b.srv.URL+path, body)
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+b.token)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, out
}

func (b *bulkEnv) jobsPath(kind string) string { return "/services/data/" + b.ver + "/jobs/" + kind }

// createJob posts a job and returns its JobInfo; it fails the test unless 200.
func (b *bulkEnv) createJob(kind string, req map[string]any) map[string]any {
	b.t.Helper()
	body, _ := json.Marshal(req)
	st, _, out := b.do("POST", b.jobsPath(kind), "application/json", bytes.NewReader(body))
	if st != 200 {
		b.t.Fatalf("create %s job: %d %s", kind, st, out)
	}
	var ji map[string]any
	if err := json.Unmarshal(out, &ji); err != nil {
		b.t.Fatal(err)
	}
	return ji
}

func (b *bulkEnv) upload(id, data string) {
	b.t.Helper()
	st, _, out := b.do("PUT", b.jobsPath("ingest")+"/"+id+"/batches", "text/csv", strings.NewReader(data))
	if st != 201 || len(out) != 0 {
		b.t.Fatalf("upload: %d %q", st, out)
	}
}

func (b *bulkEnv) patchState(kind, id, state string) (int, map[string]any) {
	b.t.Helper()
	st, _, out := b.do("PATCH", b.jobsPath(kind)+"/"+id, "application/json", strings.NewReader(`{"state":"`+state+`"}`))
	var ji map[string]any
	_ = json.Unmarshal(out, &ji)
	return st, ji
}

func (b *bulkEnv) getJob(kind, id string) map[string]any {
	b.t.Helper()
	st, _, out := b.do("GET", b.jobsPath(kind)+"/"+id, "", nil)
	if st != 200 {
		b.t.Fatalf("get job: %d %s", st, out)
	}
	var ji map[string]any
	if err := json.Unmarshal(out, &ji); err != nil {
		b.t.Fatal(err)
	}
	return ji
}

// waitJob polls the job until it reaches a final state (deadline 10s).
func (b *bulkEnv) waitJob(kind, id string) map[string]any {
	b.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ji := b.getJob(kind, id)
		if jobFinal(ji["state"].(string)) {
			return ji
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("job %s still %s", id, ji["state"])
		}
		time.Sleep(time.Millisecond) // poll interval, not a wait for work
	}
}

// runIngest creates, uploads, closes and waits for an ingest job.
func (b *bulkEnv) runIngest(req map[string]any, data string) (id string, info map[string]any) {
	b.t.Helper()
	ji := b.createJob("ingest", req)
	id = ji["id"].(string)
	b.upload(id, data)
	if st, ji := b.patchState("ingest", id, "UploadComplete"); st != 200 || ji["state"] != "UploadComplete" {
		b.t.Fatalf("close: %d %v", st, ji)
	}
	return id, b.waitJob("ingest", id)
}

// results fetches a result file and parses it with the given delimiter.
func (b *bulkEnv) results(id, kind string, delim rune) [][]string {
	b.t.Helper()
	st, h, out := b.do("GET", b.jobsPath("ingest")+"/"+id+"/"+kind, "", nil)
	if st != 200 {
		b.t.Fatalf("%s: %d %s", kind, st, out)
	}
	if ct := h.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
		b.t.Fatalf("%s content type %q", kind, ct)
	}
	r := csv.NewReader(bytes.NewReader(out))
	r.Comma = delim
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil {
		b.t.Fatalf("%s: %v\n%s", kind, err, out)
	}
	return recs
}

// record reads a stored field value.
func (b *bulkEnv) field(id, name string) any {
	b.e.mu.RLock()
	defer b.e.mu.RUnlock()
	r := b.e.getRecordLocked(id)
	if r == nil {
		return "<no record>"
	}
	if r.deleted {
		return "<deleted>"
	}
	return r.getName(name)
}

func num(v any) int {
	f, _ := v.(float64)
	return int(f)
}

func TestBulkJobInfoShape(t *testing.T) {
	b := newBulkEnv(t, bulkTestConfig())
	st, _, out := b.do("POST", b.jobsPath("ingest"), "application/json",
		strings.NewReader(`{"object":"account","operation":"upsert","externalIdFieldName":"ext__c","contentType":"CSV","lineEnding":"LF"}`))
	if st != 200 {
		t.Fatalf("%d %s", st, out)
	}
	var ji map[string]any
	dec := json.NewDecoder(bytes.NewReader(out))
	dec.UseNumber()
	if err := dec.Decode(&ji); err != nil {
		t.Fatal(err)
	}
	keys := make([]string, 0, len(ji))
	for k := range ji {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	want := []string{"apexProcessingTime", "apiActiveProcessingTime", "apiVersion", "columnDelimiter", "concurrencyMode",
		"contentType", "contentUrl", "createdById", "createdDate", "externalIdFieldName", "id", "jobType", "lineEnding",
		"numberRecordsFailed", "numberRecordsProcessed", "object", "operation", "retries", "state", "systemModstamp",
		"totalProcessingTime"}
	if !slices.Equal(keys, want) {
		t.Errorf("keys\n got %v\nwant %v", keys, want)
	}
	id := ji["id"].(string)
	if len(id) != 18 || !strings.HasPrefix(id, "750") || !looksLikeID(id) {
		t.Errorf("id %q", id)
	}
	if !bytes.Contains(out, []byte(`"apiVersion":65.0`)) {
		t.Errorf("apiVersion not the number 65.0: %s", out)
	}
	checks := map[string]string{
		"state": "Open", "object": "Account", "operation": "upsert", "externalIdFieldName": "Ext__c",
		"contentUrl": "services/data/v65.0/jobs/ingest/" + id + "/batches", "jobType": "V2Ingest",
		"concurrencyMode": "Parallel", "contentType": "CSV", "lineEnding": "LF", "columnDelimiter": "COMMA",
	}
	for k, v := range checks {
		if ji[k] != v {
			t.Errorf("%s = %v, want %v", k, ji[k], v)
		}
	}
	for _, k := range []string{"createdDate", "systemModstamp"} {
		if _, err := time.Parse("2006-01-02T15:04:05.000-0700", ji[k].(string)); err != nil || !strings.HasSuffix(ji[k].(string), "+0000") {
			t.Errorf("%s = %v", k, ji[k])
		}
	}
	if ji["createdById"] != b.e.org.adminID {
		t.Errorf("createdById %v", ji["createdById"])
	}
}

func TestBulkCreateErrors(t *testing.T) {
	b := newBulkEnv(t, bulkTestConfig())
	cases := []struct {
		name, body string
		status     int
		code, msg  string
	}{
		{"no operation", `{"object":"Lead","contentType":"CSV"}`, 400, "API_ERROR", "Invalid value: '' supplied for property: 'operation'"},
		{"bad operation", `{"object":"Lead","operation":"merge"}`, 400, "API_ERROR", "Invalid value: 'merge' supplied for property: 'operation'"},
		{"unknown object", `{"object":"Nope__c","operation":"insert"}`, 400, "INVALIDJOB", "InvalidJob : Unable to find object: Nope__c"},
		{"not external id", `{"object":"Lead","operation":"upsert","externalIdFieldName":"LastName"}`, 400, "INVALIDJOB", "Field name provided, LastName does not match an External ID for Lead"},
		{"blank external id", `{"object":"Account","operation":"upsert"}`, 400, "INVALIDJOB", "InvalidJob : External ID was blank for Account. An External ID must be specified for upsert."},
		{"bad delimiter", `{"object":"Lead","operation":"insert","columnDelimiter":"COLON"}`, 400, "API_ERROR", "Invalid value: 'COLON' supplied for property: 'columnDelimiter'"},
		{"bad line ending", `{"object":"Lead","operation":"insert","lineEnding":"CR"}`, 400, "API_ERROR", "Invalid value: 'CR' supplied for property: 'lineEnding'"},
		{"bad content type", `{"object":"Lead","operation":"insert","contentType":"JSON"}`, 400, "API_ERROR", "Invalid value: 'JSON' supplied for property: 'contentType'"},
		{"empty body", ``, 400, "JSON_PARSER_ERROR", ""},
		{"bad json", `{"object":`, 400, "JSON_PARSER_ERROR", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st, _, out := b.do("POST", b.jobsPath("ingest"), "application/json", strings.NewReader(tc.body))
			var errs []APIError
			if err := json.Unmarshal(out, &errs); err != nil || len(errs) != 1 {
				t.Fatalf("%d %s", st, out)
			}
			if st != tc.status || errs[0].ErrorCode != tc.code || (tc.msg != "" && errs[0].Message != tc.msg) {
				t.Errorf("got %d %+v, want %d %s %q", st, errs[0], tc.status, tc.code, tc.msg)
			}
		})
	}
	// Bulk ingest exists from v41.0 only.
	st, _, _ := b.do("POST", "/services/data/v40.0/jobs/ingest", "application/json", strings.NewReader(`{"object":"Lead","operation":"insert"}`))
	if st != 404 {
		t.Errorf("v40.0: %d", st)
	}
	// Unauthenticated.
	req, _ := http.NewRequest("GET", b.srv.URL+b.jobsPath("ingest"), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("no token: %d", resp.StatusCode)
	}
}

func TestBulkInsertLifecycle(t *testing.T) {
	b := newBulkEnv(t, bulkTestConfig())
	data := "Name,Ext__c,NumberOfEmployees\nAcme,A1,10\n,A2,20\n\"Globex, Inc.\",A3,\n"
	id, ji := b.runIngest(map[string]any{"object": "Account", "operation": "insert"}, data)
	if ji["state"] != "JobComplete" || num(ji["numberRecordsProcessed"]) != 3 || num(ji["numberRecordsFailed"]) != 1 {
		t.Fatalf("job %v", ji)
	}
	if _, has := ji["errorMessage"]; has {
		t.Errorf("errorMessage on a complete job: %v", ji)
	}
	ok := b.results(id, "successfulResults", ',')
	if !slices.Equal(ok[0], []string{"sf__Id", "sf__Created", "Name", "Ext__c", "NumberOfEmployees"}) || len(ok) != 3 {
		t.Fatalf("successfulResults %v", ok)
	}
	if ok[1][1] != "true" || ok[1][2] != "Acme" || ok[2][2] != "Globex, Inc." {
		t.Errorf("successfulResults rows %v", ok)
	}
	for _, row := range ok[1:] {
		if !strings.HasPrefix(row[0], "001") || len(row[0]) != 18 {
			t.Errorf("sf__Id %q", row[0])
		}
	}
	if got := b.field(ok[1][0], "Name"); got != "Acme" {
		t.Errorf("stored Name %v", got)
	}
	if got := b.field(ok[1][0], "NumberOfEmployees"); got != float64(10) {
		t.Errorf("stored NumberOfEmployees %#v", got)
	}
	if got := b.field(ok[2][0], "NumberOfEmployees"); got != nil {
		t.Errorf("blank NumberOfEmployees stored %#v", got)
	}
	failed := b.results(id, "failedResults", ',')
	want := [][]string{
		{"sf__Id", "sf__Error", "Name", "Ext__c", "NumberOfEmployees"},
		{"", "REQUIRED_FIELD_MISSING:Required fields are missing: [Name]:Name --", "", "A2", "20"},
	}
	if fmt.Sprint(failed) != fmt.Sprint(want) {
		t.Errorf("failedResults\n got %q\nwant %q", failed, want)
	}
	// The raw result file quotes the sf__ columns and repeats the row as sent.
	_, _, raw := b.do("GET", b.jobsPath("ingest")+"/"+id+"/successfulResults", "", nil)
	if !strings.HasPrefix(string(raw), "\"sf__Id\",\"sf__Created\",Name,Ext__c,NumberOfEmployees\n\"001") ||
		!strings.Contains(string(raw), "\"true\",\"Globex, Inc.\",A3,\n") {
		t.Errorf("raw successfulResults:\n%s", raw)
	}
	if un := b.results(id, "unprocessedrecords", ','); len(un) != 1 {
		t.Errorf("unprocessedrecords %v", un)
	}
	if got := b.e.Stats()[KindBulk]; got < 5 {
		t.Errorf("bulk calls counted: %d", got)
	}
}

func TestBulkUpdateUpsertDelete(t *testing.T) {
	b := newBulkEnv(t, bulkTestConfig())
	id, _ := b.runIngest(map[string]any{"object": "Account", "operation": "insert"},
		"Name,Ext__c,Description\nOne,E1,first\nTwo,E2,second\n")
	ok := b.results(id, "successfulResults", ',')
	id1, id2 := ok[1][0], ok[2][0]

	// update: blank leaves a field unchanged, #N/A clears it; a bad Id fails.
	upd := "Id,Name,Description\n" + id1 + ",One+,\n" + id2[:15] + ",,#N/A\n001000000000000AAA,X,y\n,Y,z\n"
	uid, ji := b.runIngest(map[string]any{"object": "Account", "operation": "update"}, upd)
	if num(ji["numberRecordsProcessed"]) != 4 || num(ji["numberRecordsFailed"]) != 2 {
		t.Fatalf("update job %v", ji)
	}
	if b.field(id1, "Name") != "One+" || b.field(id1, "Description") != "first" {
		t.Errorf("row 1: %v %v", b.field(id1, "Name"), b.field(id1, "Description"))
	}
	if b.field(id2, "Name") != "Two" || b.field(id2, "Description") != nil {
		t.Errorf("row 2: %v %v", b.field(id2, "Name"), b.field(id2, "Description"))
	}
	okU := b.results(uid, "successfulResults", ',')
	if len(okU) != 3 || okU[1][0] != id1 || okU[1][1] != "false" || okU[2][0] != id2 {
		t.Errorf("update successes %v", okU)
	}
	failU := b.results(uid, "failedResults", ',')
	if len(failU) != 3 || failU[1][0] != "001000000000000AAA" || !strings.HasPrefix(failU[1][1], "NOT_FOUND:") ||
		failU[2][0] != "" || failU[2][1] != "MISSING_ARGUMENT:Id not specified in an update call:--" {
		t.Errorf("update failures %q", failU)
	}

	// upsert on Ext__c: one update, one insert, with an empty Id column.
	ups := "Id,Ext__c,Name\n,E2,Two again\n,E3,Three\n"
	sid, ji := b.runIngest(map[string]any{"object": "Account", "operation": "upsert", "externalIdFieldName": "Ext__c"}, ups)
	if num(ji["numberRecordsProcessed"]) != 2 || num(ji["numberRecordsFailed"]) != 0 {
		t.Fatalf("upsert job %v", ji)
	}
	okS := b.results(sid, "successfulResults", ',')
	if okS[1][0] != id2 || okS[1][1] != "false" || okS[2][1] != "true" || b.field(id2, "Name") != "Two again" {
		t.Errorf("upsert results %v", okS)
	}
	id3 := okS[2][0]
	if b.field(id3, "Ext__c") != "E3" {
		t.Errorf("upserted Ext__c %v", b.field(id3, "Ext__c"))
	}

	// delete soft-deletes; hardDelete removes.
	did, ji := b.runIngest(map[string]any{"object": "Account", "operation": "delete"}, "Id\n"+id1+"\n"+id1+"\n")
	if num(ji["numberRecordsFailed"]) != 1 || b.field(id1, "Name") != "<deleted>" {
		t.Errorf("delete job %v, record %v", ji, b.field(id1, "Name"))
	}
	if f := b.results(did, "failedResults", ','); len(f) != 2 || !strings.HasPrefix(f[1][1], "ENTITY_IS_DELETED:") || f[1][0] != id1 {
		t.Errorf("delete failures %q", f)
	}
	_, ji = b.runIngest(map[string]any{"object": "Account", "operation": "hardDelete"}, "Id\n"+id3+"\n")
	if num(ji["numberRecordsFailed"]) != 0 || b.field(id3, "Name") != "<no record>" {
		t.Errorf("hardDelete job %v, record %v", ji, b.field(id3, "Name"))
	}
}

func TestBulkDelimitersAndLineEndings(t *testing.T) {
	delims := map[string]rune{"COMMA": ',', "TAB": '\t', "PIPE": '|', "SEMICOLON": ';', "CARET": '^', "BACKQUOTE": '`'}
	for name, d := range delims {
		for _, le := range []string{"LF", "CRLF"} {
			t.Run(name+"/"+le, func(t *testing.T) {
				b := newBulkEnv(t, bulkTestConfig())
				eol := map[string]string{"LF": "\n", "CRLF": "\r\n"}[le]
				ds := string(d)
				// A quoted value holding the delimiter, a quote and a line break.
				tricky := "a" + ds + "b \"q\"\nline2"
				data := "\xef\xbb\xbf" + "name" + ds + "Description" + eol +
					"Plain" + ds + "simple" + eol +
					"\"Quoted" + ds + "Name\"" + ds + "\"" + strings.ReplaceAll(tricky, "\"", "\"\"") + "\"" + eol
				id, ji := b.runIngest(map[string]any{"object": "Account", "operation": "insert", "columnDelimiter": name, "lineEnding": le}, data)
				if ji["state"] != "JobComplete" || num(ji["numberRecordsProcessed"]) != 2 || num(ji["numberRecordsFailed"]) != 0 {
					t.Fatalf("job %v", ji)
				}
				_, _, raw := b.do("GET", b.jobsPath("ingest")+"/"+id+"/successfulResults", "", nil)
				if !strings.HasPrefix(string(raw), "\"sf__Id\""+ds+"\"sf__Created\""+ds+"name"+ds+"Description"+eol) {
					t.Errorf("header of %q", raw)
				}
				ok := b.results(id, "successfulResults", d)
				if len(ok) != 3 || ok[2][2] != "Quoted"+ds+"Name" {
					t.Fatalf("results %q", ok)
				}
				// encoding/csv turns \r\n inside quotes into \n; compare the stored value.
				if got := b.field(ok[2][0], "Description"); got != tricky {
					t.Errorf("Description %q, want %q", got, tricky)
				}
			})
		}
	}
}

func TestBulkFailedJobs(t *testing.T) {
	b := newBulkEnv(t, bulkTestConfig())
	cases := []struct {
		name string
		req  map[string]any
		data string
		msg  string
	}{
		{"CRLF data in an LF job", map[string]any{"object": "Account", "operation": "insert"}, "Name\r\nA\r\n",
			"ClientInputError : LineEnding is invalid on user data. Current LineEnding setting is LF"},
		{"LF data in a CRLF job", map[string]any{"object": "Account", "operation": "insert", "lineEnding": "CRLF"}, "Name\nA\n",
			"ClientInputError : LineEnding is invalid on user data. Current LineEnding setting is CRLF"},
		{"unknown column", map[string]any{"object": "Account", "operation": "insert"}, "Name,Bogus__c\nA,b\n",
			"InvalidBatch : Field name not found : Bogus__c"},
		{"unterminated quote", map[string]any{"object": "Account", "operation": "insert"}, "Name\n\"A\n",
			"ClientInputError : Unterminated quoted field starting at line 2"},
		{"column count", map[string]any{"object": "Account", "operation": "insert"}, "Name,Description\nA\n",
			"ClientInputError : Line 2 has 1 columns, the header has 2"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			id, ji := b.runIngest(tc.req, tc.data)
			if ji["state"] != "Failed" || ji["errorMessage"] != tc.msg {
				t.Errorf("job %v", ji)
			}
			// Nothing was written; every record is unprocessed.
			if ok := b.results(id, "successfulResults", ','); len(ok) != 1 {
				t.Errorf("successes %v", ok)
			}
		})
	}
	// Closing a job with no data fails it.
	ji := b.createJob("ingest", map[string]any{"object": "Account", "operation": "insert"})
	b.patchState("ingest", ji["id"].(string), "UploadComplete")
	if ji := b.waitJob("ingest", ji["id"].(string)); ji["state"] != "Failed" || ji["errorMessage"] == "" {
		t.Errorf("empty job %v", ji)
	}
}

func TestBulkUploadRules(t *testing.T) {
	b := newBulkEnv(t, bulkTestConfig())
	ji := b.createJob("ingest", map[string]any{"object": "Account", "operation": "insert"})
	id := ji["id"].(string)
	path := b.jobsPath("ingest") + "/" + id + "/batches"

	st, _, out := b.do("PUT", path, "application/json", strings.NewReader("Name\nA\n"))
	if st != 415 {
		t.Errorf("wrong content type: %d %s", st, out)
	}
	// A chunked upload (no Content-Length), as jsforce streams it.
	pr, pw := io.Pipe()
	go func() {
		pw.Write([]byte("Name\n"))
		for i := 0; i < 100; i++ {
			fmt.Fprintf(pw, "Chunk %d\n", i)
		}
		pw.Close()
	}()
	st, _, out = b.do("PUT", path, "text/csv; charset=UTF-8", pr)
	if st != 201 || len(out) != 0 {
		t.Fatalf("chunked upload: %d %s", st, out)
	}
	st, _, out = b.do("PUT", path, "text/csv", strings.NewReader("Name\nB\n"))
	var errs []APIError
	_ = json.Unmarshal(out, &errs)
	if st != 400 || len(errs) != 1 || errs[0].ErrorCode != "BULK_API_ERROR" ||
		errs[0].Message != "Found multipe contents for job: <"+id[:15]+">, please 'Close' / 'Abort' / 'Delete' the current Job then create a new Job and make sure you only do 'PUT' once on a given Job." {
		t.Errorf("second upload: %d %s", st, out)
	}
	b.patchState("ingest", id, "UploadComplete")
	if ji := b.waitJob("ingest", id); num(ji["numberRecordsProcessed"]) != 100 {
		t.Errorf("chunked job %v", ji)
	}
	// A closed job refuses uploads and a second close.
	if st, _, _ := b.do("PUT", path, "text/csv", strings.NewReader("Name\nB\n")); st != 400 {
		t.Errorf("upload to closed job: %d", st)
	}
	if st, _ := b.patchState("ingest", id, "UploadComplete"); st != 400 {
		t.Errorf("second close: %d", st)
	}
	if st, _ := b.patchState("ingest", id, "Aborted"); st != 400 {
		t.Errorf("abort of a complete job: %d", st)
	}
	if st, _ := b.patchState("ingest", id, "Sideways"); st != 400 {
		t.Errorf("bad state: %d", st)
	}
	// Unknown jobs.
	for _, p := range []string{"/750000000000000AAA", "/nonsense", "/750000000000000AAA/batches", "/750000000000000AAA/failedResults"} {
		method := "GET"
		if strings.HasSuffix(p, "batches") {
			method = "PUT"
		}
		if st, _, _ := b.do(method, b.jobsPath("ingest")+p, "text/csv", strings.NewReader("x")); st != 404 {
			t.Errorf("%s %s: %d", method, p, st)
		}
	}
}

func TestBulkAbortLeavesUnprocessed(t *testing.T) {
	b := newBulkEnv(t, bulkTestConfig())
	ji := b.createJob("ingest", map[string]any{"object": "Account", "operation": "insert"})
	id := ji["id"].(string)
	b.upload(id, "Name,Description\nA,\"multi\nline\"\nB,x\n")
	st, ji := b.patchState("ingest", id, "Aborted")
	if st != 200 || ji["state"] != "Aborted" {
		t.Fatalf("abort: %d %v", st, ji)
	}
	un := b.results(id, "unprocessedrecords", ',')
	if fmt.Sprint(un) != fmt.Sprint([][]string{{"Name", "Description"}, {"A", "multi\nline"}, {"B", "x"}}) {
		t.Errorf("unprocessed %q", un)
	}
	if st, _ := b.patchState("ingest", id, "UploadComplete"); st != 400 {
		t.Errorf("close after abort: %d", st)
	}
	// Delete: 204, then gone.
	if st, _, _ := b.do("DELETE", b.jobsPath("ingest")+"/"+id, "", nil); st != 204 {
		t.Errorf("delete: %d", st)
	}
	if st, _, _ := b.do("GET", b.jobsPath("ingest")+"/"+id, "", nil); st != 404 {
		t.Errorf("get deleted: %d", st)
	}
	// An Open job cannot be deleted.
	open := b.createJob("ingest", map[string]any{"object": "Account", "operation": "insert"})
	if st, _, _ := b.do("DELETE", b.jobsPath("ingest")+"/"+open["id"].(string), "", nil); st != 400 {
		t.Errorf("delete open job: %d", st)
	}
}

func TestBulkListJobs(t *testing.T) {
	b := newBulkEnv(t, bulkTestConfig())
	a := b.createJob("ingest", map[string]any{"object": "Account", "operation": "insert"})
	c := b.createJob("ingest", map[string]any{"object": "Contact", "operation": "delete"})
	st, _, out := b.do("GET", b.jobsPath("ingest"), "", nil)
	var list struct {
		Done           bool             `json:"done"`
		Records        []map[string]any `json:"records"`
		NextRecordsURL *string          `json:"nextRecordsUrl"`
	}
	if err := json.Unmarshal(out, &list); err != nil || st != 200 {
		t.Fatalf("%d %s", st, out)
	}
	if !list.Done || list.NextRecordsURL != nil || len(list.Records) != 2 ||
		list.Records[0]["id"] != a["id"] || list.Records[1]["id"] != c["id"] {
		t.Errorf("list %s", out)
	}
	if !strings.Contains(string(out), `"nextRecordsUrl":null`) {
		t.Errorf("nextRecordsUrl not null: %s", out)
	}
}

func TestBulkFinishAtOnce(t *testing.T) {
	b := newBulkEnv(t, bulkTestConfig())
	b.e.SetFinishBulkJobsAtOnce(true)
	ji := b.createJob("ingest", map[string]any{"object": "Account", "operation": "insert"})
	id := ji["id"].(string)
	b.upload(id, "Name\nA\nB\n")
	st, closed := b.patchState("ingest", id, "UploadComplete")
	if st != 200 || closed["state"] != "UploadComplete" {
		t.Fatalf("close %d %v", st, closed)
	}
	if got := b.getJob("ingest", id); got["state"] != "JobComplete" || num(got["numberRecordsProcessed"]) != 2 {
		t.Errorf("first poll %v", got)
	}
}

func TestBulkFinishAtOnceAfterClose(t *testing.T) {
	// The knob turned on while a job waits: the next poll finishes it.
	b := newBulkEnv(t, bulkTestConfig())
	ji := b.createJob("ingest", map[string]any{"object": "Account", "operation": "insert"})
	id := ji["id"].(string)
	b.upload(id, "Name\nA\n")
	b.patchState("ingest", id, "UploadComplete")
	b.e.SetFinishBulkJobsAtOnce(true)
	if got := b.getJob("ingest", id); got["state"] != "JobComplete" {
		t.Errorf("poll %v", got)
	}
}

func TestBulkMultipartCreate(t *testing.T) {
	b := newBulkEnv(t, bulkTestConfig())
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	h := textproto.MIMEHeader{}
	h.Set("Content-Type", "application/json")
	h.Set("Content-Disposition", `form-data; name="job"`)
	pw, _ := mw.CreatePart(h)
	pw.Write([]byte(`{"object":"Contact","contentType":"CSV","operation":"insert","lineEnding":"LF"}`))
	h = textproto.MIMEHeader{}
	h.Set("Content-Type", "text/csv")
	h.Set("Content-Disposition", `form-data; name="content"; filename="content"`)
	pw, _ = mw.CreatePart(h)
	pw.Write([]byte("FirstName,LastName,MailingCity\nAstro,Nomical,San Francisco\nHootie,McOwl,San Francisco\n"))
	mw.Close()
	st, _, out := b.do("POST", b.jobsPath("ingest"), mw.FormDataContentType(), &body)
	var ji map[string]any
	if err := json.Unmarshal(out, &ji); err != nil || st != 200 || ji["state"] != "UploadComplete" {
		t.Fatalf("%d %s", st, out)
	}
	done := b.waitJob("ingest", ji["id"].(string))
	if done["state"] != "JobComplete" || num(done["numberRecordsProcessed"]) != 2 || num(done["numberRecordsFailed"]) != 0 {
		t.Errorf("job %v", done)
	}
}

func TestBulkRelationshipColumn(t *testing.T) {
	b := newBulkEnv(t, bulkTestConfig())
	id, _ := b.runIngest(map[string]any{"object": "Account", "operation": "insert"}, "Name,Ext__c\nParent,P1\n")
	acct := b.results(id, "successfulResults", ',')[1][0]
	cid, ji := b.runIngest(map[string]any{"object": "Contact", "operation": "insert"},
		"LastName,Account.Ext__c\nChild,P1\nOrphan,NOPE\n")
	if num(ji["numberRecordsFailed"]) != 1 {
		t.Fatalf("job %v", ji)
	}
	ok := b.results(cid, "successfulResults", ',')
	if got := b.field(ok[1][0], "AccountId"); got != acct {
		t.Errorf("AccountId %v, want %s", got, acct)
	}
	f := b.results(cid, "failedResults", ',')
	if f[1][1] != "INVALID_FIELD:Foreign key external ID: NOPE not found for field Ext__c in entity Account:--" {
		t.Errorf("failure %q", f[1][1])
	}
}

func TestBulkLargeJobInChunks(t *testing.T) {
	b := newBulkEnv(t, bulkTestConfig())
	var sb strings.Builder
	sb.WriteString("Name,Ext__c\n")
	n := 3*bulkChunk + 7
	for i := 0; i < n; i++ {
		fmt.Fprintf(&sb, "Acct %d,X%d\n", i, i)
	}
	id, ji := b.runIngest(map[string]any{"object": "Account", "operation": "upsert", "externalIdFieldName": "Ext__c"}, sb.String())
	if num(ji["numberRecordsProcessed"]) != n || num(ji["numberRecordsFailed"]) != 0 {
		t.Fatalf("job %v", ji)
	}
	ok := b.results(id, "successfulResults", ',')
	if len(ok) != n+1 || ok[n][2] != fmt.Sprintf("Acct %d", n-1) {
		t.Errorf("%d results, last %v", len(ok), ok[len(ok)-1])
	}
}

// BenchmarkBulkUpsert100k measures rows/s of a 100,000-row upsert job over
// HTTP: create, upload, close (finishing at once) and a final poll. The
// first iteration inserts; later ones update the same records.
func BenchmarkBulkUpsert100k(bm *testing.B) {
	const rows = 100000
	b := newBulkEnv(bm, bulkTestConfig())
	b.e.SetFinishBulkJobsAtOnce(true)
	var sb strings.Builder
	sb.WriteString("Ext__c,Name,NumberOfEmployees,Description\n")
	for i := 0; i < rows; i++ {
		fmt.Fprintf(&sb, "K%06d,Account %d,%d,\"Row %d, with a comma\"\n", i, i, i%5000, i)
	}
	data := sb.String()
	bm.SetBytes(int64(len(data)))
	var cpu jobCPU
	bm.ResetTimer()
	for i := 0; i < bm.N; i++ {
		ji := cpu.run(b, map[string]any{"object": "Account", "operation": "upsert", "externalIdFieldName": "Ext__c"}, data)
		if num(ji["numberRecordsProcessed"]) != rows || num(ji["numberRecordsFailed"]) != 0 {
			bm.Fatalf("job %v", ji)
		}
	}
	bm.ReportMetric(float64(rows*bm.N)/bm.Elapsed().Seconds(), "rows/s")
	cpu.report(bm)
}

// jobCPU adds up the process CPU time (user + system, GC included) of
// benchmark jobs: the whole job, and the PATCH that closes it, which
// processes the job with the finish-at-once knob. Steadier than wall time
// on a shared machine.
type jobCPU struct{ job, close float64 }

// run creates, uploads, closes and polls one job like runIngest.
func (c *jobCPU) run(b *bulkEnv, req map[string]any, data string) map[string]any {
	b.t.Helper()
	c0 := cpuSeconds()
	id := b.createJob("ingest", req)["id"].(string)
	b.upload(id, data)
	c1 := cpuSeconds()
	if st, ji := b.patchState("ingest", id, "UploadComplete"); st != 200 || ji["state"] != "UploadComplete" {
		b.t.Fatalf("close: %d %v", st, ji)
	}
	c2 := cpuSeconds()
	ji := b.waitJob("ingest", id)
	c.close += c2 - c1
	c.job += cpuSeconds() - c0
	return ji
}

func (c *jobCPU) report(bm *testing.B) {
	bm.ReportMetric(c.job/float64(bm.N), "cpu-s/op")
	bm.ReportMetric(c.close/float64(bm.N), "close-cpu-s/op")
}

// cpuSeconds is the process's user + system CPU time so far.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Sec+ru.Stime.Sec) + float64(ru.Utime.Usec+ru.Stime.Usec)/1e6
}

// FuzzBulkCSVScanner checks the scanner never panics and that every record
// span it reports lies inside the data and in order.
func FuzzBulkCSVScanner(f *testing.F) {
	for _, s := range []string{"a,b\n1,2\n", "\xef\xbb\xbfx\r\n\"q,\"\"\r\n\"\r\n", "\"open", "a\rb\n", "\n\n,\n", "\"a\"b,c\n"} {
		f.Add(s, byte(','), false)
		f.Add(s, byte('\t'), true)
	}
	f.Fuzz(func(t *testing.T, data string, delim byte, crlf bool) {
		if delim == '"' || delim == '\n' || delim == '\r' {
			delim = ','
		}
		sc := newCSVScanner([]byte(data), delim, crlf)
		var fields []string
		last := 0
		for i := 0; i < len(data)+2; i++ {
			var start, end int
			var ok bool
			var err error
			fields, start, end, ok, err = sc.next(fields)
			if err != nil || !ok {
				return
			}
			if start < last || end < start || end > len(data) || len(fields) == 0 {
				t.Fatalf("span [%d,%d) after %d in %q", start, end, last, data)
			}
			last = end
		}
		t.Fatalf("scanner did not finish %q", data)
	})
}

// leadPushCSV is the push benchmark's file (scripts/pushbench/run.sh):
// Leads keyed by Forcesync_Key__c, every tenth row with a changed FirstName
// when changed is set.
func leadPushCSV(rows int, changed bool) string {
	var sb strings.Builder
	sb.WriteString("Forcesync_Key__c,FirstName,LastName,Email,Company\n")
	for i := 0; i < rows; i++ {
		first := fmt.Sprintf("First%d", i)
		if changed && i%10 == 0 {
			first = fmt.Sprintf("Changed%d", i)
		}
		fmt.Fprintf(&sb, "k%08d,%s,Last%d,user%d@example.com,Company %d\n", i, first, i, i, i%500)
	}
	return sb.String()
}

// BenchmarkBulkLeadUpsert100k is the push benchmark's job: a 100,000-row
// Lead upsert on Forcesync_Key__c, finished at once. New inserts every
// row into an empty org (a fresh emulator per iteration, built with the
// timer stopped); Update changes rows a previous job inserted.
func BenchmarkBulkLeadUpsert100k(bm *testing.B) {
	const rows = 100000
	req := map[string]any{"object": "Lead", "operation": "upsert", "externalIdFieldName": "Forcesync_Key__c"}
	check := func(bm *testing.B, ji map[string]any) {
		if num(ji["numberRecordsProcessed"]) != rows || num(ji["numberRecordsFailed"]) != 0 {
			bm.Fatalf("job %v", ji)
		}
	}
	bm.Run("New", func(bm *testing.B) {
		data := leadPushCSV(rows, false)
		bm.SetBytes(int64(len(data)))
		var cpu jobCPU
		bm.ResetTimer()
		for i := 0; i < bm.N; i++ {
			bm.StopTimer()
			b := newBulkEnv(bm, Config{})
			b.e.SetFinishBulkJobsAtOnce(true)
			bm.StartTimer()
			check(bm, cpu.run(b, req, data))
		}
		bm.ReportMetric(float64(rows*bm.N)/bm.Elapsed().Seconds(), "rows/s")
		cpu.report(bm)
	})
	bm.Run("Update", func(bm *testing.B) {
		b := newBulkEnv(bm, Config{})
		b.e.SetFinishBulkJobsAtOnce(true)
		_, ji := b.runIngest(req, leadPushCSV(rows, false))
		check(bm, ji)
		data := leadPushCSV(rows, true)
		bm.SetBytes(int64(len(data)))
		var cpu jobCPU
		bm.ResetTimer()
		for i := 0; i < bm.N; i++ {
			check(bm, cpu.run(b, req, data))
		}
		bm.ReportMetric(float64(rows*bm.N)/bm.Elapsed().Seconds(), "rows/s")
		cpu.report(bm)
	})
}
