package salesforce

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/forcesync/forcesync/emulator"
	"github.com/google/go-cmp/cmp"
)

// bulkOrg is an emulator on loopback with a logged-in client.
type bulkOrg struct {
	emu *emulator.Emulator
	srv *httptest.Server
	c   *Client
	// puts records the byte size of every upload (PUT .../batches) body.
	mu   sync.Mutex
	puts []int64
}

// bulkTestObjects adds an External ID to Lead for upserts.
var bulkTestObjects = []emulator.ObjectConfig{{
	Name: "Lead",
	Fields: []emulator.FieldConfig{{
		Name: "Ext_Id__c", Label: "Ext Id", Type: "string", Length: 40, ExternalID: true, Unique: true,
	}},
}}

func newBulkOrg(t testing.TB) *bulkOrg {
	t.Helper()
	emu, err := emulator.New(emulator.Config{Objects: bulkTestObjects})
	if err != nil {
		t.Fatal(err)
	}
	o := &bulkOrg{emu: emu}
	o.srv = httptest.NewServer(emu)
	t.Cleanup(func() {
		o.srv.Close()
		emu.Close()
	})
	hc := &http.Client{Transport: &countingTransport{o: o, base: http.DefaultTransport}}
	c, err := NewClient(context.Background(), Config{
		LoginURL:   o.srv.URL,
		HTTPClient: hc,
		APIVersion: "65.0",
		Auth: Password{
			ClientID: emulator.DemoClientID, ClientSecret: emulator.DemoClientSecret,
			Username: emulator.DefaultUsername, Password: emulator.DefaultPassword,
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	o.c = c
	return o
}

// record reads one record back from the org (sObject Collections
// retrieve), to check what a job really wrote.
func (o *bulkOrg) record(t *testing.T, obj, id string, fields ...string) Record {
	t.Helper()
	p := o.c.DataPath("composite/sobjects/"+obj) + "?ids=" + id + "&fields=" + strings.Join(fields, ",")
	var recs []Record
	if _, err := o.c.doJSON(context.Background(), KindCollections, http.MethodGet, p, nil, &recs); err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 || recs[0] == nil {
		t.Fatalf("record %s %s not found: %v", obj, id, recs)
	}
	return recs[0]
}

// countingTransport measures upload bodies as they pass.
type countingTransport struct {
	o    *bulkOrg
	base http.RoundTripper
}

func (t *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodPut && strings.HasSuffix(req.URL.Path, "/batches") && req.Body != nil {
		cb := &countingBody{rc: req.Body}
		req = req.Clone(req.Context())
		req.Body = cb
		resp, err := t.base.RoundTrip(req)
		t.o.mu.Lock()
		t.o.puts = append(t.o.puts, cb.n)
		t.o.mu.Unlock()
		return resp, err
	}
	return t.base.RoundTrip(req)
}

type countingBody struct {
	rc io.ReadCloser
	n  int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	b.n += int64(n)
	return n, err
}
func (b *countingBody) Close() error { return b.rc.Close() }

// noWait polls without waiting: the emulator finishes jobs on the first
// poll, or its worker gets the CPU while we yield.
func noWait(ctx context.Context, _ time.Duration) error {
	return ctx.Err()
}

func (o *bulkOrg) bulk(cfg BulkConfig) *Bulk {
	if cfg.Sleep == nil {
		cfg.Sleep = noWait
	}
	return o.c.Bulk(cfg)
}

func records(n int, f func(i int) Record) iter.Seq2[Record, error] {
	return func(yield func(Record, error) bool) {
		for i := 0; i < n; i++ {
			if !yield(f(i), nil) {
				return
			}
		}
	}
}

func collect[T any](t *testing.T, seq iter.Seq2[T, error]) []T {
	t.Helper()
	var out []T
	for v, err := range seq {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	return out
}

func TestBulkIngestLifecycleWithFailedRows(t *testing.T) {
	o := newBulkOrg(t)
	o.emu.SetFinishBulkJobsAtOnce(true)
	ctx := context.Background()
	b := o.bulk(BulkConfig{})

	// Every 4th record lacks Company, which Lead requires.
	recs := records(20, func(i int) Record {
		r := Record{"LastName": fmt.Sprintf("Last %d", i), "Email": fmt.Sprintf("p%d@example.com", i), "Company": "Acme, \"Inc\"\nEurope"}
		if i%4 == 3 {
			delete(r, "Company")
		}
		return r
	})
	res, err := b.IngestRecords(ctx, IngestJob{Object: "Lead", Operation: BulkInsert}, []string{"LastName", "Email", "Company"}, recs)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Jobs) != 1 || res.Jobs[0].State != JobComplete {
		t.Fatalf("jobs: %+v", res.Jobs)
	}
	if res.Uploaded != 20 || res.Processed() != 20 || res.Failed() != 5 {
		t.Fatalf("uploaded %d processed %d failed %d, want 20/20/5", res.Uploaded, res.Processed(), res.Failed())
	}

	ok := collect(t, b.SuccessfulResults(ctx, res.JobIDs()...))
	if len(ok) != 15 {
		t.Fatalf("%d successful rows, want 15", len(ok))
	}
	for _, r := range ok {
		if len(r.ID) != 18 || !strings.HasPrefix(r.ID, "00Q") || !r.Created {
			t.Errorf("success row %+v: want a created Lead Id", r)
		}
		if got, _ := r.Row.Get("Company"); got != "Acme, \"Inc\"\nEurope" {
			t.Errorf("Company echoed as %q", got)
		}
		if slices.Contains(r.Row.Columns(), "sf__Id") {
			t.Errorf("data row keeps sf__ columns: %v", r.Row.Columns())
		}
		// The record really is in the org.
		got := o.record(t, "Lead", r.ID, "LastName")
		if want, _ := r.Row.Get("LastName"); got["LastName"] != want {
			t.Errorf("org has LastName %v, want %q", got["LastName"], want)
		}
	}

	failed := collect(t, b.FailedResults(ctx, res.JobIDs()...))
	if len(failed) != 5 {
		t.Fatalf("%d failed rows, want 5", len(failed))
	}
	for _, f := range failed {
		if f.ID != "" {
			t.Errorf("failed insert has Id %q", f.ID)
		}
		if f.Error == nil || f.Error.StatusCode != "REQUIRED_FIELD_MISSING" || !slices.Contains(f.Error.Fields, "Company") {
			t.Errorf("failed row error %#v, want REQUIRED_FIELD_MISSING on Company", f.Error)
		}
		if name, _ := f.Row.Get("LastName"); !strings.HasPrefix(name, "Last ") {
			t.Errorf("failed row echoes LastName %q", name)
		}
	}
	if un := collect(t, b.UnprocessedRecords(ctx, res.JobIDs()...)); len(un) != 0 {
		t.Errorf("%d unprocessed rows of a complete job", len(un))
	}

	if err := b.DeleteJob(ctx, res.Jobs[0].ID); err != nil {
		t.Fatal(err)
	}
	_, err = b.IngestJobInfo(ctx, res.Jobs[0].ID)
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != 404 {
		t.Fatalf("deleted job: got %v, want 404", err)
	}
}

func TestBulkIngestBackgroundWorkerPolls(t *testing.T) {
	o := newBulkOrg(t)
	ctx := context.Background()
	polls := 0
	b := o.bulk(BulkConfig{Sleep: func(ctx context.Context, d time.Duration) error {
		polls++
		// Give the emulator's worker a moment; the loop stops as soon as
		// the job is final, so this bounds nothing but CPU spin.
		t := time.NewTimer(time.Millisecond)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
			return nil
		}
	}})
	res, err := b.IngestCSV(ctx, IngestJob{Object: "Lead", Operation: BulkInsert},
		strings.NewReader("LastName,Company\r\nA,X\r\nB,Y\r\n\"C, the third\",Z\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	if res.Jobs[0].State != JobComplete || res.Processed() != 3 || res.Failed() != 0 {
		t.Fatalf("job %+v", res.Jobs[0])
	}
	names := map[string]bool{}
	for r, err := range b.SuccessfulResults(ctx, res.JobIDs()...) {
		if err != nil {
			t.Fatal(err)
		}
		n, _ := r.Row.Get("LastName")
		names[n] = true
	}
	if !names["C, the third"] || len(names) != 3 {
		t.Fatalf("names %v", names)
	}
}

func TestBulkIngestSplitsIntoJobs(t *testing.T) {
	o := newBulkOrg(t)
	o.emu.SetFinishBulkJobsAtOnce(true)
	ctx := context.Background()

	t.Run("records", func(t *testing.T) {
		b := o.bulk(BulkConfig{MaxRecordsPerJob: 3})
		res, err := b.IngestRecords(ctx, IngestJob{Object: "Lead", Operation: BulkInsert}, []string{"LastName", "Company"},
			records(10, func(i int) Record { return Record{"LastName": "R" + strconv.Itoa(i), "Company": "C"} }))
		if err != nil {
			t.Fatal(err)
		}
		var per []int64
		for _, j := range res.Jobs {
			per = append(per, j.NumberRecordsProcessed)
		}
		if diff := cmp.Diff([]int64{3, 3, 3, 1}, per); diff != "" {
			t.Fatalf("records per job (-want +got):\n%s", diff)
		}
		if n := len(collect(t, b.SuccessfulResults(ctx, res.JobIDs()...))); n != 10 {
			t.Fatalf("%d successes over the jobs, want 10", n)
		}
	})

	t.Run("bytes", func(t *testing.T) {
		const cap = 200
		o.mu.Lock()
		o.puts = nil
		o.mu.Unlock()
		b := o.bulk(BulkConfig{MaxBytesPerJob: cap})
		res, err := b.IngestRecords(ctx, IngestJob{Object: "Lead", Operation: BulkInsert}, []string{"LastName", "Company"},
			records(40, func(i int) Record { return Record{"LastName": fmt.Sprintf("Bytes %02d", i), "Company": "Company"} }))
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Jobs) < 4 {
			t.Fatalf("%d jobs for ~%d bytes under a %d byte cap", len(res.Jobs), 40*26, cap)
		}
		o.mu.Lock()
		puts := slices.Clone(o.puts)
		o.mu.Unlock()
		if len(puts) != len(res.Jobs) {
			t.Fatalf("%d uploads for %d jobs", len(puts), len(res.Jobs))
		}
		for i, n := range puts {
			if n > cap {
				t.Errorf("upload %d is %d bytes, cap %d", i, n, cap)
			}
		}
		if res.Processed() != 40 || res.Failed() != 0 {
			t.Fatalf("processed %d failed %d", res.Processed(), res.Failed())
		}
	})
}

func TestBulkUpsertByExternalID(t *testing.T) {
	o := newBulkOrg(t)
	o.emu.SetFinishBulkJobsAtOnce(true)
	ctx := context.Background()
	b := o.bulk(BulkConfig{})
	job := IngestJob{Object: "Lead", Operation: BulkUpsert, ExternalIDField: "Ext_Id__c"}
	fields := []string{"Ext_Id__c", "LastName", "Company"}
	mk := func(suffix string) iter.Seq2[Record, error] {
		return records(5, func(i int) Record {
			return Record{"Ext_Id__c": "ext-" + strconv.Itoa(i), "LastName": "L" + suffix, "Company": "Co"}
		})
	}
	first, err := b.IngestRecords(ctx, job, fields, mk("1"))
	if err != nil {
		t.Fatal(err)
	}
	second, err := b.IngestRecords(ctx, job, fields, mk("2"))
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	for r, err := range b.SuccessfulResults(ctx, first.JobIDs()...) {
		if err != nil || !r.Created {
			t.Fatalf("first run row %+v err %v: want created", r, err)
		}
		ext, _ := r.Row.Get("Ext_Id__c")
		ids[ext] = r.ID
	}
	for r, err := range b.SuccessfulResults(ctx, second.JobIDs()...) {
		if err != nil || r.Created {
			t.Fatalf("second run row %+v err %v: want updated", r, err)
		}
		ext, _ := r.Row.Get("Ext_Id__c")
		if ids[ext] != r.ID {
			t.Errorf("%s: second run Id %s, first %s", ext, r.ID, ids[ext])
		}
		got := o.record(t, "Lead", r.ID, "LastName")
		if got["LastName"] != "L2" {
			t.Errorf("LastName %v after upsert, want L2", got["LastName"])
		}
	}
}

func TestBulkResubmitUnprocessed(t *testing.T) {
	o := newBulkOrg(t)
	o.emu.SetFinishBulkJobsAtOnce(true)
	ctx := context.Background()
	b := o.bulk(BulkConfig{})

	// Upload, then abort before closing: Salesforce never processes any of it.
	info, err := b.CreateIngestJob(ctx, IngestJob{Object: "Lead", Operation: BulkInsert})
	if err != nil {
		t.Fatal(err)
	}
	csv := "LastName,Company\nOne,A\nTwo,B\n\"Three\nlines\",C\n"
	if err := b.UploadJobData(ctx, info.ID, strings.NewReader(csv)); err != nil {
		t.Fatal(err)
	}
	aborted, err := b.AbortJob(ctx, info.ID)
	if err != nil {
		t.Fatal(err)
	}
	if aborted.State != JobAborted {
		t.Fatalf("state %s after abort", aborted.State)
	}
	un := collect(t, b.UnprocessedRecords(ctx, info.ID))
	if len(un) != 3 {
		t.Fatalf("%d unprocessed rows, want 3", len(un))
	}
	if v, _ := un[2].Get("LastName"); v != "Three\nlines" {
		t.Fatalf("third unprocessed row LastName %q", v)
	}

	res, err := b.ResubmitUnprocessed(ctx, *aborted)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Jobs) != 1 || res.Jobs[0].ID == info.ID || res.Processed() != 3 || res.Failed() != 0 {
		t.Fatalf("resubmitted: %+v", res.Jobs)
	}
	var names []string
	for r, err := range b.SuccessfulResults(ctx, res.JobIDs()...) {
		if err != nil {
			t.Fatal(err)
		}
		got := o.record(t, "Lead", r.ID, "LastName")
		names = append(names, got["LastName"].(string))
	}
	slices.Sort(names)
	if diff := cmp.Diff([]string{"One", "Three\nlines", "Two"}, names); diff != "" {
		t.Fatalf("resubmitted records (-want +got):\n%s", diff)
	}

	// A completed job has nothing unprocessed: no new job.
	again, err := b.ResubmitUnprocessed(ctx, res.Jobs[0])
	if err != nil {
		t.Fatal(err)
	}
	if len(again.Jobs) != 0 {
		t.Fatalf("resubmitting a complete job created %d jobs", len(again.Jobs))
	}
}

func TestBulkSourceErrorAbortsJob(t *testing.T) {
	o := newBulkOrg(t)
	o.emu.SetFinishBulkJobsAtOnce(true)
	ctx := context.Background()
	b := o.bulk(BulkConfig{})
	boom := errors.New("source broke")
	seq := func(yield func(Record, error) bool) {
		for i := 0; i < 5; i++ {
			if !yield(Record{"LastName": "x", "Company": "y"}, nil) {
				return
			}
		}
		yield(nil, boom)
	}
	res, err := b.IngestRecords(ctx, IngestJob{Object: "Lead", Operation: BulkInsert}, []string{"LastName", "Company"}, seq)
	if !errors.Is(err, boom) {
		t.Fatalf("got %v, want the source's error", err)
	}
	if len(res.Jobs) != 1 {
		t.Fatalf("jobs %+v", res.Jobs)
	}
	info, err := b.IngestJobInfo(ctx, res.Jobs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if info.State != JobAborted || info.NumberRecordsProcessed != 0 {
		t.Fatalf("job after source error: %s processed %d; want Aborted with nothing processed", info.State, info.NumberRecordsProcessed)
	}

	// A value that cannot be written stops the ingest the same way.
	_, err = b.IngestRecords(ctx, IngestJob{Object: "Lead", Operation: BulkInsert}, []string{"LastName"},
		records(1, func(int) Record { return Record{"LastName": map[string]any{"nested": true}} }))
	if err == nil || !strings.Contains(err.Error(), "LastName") {
		t.Fatalf("unwritable value: got %v", err)
	}
}

func TestBulkEmptyInputCreatesNoJob(t *testing.T) {
	o := newBulkOrg(t)
	ctx := context.Background()
	b := o.bulk(BulkConfig{})
	o.emu.ResetStats()
	res, err := b.IngestCSV(ctx, IngestJob{Object: "Lead", Operation: BulkInsert}, strings.NewReader("LastName,Company\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Jobs) != 0 || o.emu.Stats()[emulator.KindBulk] != 0 {
		t.Fatalf("empty input: %d jobs, %d bulk calls", len(res.Jobs), o.emu.Stats()[emulator.KindBulk])
	}
	for _, bad := range []string{"", "A,A\n1,2\n", "\"unterminated\n"} {
		if _, err := b.IngestCSV(ctx, IngestJob{Object: "Lead", Operation: BulkInsert}, strings.NewReader(bad)); err == nil {
			t.Errorf("IngestCSV(%q) accepted", bad)
		}
	}
}

func TestBulkJobValidation(t *testing.T) {
	o := newBulkOrg(t)
	ctx := context.Background()
	b := o.bulk(BulkConfig{})
	for _, j := range []IngestJob{
		{Object: "Lead", Operation: "merge"},
		{Object: "Lead", Operation: BulkUpsert},
		{Object: "Lead", Operation: BulkInsert, ExternalIDField: "Ext_Id__c"},
		{Object: "Lead/../x", Operation: BulkInsert},
	} {
		if _, err := b.CreateIngestJob(ctx, j); err == nil {
			t.Errorf("CreateIngestJob(%+v) accepted", j)
		}
	}
	_, err := b.CreateIngestJob(ctx, IngestJob{Object: "NoSuchThing__c", Operation: BulkInsert})
	var ae *APIError
	if !errors.As(err, &ae) || ae.Code != "INVALIDJOB" {
		t.Fatalf("unknown object: got %v, want INVALIDJOB", err)
	}
	if _, err := b.IngestJobInfo(ctx, "../../x"); err == nil {
		t.Fatal("bad job id accepted")
	}
}

func TestBulkWaitHonoursContext(t *testing.T) {
	o := newBulkOrg(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var waits []time.Duration
	b := o.c.Bulk(BulkConfig{PollInitial: 100 * time.Millisecond, PollMax: 400 * time.Millisecond, PollMultiplier: 2,
		Sleep: func(ctx context.Context, d time.Duration) error {
			waits = append(waits, d)
			if len(waits) == 5 {
				cancel()
			}
			return ctx.Err()
		}})
	// An Open job never finishes: the wait must end with ctx.
	info, err := b.CreateIngestJob(context.Background(), IngestJob{Object: "Lead", Operation: BulkInsert})
	if err != nil {
		t.Fatal(err)
	}
	_, err = b.WaitJob(ctx, info.ID)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	want := []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 400 * time.Millisecond, 400 * time.Millisecond}
	if diff := cmp.Diff(want, waits); diff != "" {
		t.Fatalf("backoff (-want +got):\n%s", diff)
	}
}

func TestBulkUploadRenewsTokenBeforeStreaming(t *testing.T) {
	o := newBulkOrg(t)
	o.emu.SetFinishBulkJobsAtOnce(true)
	ctx := context.Background()
	b := o.bulk(BulkConfig{})
	info, err := b.CreateIngestJob(ctx, IngestJob{Object: "Lead", Operation: BulkInsert})
	if err != nil {
		t.Fatal(err)
	}
	// The token dies between job creation and upload. The upload asks
	// "Expect: 100-continue", so the 401 comes before any of the stream is
	// sent, and the stream can go out again after a refresh.
	if _, err := o.emu.AddFault(emulator.Fault{Type: emulator.FaultExpireSessions, Method: "PUT", Path: "/services/data/*/jobs/ingest/*/batches", Count: 1}); err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	go func() {
		io.WriteString(pw, "LastName,Company\nStream,Co\n")
		pw.Close()
	}()
	if err := b.UploadJobData(ctx, info.ID, pr); err != nil {
		t.Fatal(err)
	}
	if _, err := b.CloseJob(ctx, info.ID); err != nil {
		t.Fatal(err)
	}
	done, err := b.WaitJob(ctx, info.ID)
	if err != nil {
		t.Fatal(err)
	}
	if done.NumberRecordsProcessed != 1 || done.NumberRecordsFailed != 0 {
		t.Fatalf("job %+v", done)
	}
}

func TestParseBulkError(t *testing.T) {
	tests := []struct {
		in   string
		want RecordError
	}{
		{"REQUIRED_FIELD_MISSING:Required fields are missing: [Name]:Name --", RecordError{StatusCode: "REQUIRED_FIELD_MISSING", Message: "Required fields are missing: [Name]", Fields: []string{"Name"}}},
		{"REQUIRED_FIELD_MISSING:Required fields are missing: [LastName, Company]:LastName,Company --", RecordError{StatusCode: "REQUIRED_FIELD_MISSING", Message: "Required fields are missing: [LastName, Company]", Fields: []string{"LastName", "Company"}}},
		{"INVALID_CROSS_REFERENCE_KEY:invalid cross reference id:--", RecordError{StatusCode: "INVALID_CROSS_REFERENCE_KEY", Message: "invalid cross reference id"}},
		{"STRING_TOO_LONG:Last Name: data value too large: xxx (max length=80):LastName --", RecordError{StatusCode: "STRING_TOO_LONG", Message: "Last Name: data value too large: xxx (max length=80)", Fields: []string{"LastName"}}},
		{"DUPLICATE_VALUE:duplicate value found: Ext_Id__c duplicates value on record with id: 00Q000000000001", RecordError{StatusCode: "DUPLICATE_VALUE", Message: "duplicate value found: Ext_Id__c duplicates value on record with id: 00Q000000000001"}},
		{"something odd happened", RecordError{Message: "something odd happened"}},
		{"", RecordError{}},
		{"lower:case is not a code:x --", RecordError{Message: "lower:case is not a code:x --"}},
	}
	for _, tt := range tests {
		got := ParseBulkError(tt.in)
		if diff := cmp.Diff(tt.want, *got); diff != "" {
			t.Errorf("ParseBulkError(%q) (-want +got):\n%s", tt.in, diff)
		}
	}
}

func TestFormatBulkValue(t *testing.T) {
	ts := time.Date(2024, 5, 1, 12, 34, 56, 789_000_000, time.FixedZone("x", 2*3600))
	tests := []struct {
		in   any
		want string
	}{
		{nil, "#N/A"}, {"a,b", "a,b"}, {true, "true"}, {42, "42"}, {int64(-7), "-7"}, {uint8(9), "9"},
		{1e21, "1000000000000000000000"}, {0.1, "0.1"}, {float32(2.5), "2.5"},
		{ts, "2024-05-01T10:34:56.789Z"}, {[]string{"A", "B"}, "A;B"},
	}
	for _, tt := range tests {
		got, err := FormatBulkValue(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("FormatBulkValue(%#v) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []any{map[string]any{}, struct{}{}} {
		if _, err := FormatBulkValue(bad); err == nil {
			t.Errorf("FormatBulkValue(%#v) accepted", bad)
		}
	}
}

func FuzzParseBulkError(f *testing.F) {
	f.Add("REQUIRED_FIELD_MISSING:Required fields are missing: [Name]:Name --")
	f.Add("X:--")
	f.Add(":::")
	f.Fuzz(func(t *testing.T, s string) {
		e := ParseBulkError(s)
		if e == nil {
			t.Fatal("nil error")
		}
	})
}

func FuzzResultReader(f *testing.F) {
	f.Add("\"sf__Id\",\"sf__Error\",Name\n\"\",\"X:y:--\",a\n")
	f.Add("a\n\"b")
	f.Add("Name,Note\r\n\"x\",\"a\r\nb\"\r\n")
	f.Fuzz(func(t *testing.T, s string) {
		rr, err := newResultReader(strings.NewReader(s), ',')
		if err != nil {
			return
		}
		l, err := layoutOf(rr.cols)
		if err != nil {
			return
		}
		for i := 0; i < 1000; i++ {
			row, ok, err := rr.next()
			if err != nil || !ok {
				return
			}
			_ = l.dataRow(row).Map()
			_ = ParseBulkError(cell(row, l.errCol))
		}
	})
}

func TestBulkQueryJobPaging(t *testing.T) {
	o := newBulkOrg(t)
	o.emu.SetFinishBulkJobsAtOnce(true)
	ctx := context.Background()
	b := o.bulk(BulkConfig{})
	res, err := b.IngestRecords(ctx, IngestJob{Object: "Lead", Operation: BulkInsert}, []string{"LastName", "Company"},
		records(25, func(i int) Record { return Record{"LastName": fmt.Sprintf("Q%02d", i), "Company": "Comma, Inc"} }))
	if err != nil || res.Processed() != 25 {
		t.Fatalf("seeding: %v %+v", err, res)
	}

	o.emu.ResetStats()
	var names []string
	for row, err := range b.Query(ctx, "SELECT Id, LastName, Company FROM Lead WHERE LastName LIKE 'Q%' ORDER BY LastName", QueryJobOptions{MaxRecords: 10}) {
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"Id", "LastName", "Company"}, row.Columns()); diff != "" {
			t.Fatalf("columns (-want +got):\n%s", diff)
		}
		if c, _ := row.Get("Company"); c != "Comma, Inc" {
			t.Fatalf("Company %q", c)
		}
		n, _ := row.Get("LastName")
		names = append(names, n)
	}
	if len(names) != 25 || names[0] != "Q00" || names[24] != "Q24" {
		t.Fatalf("rows %v", names)
	}
	// create + poll + 3 result pages of at most 10.
	if got := o.emu.Stats()[emulator.KindBulk]; got != 5 {
		t.Errorf("%d bulk calls for a 3-page query, want 5", got)
	}

	// Stopping early stops fetching pages.
	o.emu.ResetStats()
	for range b.Query(ctx, "SELECT Id FROM Lead", QueryJobOptions{MaxRecords: 10}) {
		break
	}
	if got := o.emu.Stats()[emulator.KindBulk]; got != 3 {
		t.Errorf("%d bulk calls after reading one row, want 3", got)
	}

	// A bad query fails at creation with Salesforce's error.
	for _, err := range b.Query(ctx, "SELECT Nope FROM Lead", QueryJobOptions{}) {
		var ae *APIError
		if !errors.As(err, &ae) || ae.Code != "INVALID_FIELD" {
			t.Fatalf("bad query: got %v, want INVALID_FIELD", err)
		}
	}
}

func TestBulkFailedJobIsJobError(t *testing.T) {
	o := newBulkOrg(t)
	o.emu.SetFinishBulkJobsAtOnce(true)
	ctx := context.Background()
	b := o.bulk(BulkConfig{})
	// A column the object lacks fails the whole job, not single rows.
	res, err := b.IngestCSV(ctx, IngestJob{Object: "Lead", Operation: BulkInsert}, strings.NewReader("LastName,Bogus__c\nA,B\n"))
	var je *JobError
	if !errors.As(err, &je) || je.State != JobFailed || je.Message == "" {
		t.Fatalf("got %v, want a *JobError for a Failed job with its message", err)
	}
	if len(res.Jobs) != 1 || res.Jobs[0].ID != je.JobID || res.Jobs[0].State != JobFailed {
		t.Fatalf("result jobs %+v", res.Jobs)
	}
}

func TestBulkCancelDuringUploadAbortsJob(t *testing.T) {
	o := newBulkOrg(t)
	o.emu.SetFinishBulkJobsAtOnce(true)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b := o.bulk(BulkConfig{})
	// Enough rows to be mid-stream (past the 64 KiB write buffer) when
	// the caller gives up.
	seq := func(yield func(Record, error) bool) {
		for i := 0; ; i++ {
			if i == 5000 {
				cancel()
			}
			if !yield(Record{"LastName": "Cancel " + strconv.Itoa(i), "Company": "C"}, nil) {
				return
			}
		}
	}
	res, err := b.IngestRecords(ctx, IngestJob{Object: "Lead", Operation: BulkInsert}, []string{"LastName", "Company"}, seq)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	if len(res.Jobs) != 1 {
		t.Fatalf("jobs %+v", res.Jobs)
	}
	info, err := b.IngestJobInfo(context.Background(), res.Jobs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if info.State != JobAborted || info.NumberRecordsProcessed != 0 {
		t.Fatalf("job after cancel: %s, %d processed", info.State, info.NumberRecordsProcessed)
	}
}

// TestIngestJobsLeavesClassicJobsOut: Salesforce lists Bulk API 1.0 jobs
// with the 2.0 ones; the client's listing (used to find the jobs of a
// process that died) holds only 2.0 ingest jobs, which are the ones it
// opens and may abort.
func TestIngestJobsLeavesClassicJobsOut(t *testing.T) {
	o := newEmuOrg(t, nil)
	ctx := context.Background()
	form := url.Values{"grant_type": {"password"}, "client_id": {emulator.DemoClientID}, "client_secret": {emulator.DemoClientSecret},
		"username": {emulator.DefaultUsername}, "password": {emulator.DefaultPassword}}
	resp, err := http.PostForm(o.srv.URL+"/services/oauth2/token", form)
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	err = json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	if err != nil || tok.AccessToken == "" {
		t.Fatalf("token: %v", err)
	}
	req, _ := http.NewRequest("POST", o.srv.URL+"/services/async/62.0/job",
		strings.NewReader(`{"operation":"insert","object":"Lead","contentType":"CSV"}`))
	req.Header.Set("X-SFDC-Session", tok.AccessToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		t.Fatalf("Bulk 1.0 job: status %d", resp.StatusCode)
	}
	b := o.c.Bulk(BulkConfig{})
	v2, err := b.CreateIngestJob(ctx, IngestJob{Object: "Lead", Operation: "insert"})
	if err != nil {
		t.Fatal(err)
	}
	jobs, err := b.IngestJobs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) != 1 || jobs[0].ID != v2.ID {
		t.Fatalf("listed %+v, want only the 2.0 job %s", jobs, v2.ID)
	}
}

// TestBulkKeepsCRLFInValues: a value's "\r\n" reaches the org unchanged,
// whether it comes in uploaded CSV (a CRLF file from Excel or Windows) or
// in records, and reads back unchanged from result files and query jobs.
func TestBulkKeepsCRLFInValues(t *testing.T) {
	o := newBulkOrg(t)
	o.emu.SetFinishBulkJobsAtOnce(true)
	ctx := context.Background()
	b := o.bulk(BulkConfig{})
	const want = "Acme\r\nEurope"
	check := func(how string, res *IngestResult, err error) {
		t.Helper()
		if err != nil || res.Processed() != 1 || res.Failed() != 0 {
			t.Fatalf("%s: %v %+v", how, err, res)
		}
		ok := collect(t, b.SuccessfulResults(ctx, res.JobIDs()...))
		if len(ok) != 1 {
			t.Fatalf("%s: %d successful rows", how, len(ok))
		}
		if got, _ := ok[0].Row.Get("Company"); got != want {
			t.Errorf("%s: result file echoes Company %q, want %q", how, got, want)
		}
		if got := o.record(t, "Lead", ok[0].ID, "Company")["Company"]; got != want {
			t.Errorf("%s: org has Company %q, want %q", how, got, want)
		}
	}
	res, err := b.IngestCSV(ctx, IngestJob{Object: "Lead", Operation: BulkInsert},
		strings.NewReader("LastName,Company\r\nCsv,\"Acme\r\nEurope\"\r\n"))
	check("IngestCSV", res, err)
	res, err = b.IngestRecords(ctx, IngestJob{Object: "Lead", Operation: BulkInsert}, []string{"LastName", "Company"},
		records(1, func(int) Record { return Record{"LastName": "Rec", "Company": want} }))
	check("IngestRecords", res, err)
	n := 0
	for row, err := range b.Query(ctx, "SELECT Company FROM Lead WHERE LastName IN ('Csv', 'Rec')", QueryJobOptions{}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
		if got, _ := row.Get("Company"); got != want {
			t.Errorf("query reads Company %q, want %q", got, want)
		}
	}
	if n != 2 {
		t.Errorf("query read %d rows, want 2", n)
	}
}

// TestBulkCSVRowOfTheWrongWidth: uploaded CSV whose row has fewer cells
// than the header is refused, naming the row's line.
func TestBulkCSVRowOfTheWrongWidth(t *testing.T) {
	o := newBulkOrg(t)
	o.emu.SetFinishBulkJobsAtOnce(true)
	b := o.bulk(BulkConfig{})
	_, err := b.IngestCSV(context.Background(), IngestJob{Object: "Lead", Operation: BulkInsert},
		strings.NewReader("LastName,Company\r\nA,\"B\r\nC\"\r\nD\r\n"))
	var pe *csv.ParseError
	if !errors.As(err, &pe) || pe.Err != csv.ErrFieldCount || pe.Line != 4 {
		t.Fatalf("got %v, want the short row on line 4 named", err)
	}
}
