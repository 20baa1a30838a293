package emulator

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// raw sends a request without Go's transparent compression, so tests see
// the bytes on the wire. Headers are pairs.
func (v *apiEnv) raw(method, path string, body []byte, hdr ...string) (int, http.Header, []byte) {
	v.t.Helper()
	if !strings.HasPrefix(path, "/") {
		path = "/services/data/v65.0/" + path
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, v.srv.URL+path, rd)
	if err != nil {
		v.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+v.token)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	defer client.CloseIdleConnections()
	resp, err := client.Do(req)
	if err != nil {
		v.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		v.t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, out
}

func gz(t testing.TB, b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

func gunzip(t testing.TB, b []byte) []byte {
	t.Helper()
	r, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not gzip: %v (%q)", err, b[:min(len(b), 40)])
	}
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Issue 14 item 1: ?updateOnly=true never creates.
func TestUpsertUpdateOnlyRefusesToCreate(t *testing.T) {
	v := newAPIEnv(t, extConfig())
	st, _, body := v.do("PATCH", "sobjects/Lead/Ext_Id__c/K1?updateOnly=true", map[string]any{"LastName": "Ng", "Company": "Acme"})
	var errs []apiErr
	if st != 404 || json.Unmarshal(body, &errs) != nil || errs[0].ErrorCode != "NOT_FOUND" {
		t.Fatalf("updateOnly miss: %d %s, want 404 NOT_FOUND", st, body)
	}
	if n := v.countLive("Lead"); n != 0 {
		t.Fatalf("updateOnly miss created %d leads", n)
	}
	// Without the flag the same call creates; with it, a match updates.
	if st, _, body := v.do("PATCH", "sobjects/Lead/Ext_Id__c/K1", map[string]any{"LastName": "Ng", "Company": "Acme"}); st != 201 {
		t.Fatalf("plain upsert: %d %s", st, body)
	}
	var res result
	if st := v.doJSON("PATCH", "sobjects/Lead/Ext_Id__c/K1?updateOnly=true", map[string]any{"Company": "Beta"}, &res); st != 200 || res.Created == nil || *res.Created {
		t.Fatalf("updateOnly match: %d %+v", st, res)
	}
	if got := v.fieldOf(res.ID, "Company"); got != "Beta" {
		t.Fatalf("Company %v after updateOnly update", got)
	}
}

// Issue 14 item 2: SOQL over 100,000 characters and over-long URIs.
func TestSOQLLengthAndURILimits(t *testing.T) {
	v := newAPIEnv(t, Config{})
	in := make([]string, 0, 9000)
	for i := 0; len(strings.Join(in, ",")) < 100100; i++ {
		in = append(in, fmt.Sprintf("'key-%06d'", i))
	}
	long := "SELECT Id FROM Lead WHERE LastName IN (" + strings.Join(in, ",") + ")"
	// Bulk query job (the query travels in a JSON body).
	var errs []apiErr
	st := v.doJSON("POST", "jobs/query", map[string]any{"operation": "query", "query": long}, &errs)
	if st != 400 || len(errs) != 1 || errs[0].ErrorCode != "MALFORMED_QUERY" || !strings.Contains(errs[0].Message, "100,000") {
		t.Fatalf("long bulk query: %d %+v", st, errs)
	}
	// The same query in a composite subrequest's URL is refused too.
	st = v.doJSON("POST", "composite", map[string]any{"compositeRequest": []any{
		sub("GET", "/services/data/v65.0/query?q="+strings.ReplaceAll(long, " ", "+"), "q", nil)}}, nil)
	_, _, body := v.do("POST", "composite", map[string]any{"compositeRequest": []any{
		sub("GET", "/services/data/v65.0/query?q="+strings.ReplaceAll(long, " ", "+"), "q", nil)}})
	if st != 200 || !bytes.Contains(body, []byte("MALFORMED_QUERY")) {
		t.Fatalf("long composite query: %d %s", st, body[:min(len(body), 300)])
	}
	// By GET the URI itself is too long first: 414.
	st, _, body = v.raw("GET", "query?q="+strings.ReplaceAll(long, " ", "+"), nil)
	if st != http.StatusRequestURITooLong || !bytes.Contains(body, []byte("URI_TOO_LONG")) {
		t.Fatalf("long GET: %d %s", st, body[:min(len(body), 200)])
	}
	// A URI under the limit but with big headers: 431.
	st, _, _ = v.raw("GET", "limits", nil, "X-Padding", strings.Repeat("x", 16400))
	if st != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("big headers: %d, want 431", st)
	}
	// A long but legal query by GET still runs.
	short := "SELECT Id FROM Lead WHERE LastName IN (" + strings.Join(in[:1000], ",") + ")"
	if st, _, body := v.raw("GET", "query?q="+strings.ReplaceAll(short, " ", "+"), nil); st != 200 {
		t.Fatalf("12k query: %d %s", st, body[:min(len(body), 200)])
	}
}

// Issue 14 item 4: compressed answers and compressed request bodies.
func TestGzipBothWays(t *testing.T) {
	v := newAPIEnv(t, Config{DailyAPIRequests: 1 << 20})
	recs := make([]any, 50)
	for i := range recs {
		recs[i] = lead(fmt.Sprintf("Gz %d", i), "Zip Co")
	}
	body, _ := json.Marshal(map[string]any{"records": recs})
	// Collections with a gzip body and a gzip answer.
	st, h, out := v.raw("POST", "composite/sobjects", gz(t, body),
		"Content-Type", "application/json", "Content-Encoding", "gzip", "Accept-Encoding", "gzip")
	if st != 200 || h.Get("Content-Encoding") != "gzip" {
		t.Fatalf("collections: %d %q %q", st, h.Get("Content-Encoding"), out[:min(len(out), 100)])
	}
	var res []result
	if err := json.Unmarshal(gunzip(t, out), &res); err != nil || len(res) != 50 || !res[0].Success {
		t.Fatalf("collections results: %v %+v", err, res[:min(len(res), 1)])
	}
	// Query answer compressed; without Accept-Encoding it is plain.
	st, h, out = v.raw("GET", "query?q=SELECT+Id,Name+FROM+Lead", nil, "Accept-Encoding", "gzip, deflate")
	if st != 200 || h.Get("Content-Encoding") != "gzip" || !bytes.Contains(gunzip(t, out), []byte(`"totalSize":50`)) {
		t.Fatalf("query gzip: %d %q", st, h.Get("Content-Encoding"))
	}
	st, h, out = v.raw("GET", "query?q=SELECT+Id,Name+FROM+Lead", nil)
	if st != 200 || h.Get("Content-Encoding") != "" || !bytes.Contains(out, []byte(`"totalSize":50`)) {
		t.Fatalf("query plain: %d %q", st, h.Get("Content-Encoding"))
	}
	// deflate answers when only deflate is accepted.
	st, h, out = v.raw("GET", "query?q=SELECT+Id,Name+FROM+Lead", nil, "Accept-Encoding", "deflate")
	if st != 200 || h.Get("Content-Encoding") != "deflate" {
		t.Fatalf("query deflate: %d %q", st, h.Get("Content-Encoding"))
	}
	zr, err := zlib.NewReader(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := io.ReadAll(zr); !bytes.Contains(b, []byte(`"totalSize":50`)) {
		t.Fatalf("deflate body %q", b[:min(len(b), 80)])
	}
	// REST create with a zlib deflate body, and a raw-deflate one.
	one, _ := json.Marshal(map[string]any{"LastName": "Deflate", "Company": "Z"})
	var zb bytes.Buffer
	zw := zlib.NewWriter(&zb)
	zw.Write(one)
	zw.Close()
	if st, _, out := v.raw("POST", "sobjects/Lead", zb.Bytes(), "Content-Type", "application/json", "Content-Encoding", "deflate"); st != 201 {
		t.Fatalf("zlib create: %d %s", st, out)
	}
	var fb bytes.Buffer
	fw, _ := flate.NewWriter(&fb, flate.BestSpeed)
	fw.Write(one)
	fw.Close()
	if st, _, out := v.raw("POST", "sobjects/Lead", fb.Bytes(), "Content-Type", "application/json", "Content-Encoding", "deflate"); st != 201 {
		t.Fatalf("raw deflate create: %d %s", st, out)
	}
	// Composite with a gzip body.
	comp, _ := json.Marshal(map[string]any{"compositeRequest": []any{
		sub("POST", "/services/data/v65.0/sobjects/Lead", "n", map[string]any{"LastName": "Comp", "Company": "C"})}})
	if st, _, out := v.raw("POST", "composite", gz(t, comp), "Content-Type", "application/json", "Content-Encoding", "gzip"); st != 200 || !bytes.Contains(out, []byte(`"httpStatusCode":201`)) {
		t.Fatalf("composite gzip: %d %s", st, out)
	}
	// Bulk 2.0: a gzip upload runs, and its results come back compressed.
	var ji map[string]any
	v.doJSON("POST", "jobs/ingest", map[string]any{"object": "Lead", "operation": "insert"}, &ji)
	id := ji["id"].(string)
	csv := "LastName,Company\n"
	for i := 0; i < 100; i++ {
		csv += fmt.Sprintf("Bulk%d,Gzip Inc\n", i)
	}
	if st, _, out := v.raw("PUT", "jobs/ingest/"+id+"/batches", gz(t, []byte(csv)), "Content-Type", "text/csv", "Content-Encoding", "gzip"); st != 201 {
		t.Fatalf("gzip upload: %d %s", st, out)
	}
	v.e.SetFinishBulkJobsAtOnce(true)
	if st := v.doJSON("PATCH", "jobs/ingest/"+id, map[string]any{"state": "UploadComplete"}, &ji); st != 200 {
		t.Fatalf("close: %d", st)
	}
	v.doJSON("GET", "jobs/ingest/"+id, nil, &ji)
	if ji["state"] != "JobComplete" || num(ji["numberRecordsProcessed"]) != 100 || num(ji["numberRecordsFailed"]) != 0 {
		t.Fatalf("gzip job: %v", ji)
	}
	st, h, out = v.raw("GET", "jobs/ingest/"+id+"/successfulResults", nil, "Accept-Encoding", "gzip")
	if st != 200 || h.Get("Content-Encoding") != "gzip" || bytes.Count(gunzip(t, out), []byte("\n")) != 101 {
		t.Fatalf("results gzip: %d %q", st, h.Get("Content-Encoding"))
	}
	// A GET with Content-Encoding but no body (clients that set the header
	// on every request) is served.
	if st, _, out := v.raw("GET", "limits", nil, "Content-Encoding", "gzip", "Accept-Encoding", "gzip"); st != 200 {
		t.Fatalf("bodiless GET with Content-Encoding: %d %s", st, out)
	}
	// An unknown encoding is refused; broken gzip is a clear 400.
	if st, _, _ := v.raw("POST", "sobjects/Lead", one, "Content-Type", "application/json", "Content-Encoding", "br"); st != 415 {
		t.Fatalf("br: %d, want 415", st)
	}
	if st, _, out := v.raw("POST", "sobjects/Lead", []byte("not gzip"), "Content-Type", "application/json", "Content-Encoding", "gzip"); st != 400 {
		t.Fatalf("bad gzip: %d %s", st, out)
	}
}

// Issue 14 item 5: the SOAP login fault's typed detail.
func TestSOAPLoginFaultDetail(t *testing.T) {
	v := newAPIEnv(t, Config{})
	env := `<?xml version="1.0" encoding="utf-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:urn="urn:partner.soap.sforce.com"><soapenv:Body><urn:login><urn:username>admin@forcesync.local</urn:username><urn:password>wrong</urn:password></urn:login></soapenv:Body></soapenv:Envelope>`
	st, _, out := v.raw("POST", "/services/Soap/u/62.0", []byte(env), "Content-Type", "text/xml", "SOAPAction", "login")
	body := string(out)
	for _, want := range []string{"<faultcode>sf:INVALID_LOGIN</faultcode>",
		`<detail><sf:LoginFault xsi:type="sf:LoginFault"><sf:exceptionCode>INVALID_LOGIN</sf:exceptionCode>`,
		"<sf:exceptionMessage>Invalid username, password, security token; or user locked out.</sf:exceptionMessage>"} {
		if !strings.Contains(body, want) {
			t.Errorf("fault lacks %s:\n%s", want, body)
		}
	}
	if st != 500 {
		t.Fatalf("status %d", st)
	}
}

// Issue 14 item 9: XML bodies, describeGlobal 304, 401 caching headers,
// the API overage.
func TestXMLRecordBodies(t *testing.T) {
	v := newAPIEnv(t, Config{})
	st, _, out := v.raw("POST", "sobjects/Lead", []byte(`<?xml version="1.0"?><Lead><LastName>Xml</LastName><Company>Angle &amp; Co</Company><NumberOfEmployees>12</NumberOfEmployees></Lead>`),
		"Content-Type", "application/xml")
	var res result
	if st != 201 || json.Unmarshal(out, &res) != nil || !res.Success {
		t.Fatalf("XML create: %d %s", st, out)
	}
	if got := v.fieldOf(res.ID, "Company"); got != "Angle & Co" {
		t.Fatalf("Company %v", got)
	}
	if got := v.fieldOf(res.ID, "NumberOfEmployees"); got != 12.0 {
		t.Fatalf("NumberOfEmployees %#v", got)
	}
	st, _, out = v.raw("PATCH", "sobjects/Lead/"+res.ID, []byte(`<Lead><Title>CTO</Title><NumberOfEmployees xsi:nil="true" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"/></Lead>`),
		"Content-Type", "application/xml; charset=UTF-8")
	if st != 204 || v.fieldOf(res.ID, "Title") != "CTO" || v.fieldOf(res.ID, "NumberOfEmployees") != nil {
		t.Fatalf("XML update: %d %s", st, out)
	}
	if st, _, out := v.raw("POST", "sobjects/Lead", []byte(`<Lead><LastName>Bad`), "Content-Type", "application/xml"); st != 400 || !bytes.Contains(out, []byte("XML_PARSER_ERROR")) {
		t.Fatalf("broken XML: %d %s", st, out)
	}
	if st, _, out := v.raw("POST", "sobjects/Lead", []byte(`<Lead><NumberOfEmployees>many</NumberOfEmployees><LastName>A</LastName><Company>B</Company></Lead>`), "Content-Type", "application/xml"); st != 400 {
		t.Fatalf("mistyped XML value: %d %s", st, out)
	}
}

func TestDescribeGlobalIfModifiedSince(t *testing.T) {
	v := newAPIEnv(t, Config{})
	st, h, _ := v.raw("GET", "sobjects", nil)
	lm := h.Get("Last-Modified")
	if st != 200 || lm == "" {
		t.Fatalf("describeGlobal: %d Last-Modified %q", st, lm)
	}
	if st, _, out := v.raw("GET", "sobjects", nil, "If-Modified-Since", lm); st != 304 || len(out) != 0 {
		t.Fatalf("unchanged: %d %q", st, out)
	}
	old := time.Now().Add(-48 * time.Hour).UTC().Format(http.TimeFormat)
	if st, _, _ := v.raw("GET", "sobjects", nil, "If-Modified-Since", old); st != 200 {
		t.Fatalf("changed since: %d", st)
	}
}

func TestUnauthorizedIsNotCacheable(t *testing.T) {
	v := newAPIEnv(t, Config{})
	v.token = "00Dbogus!token"
	st, h, _ := v.raw("GET", "limits", nil)
	if st != 401 || !strings.Contains(h.Get("Cache-Control"), "no-store") || !strings.Contains(h.Get("Cache-Control"), "no-cache") {
		t.Fatalf("401: %d Cache-Control %q", st, h.Get("Cache-Control"))
	}
}

func TestDailyAPIOverage(t *testing.T) {
	v := newAPIEnv(t, Config{DailyAPIOveragePercent: 10})
	v.e.SetAPIUsage(100, 100)
	for i := 0; i < 10; i++ {
		if st, h, out := v.raw("GET", "limits", nil); st != 200 {
			t.Fatalf("call %d past the maximum: %d %s", i+1, st, out)
		} else if want := fmt.Sprintf("api-usage=%d/100", 101+i); h.Get("Sforce-Limit-Info") != want {
			t.Fatalf("Sforce-Limit-Info %q, want %q", h.Get("Sforce-Limit-Info"), want)
		}
	}
	if st, _, out := v.raw("GET", "limits", nil); st != 403 || !bytes.Contains(out, []byte("REQUEST_LIMIT_EXCEEDED")) {
		t.Fatalf("past the overage: %d %s", st, out)
	}
	// The admin API turns the hard stop back on.
	v.e.SetAPIUsage(100, 100)
	if st, _, out := v.raw("POST", "/__emulator/limits", []byte(`{"overage_percent":0}`), "Content-Type", "application/json"); st != 200 {
		t.Fatalf("admin: %d %s", st, out)
	}
	if st, _, _ := v.raw("GET", "limits", nil); st != 403 {
		t.Fatalf("hard stop: %d", st)
	}
	if _, err := ParseConfig("x.yaml", []byte("daily_api_overage_percent: -5\n")); err == nil || !strings.Contains(err.Error(), "daily_api_overage_percent") {
		t.Fatalf("negative overage accepted: %v", err)
	}
}
