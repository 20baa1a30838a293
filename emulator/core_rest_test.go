package emulator

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// update rewrites the golden files under testdata/ (go test -run Golden -update).
var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// coreServer is an emulator on a loopback listener plus a session token.
type coreServer struct {
	e     *Emulator
	srv   *httptest.Server
	token string
}

func newCoreServer(t testing.TB, cfg Config) *coreServer {
	t.Helper()
	e := newTestEmulator(t, cfg)
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	e.mu.Lock()
	s := e.newSessionLocked("forcesync-demo", e.org.adminID, seedAdminUsername, []string{"api"}, "")
	e.mu.Unlock()
	return &coreServer{e: e, srv: srv, token: s.Token}
}

// resp is a decoded response.
type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r resp) json(t testing.TB) any {
	t.Helper()
	var v any
	d := json.NewDecoder(bytes.NewReader(r.body))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		t.Fatalf("body %q: %v", r.body, err)
	}
	return v
}

func (s *coreServer) do(t testing.TB, method, path string, body any, hdr ...string) resp {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, s.srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+s.token)
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i+1] == "" {
			req.Header.Del(hdr[i])
		} else {
			req.Header.Set(hdr[i], hdr[i+1])
		}
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return resp{res.StatusCode, res.Header, b}
}

func wantStatus(t testing.TB, r resp, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body %s", r.status, status, r.body)
	}
}

// wantError checks a Salesforce error array with one element.
func wantError(t testing.TB, r resp, status int, code, msg string) map[string]any {
	t.Helper()
	wantStatus(t, r, status)
	var arr []map[string]any
	if err := json.Unmarshal(r.body, &arr); err != nil || len(arr) != 1 {
		t.Fatalf("error body %s: %v", r.body, err)
	}
	if arr[0]["errorCode"] != code || (msg != "" && arr[0]["message"] != msg) {
		t.Fatalf("error %v %q, want %s %q", arr[0]["errorCode"], arr[0]["message"], code, msg)
	}
	return arr[0]
}

// golden compares got with testdata/name.golden (rewritten with -update).
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	var buf bytes.Buffer
	if json.Valid(got) {
		if err := json.Indent(&buf, got, "", "  "); err == nil {
			got = append(buf.Bytes(), '\n')
		}
	}
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create)", err)
	}
	if !bytes.Equal(want, got) {
		t.Errorf("%s differs from golden file; got:\n%s", name, got)
	}
}

func TestVersionList(t *testing.T) {
	s := newCoreServer(t, Config{})
	for _, path := range []string{"/services/data", "/services/data/"} {
		r := s.do(t, "GET", path, nil, "Authorization", "")
		wantStatus(t, r, 200)
		if h := r.header.Get("Sforce-Limit-Info"); h != "" {
			t.Errorf("version list carries Sforce-Limit-Info %q", h)
		}
		if ct := r.header.Get("Content-Type"); ct != "application/json;charset=UTF-8" {
			t.Errorf("content type %q", ct)
		}
		var list []map[string]string
		if err := json.Unmarshal(r.body, &list); err != nil {
			t.Fatal(err)
		}
		if len(list) != MaxVersion-MinVersion+1 {
			t.Fatalf("%d versions", len(list))
		}
		want := map[string]string{"label": "Summer '14", "url": "/services/data/v31.0", "version": "31.0"}
		if fmt.Sprint(list[0]) != fmt.Sprint(want) {
			t.Errorf("first %v", list[0])
		}
		for _, v := range list {
			if v["version"] == "65.0" && v["label"] != "Winter '26" || v["version"] == "66.0" && v["label"] != "Spring '26" || v["version"] == "67.0" && v["label"] != "Summer '26" {
				t.Errorf("label %v", v)
			}
		}
	}
	used, _ := s.e.APIUsage()
	if used != 0 {
		t.Errorf("version list counted: %d", used)
	}
}

func TestResourceMapAndAuth(t *testing.T) {
	s := newCoreServer(t, Config{})
	r := s.do(t, "GET", "/services/data/v65.0", nil, "Authorization", "")
	wantError(t, r, 401, "INVALID_SESSION_ID", "Session expired or invalid")
	r = s.do(t, "GET", "/services/data/v65.0/", nil)
	wantStatus(t, r, 200)
	m := r.json(t).(map[string]any)
	for _, k := range []string{"sobjects", "query", "queryAll", "composite", "limits", "jobs", "identity", "search", "recent", "tooling"} {
		if m[k] == nil {
			t.Errorf("resource map lacks %s", k)
		}
	}
	if m["sobjects"] != "/services/data/v65.0/sobjects" {
		t.Errorf("sobjects %v", m["sobjects"])
	}
	if id := m["identity"].(string); id != s.srv.URL+"/id/"+DefaultOrgID+"/0055e0000000001AAA" {
		t.Errorf("identity %s", id)
	}
	if h := r.header.Get("Sforce-Limit-Info"); !regexp.MustCompile(`^api-usage=\d+/100000$`).MatchString(h) {
		t.Errorf("Sforce-Limit-Info %q", h)
	}
	wantError(t, s.do(t, "GET", "/services/data/v30.0/sobjects", nil), 410, "API_VERSION_RETIRED", "")
	wantError(t, s.do(t, "GET", "/services/data/v69.0/sobjects", nil), 404, "NOT_FOUND", "")
}

func TestLimitsAndAllowance(t *testing.T) {
	s := newCoreServer(t, Config{DailyAPIRequests: 50})
	s.e.SetAPIUsage(10, 0)
	r := s.do(t, "GET", "/services/data/v65.0/limits", nil)
	wantStatus(t, r, 200)
	if h := r.header.Get("Sforce-Limit-Info"); h != "api-usage=11/50" {
		t.Errorf("header %q", h)
	}
	var lim map[string]map[string]int
	if err := json.Unmarshal(r.body, &lim); err != nil {
		t.Fatal(err)
	}
	if lim["DailyApiRequests"]["Max"] != 50 || lim["DailyApiRequests"]["Remaining"] != 39 {
		t.Errorf("DailyApiRequests %v", lim["DailyApiRequests"])
	}
	if lim["DailyBulkV2QueryJobs"]["Max"] != 10000 {
		t.Errorf("DailyBulkV2QueryJobs %v", lim["DailyBulkV2QueryJobs"])
	}
	s.e.SetAPIUsage(50, 50)
	r = s.do(t, "GET", "/services/data/v65.0/sobjects", nil)
	wantError(t, r, 403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
	if h := r.header.Get("Sforce-Limit-Info"); h != "api-usage=50/50" {
		t.Errorf("header %q", h)
	}
	golden(t, "error_request_limit", r.body)
}

func TestDescribeGolden(t *testing.T) {
	s := newCoreServer(t, Config{})
	r := s.do(t, "GET", "/services/data/v65.0/sobjects/lead/describe/", nil)
	wantStatus(t, r, 200)
	golden(t, "describe_lead", r.body)
	var d struct {
		Fields []map[string]any `json:"fields"`
	}
	if err := json.Unmarshal(r.body, &d); err != nil {
		t.Fatal(err)
	}
	// Every field carries every key of salesforce-api.md §4.2.
	keys := []string{"name", "label", "type", "soapType", "length", "precision", "scale", "digits", "nillable", "createable",
		"updateable", "defaultedOnCreate", "calculated", "autoNumber", "unique", "externalId", "idLookup", "nameField",
		"caseSensitive", "custom", "filterable", "sortable", "groupable", "restrictedPicklist", "dependentPicklist",
		"htmlFormatted", "encrypted", "deprecatedAndHidden", "permissionable", "polymorphicForeignKey", "defaultValue",
		"calculatedFormula", "inlineHelpText", "controllerName", "compoundFieldName", "extraTypeInfo", "relationshipName",
		"relationshipOrder", "mask", "picklistValues", "referenceTo"}
	byName := map[string]map[string]any{}
	for _, f := range d.Fields {
		for _, k := range keys {
			if _, ok := f[k]; !ok {
				t.Errorf("field %v lacks %s", f["name"], k)
			}
		}
		byName[f["name"].(string)] = f
	}
	key := byName["Forcesync_Key__c"]
	if key["externalId"] != true || key["unique"] != true || key["length"] != 80.0 || key["custom"] != true || key["idLookup"] != true {
		t.Errorf("Forcesync_Key__c %v", key)
	}
	status := byName["Status"]
	if vals := status["picklistValues"].([]any); len(vals) != 4 || vals[0].(map[string]any)["defaultValue"] != true {
		t.Errorf("Status picklist %v", vals)
	}
	if byName["OwnerId"]["relationshipName"] != "Owner" || len(byName["OwnerId"]["referenceTo"].([]any)) != 2 {
		t.Errorf("OwnerId %v", byName["OwnerId"])
	}

	// If-Modified-Since.
	lm := r.header.Get("Last-Modified")
	if lm == "" {
		t.Fatal("no Last-Modified")
	}
	wantStatus(t, s.do(t, "GET", "/services/data/v65.0/sobjects/Lead/describe", nil, "If-Modified-Since", lm), 304)
	old := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).Format(http.TimeFormat)
	wantStatus(t, s.do(t, "GET", "/services/data/v65.0/sobjects/Lead/describe", nil, "If-Modified-Since", old), 200)

	r = s.do(t, "GET", "/services/data/v65.0/sobjects/Bogus/describe", nil)
	wantError(t, r, 404, "NOT_FOUND", "The requested resource does not exist")
	golden(t, "error_not_found", r.body)

	r = s.do(t, "GET", "/services/data/v65.0/sobjects", nil)
	wantStatus(t, r, 200)
	g := r.json(t).(map[string]any)
	if g["encoding"] != "UTF-8" || g["maxBatchSize"] != json.Number("200") {
		t.Errorf("describeGlobal %v", g)
	}
	names := []string{}
	for _, o := range g["sobjects"].([]any) {
		om := o.(map[string]any)
		names = append(names, om["name"].(string))
		if om["name"] == "Lead" && (om["keyPrefix"] != "00Q" || om["urls"].(map[string]any)["rowTemplate"] != "/services/data/v65.0/sobjects/Lead/{ID}") {
			t.Errorf("Lead entry %v", om)
		}
	}
	if strings.Join(names, ",") != "Account,Contact,Lead,Organization,Profile,User,UserRole" {
		t.Errorf("objects %v", names)
	}
	r = s.do(t, "GET", "/services/data/v65.0/sobjects/Contact", nil)
	wantStatus(t, r, 200)
	if r.json(t).(map[string]any)["objectDescribe"].(map[string]any)["keyPrefix"] != "003" {
		t.Errorf("basic info %s", r.body)
	}
}

func TestRecordCRUD(t *testing.T) {
	s := newCoreServer(t, Config{})
	const base = "/services/data/v65.0/sobjects/Lead"
	r := s.do(t, "POST", base, map[string]any{"LastName": "Smith", "Company": "Acme", "Email": "s@acme.com", "AnnualRevenue": 1000})
	wantStatus(t, r, 201)
	var created struct {
		ID      string `json:"id"`
		Success bool   `json:"success"`
		Errors  []any  `json:"errors"`
	}
	if err := json.Unmarshal(r.body, &created); err != nil || !created.Success || created.Errors == nil || len(created.ID) != 18 {
		t.Fatalf("create body %s", r.body)
	}
	if loc := r.header.Get("Location"); loc != base+"/"+created.ID {
		t.Errorf("Location %q", loc)
	}
	if !strings.Contains(string(r.body), `"errors":[]`) {
		t.Errorf("errors key: %s", r.body)
	}

	r = s.do(t, "GET", base+"/"+created.ID[:15], nil)
	wantStatus(t, r, 200)
	rec := r.json(t).(map[string]any)
	attrs := rec["attributes"].(map[string]any)
	if attrs["type"] != "Lead" || attrs["url"] != base+"/"+created.ID || rec["Id"] != created.ID {
		t.Errorf("attributes %v id %v", attrs, rec["Id"])
	}
	if rec["Status"] != "Open - Not Contacted" || rec["IsDeleted"] != false || rec["FirstName"] != nil || rec["AnnualRevenue"] != json.Number("1000.0") {
		t.Errorf("record %v", rec)
	}
	if _, ok := rec["FirstName"]; !ok {
		t.Error("null field missing")
	}
	stamp := rec["SystemModstamp"].(string)
	if !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$`).MatchString(stamp) || rec["CreatedDate"] != stamp {
		t.Errorf("SystemModstamp %q CreatedDate %v", stamp, rec["CreatedDate"])
	}
	if !strings.HasPrefix(string(r.body), `{"attributes":{`) {
		t.Errorf("attributes not first: %.40s", r.body)
	}

	r = s.do(t, "GET", base+"/"+created.ID+"?fields=LastName,email", nil)
	wantStatus(t, r, 200)
	if got := string(r.body); got != `{"attributes":{"type":"Lead","url":"`+base+"/"+created.ID+`"},"LastName":"Smith","Email":"s@acme.com"}`+"\n" {
		t.Errorf("fields= body %s", got)
	}
	wantError(t, s.do(t, "GET", base+"/"+created.ID+"?fields=Nope", nil), 400, "INVALID_FIELD", "")

	wantStatus(t, s.do(t, "PATCH", base+"/"+created.ID, map[string]any{"FirstName": "Ann", "Email": nil}), 204)
	rec = s.do(t, "GET", base+"/"+created.ID, nil).json(t).(map[string]any)
	if rec["Name"] != "Ann Smith" || rec["Email"] != nil || rec["LastModifiedDate"] == rec["CreatedDate"] {
		t.Errorf("after update %v %v %v", rec["Name"], rec["Email"], rec["LastModifiedDate"])
	}
	r = s.do(t, "PATCH", base+"/"+created.ID, map[string]any{"LastName": strings.Repeat("x", 81)})
	e := wantError(t, r, 400, "STRING_TOO_LONG", "")
	if fmt.Sprint(e["fields"]) != "[LastName]" {
		t.Errorf("fields %v", e["fields"])
	}

	r = s.do(t, "POST", base, map[string]any{"FirstName": "x"})
	wantError(t, r, 400, "REQUIRED_FIELD_MISSING", "Required fields are missing: [LastName, Company]")
	golden(t, "error_required_field_missing", r.body)
	r = s.do(t, "POST", base, map[string]any{"LastName": "x", "Company": "y", "Namez": 1})
	wantError(t, r, 400, "INVALID_FIELD", "No such column 'Namez' on sobject of type Lead")
	golden(t, "error_invalid_field", r.body)
	r = s.do(t, "POST", base, "")
	wantError(t, r, 400, "JSON_PARSER_ERROR", "The HTTP entity body is required, but this request has no entity body.")
	wantError(t, s.do(t, "POST", base, "{bad"), 400, "JSON_PARSER_ERROR", "")
	wantError(t, s.do(t, "POST", base, "[1,2]"), 400, "JSON_PARSER_ERROR", "")
	wantError(t, s.do(t, "POST", "/services/data/v65.0/sobjects/Nope", map[string]any{"a": 1}), 404, "NOT_FOUND", "")

	r = s.do(t, "GET", base+"/-1", nil)
	wantError(t, r, 404, "NOT_FOUND", "Provided external ID field does not exist or is not accessible: -1")
	golden(t, "error_external_id_field", r.body)
	wantError(t, s.do(t, "PATCH", base+"/-1", map[string]any{"a": 1}), 404, "NOT_FOUND", "Provided external ID field does not exist or is not accessible: -1")
	wantError(t, s.do(t, "GET", base+"/00Q5e000000zzzzEAA", nil), 404, "NOT_FOUND", "The requested resource does not exist")

	wantStatus(t, s.do(t, "DELETE", base+"/"+created.ID, nil), 204)
	r = s.do(t, "GET", base+"/"+created.ID, nil)
	wantError(t, r, 404, "ENTITY_IS_DELETED", "entity is deleted")
	golden(t, "error_entity_is_deleted", r.body)
	wantError(t, s.do(t, "DELETE", base+"/"+created.ID, nil), 404, "ENTITY_IS_DELETED", "entity is deleted")
	wantError(t, s.do(t, "PATCH", base+"/"+created.ID, map[string]any{"Title": "x"}), 404, "ENTITY_IS_DELETED", "entity is deleted")

	// Users: no delete (405), deactivation by PATCH.
	admin := "/services/data/v65.0/sobjects/User/0055e0000000001AAA"
	r = s.do(t, "DELETE", admin, nil)
	wantError(t, r, 405, "METHOD_NOT_ALLOWED", "HTTP Method 'DELETE' not allowed. Allowed are HEAD,GET,PATCH")
	u := s.do(t, "GET", admin, nil).json(t).(map[string]any)
	if u["Username"] != "admin@forcesync.local" || u["IsActive"] != true || u["ProfileId"] == nil {
		t.Errorf("admin %v", u)
	}
	if _, ok := u["IsDeleted"]; ok {
		t.Error("User has IsDeleted")
	}
}

func TestUpsertByExternalID(t *testing.T) {
	s := newCoreServer(t, Config{Objects: []ObjectConfig{{Name: "Contact", Fields: []FieldConfig{
		{Name: "Legacy_Id__c", Type: "string", Length: 20, ExternalID: true}}}}})
	const base = "/services/data/v65.0/sobjects/Lead/Forcesync_Key__c/"
	r := s.do(t, "PATCH", base+"k-1", map[string]any{"LastName": "A", "Company": "B"})
	wantStatus(t, r, 201)
	c := r.json(t).(map[string]any)
	id := c["id"].(string)
	if c["created"] != true || c["success"] != true {
		t.Errorf("created body %s", r.body)
	}
	r = s.do(t, "PATCH", base+"K-1", map[string]any{"Title": "CEO"})
	wantStatus(t, r, 200)
	if got := r.json(t).(map[string]any); got["id"] != id || got["created"] != false {
		t.Errorf("updated body %s", r.body)
	}
	wantStatus(t, s.do(t, "PATCH", "/services/data/v45.0/sobjects/Lead/Forcesync_Key__c/k-1", map[string]any{"Title": "CTO"}), 204)
	r = s.do(t, "PATCH", "/services/data/v45.0/sobjects/Lead/Forcesync_Key__c/k-2", map[string]any{"LastName": "A", "Company": "B"})
	wantStatus(t, r, 201)
	if _, has := r.json(t).(map[string]any)["created"]; has {
		t.Error("created key before v46")
	}
	r = s.do(t, "GET", base+"k-1?fields=Title", nil)
	wantStatus(t, r, 200)
	if r.json(t).(map[string]any)["Title"] != "CTO" {
		t.Errorf("get by ext id %s", r.body)
	}
	wantError(t, s.do(t, "GET", base+"nope", nil), 404, "NOT_FOUND", "The requested resource does not exist")
	r = s.do(t, "PATCH", "/services/data/v65.0/sobjects/Lead/Namez/x", map[string]any{"LastName": "A"})
	wantError(t, r, 404, "NOT_FOUND", "Provided external ID field does not exist or is not accessible: Namez")
	r = s.do(t, "PATCH", "/services/data/v65.0/sobjects/Lead/Title/x", map[string]any{"LastName": "A"})
	wantError(t, r, 404, "NOT_FOUND", "Provided external ID field does not exist or is not accessible: Title")

	// A non-unique External ID matching two records: 300 with their URLs.
	cbase := "/services/data/v65.0/sobjects/Contact"
	var ids []string
	for i := 0; i < 2; i++ {
		r := s.do(t, "POST", cbase, map[string]any{"LastName": "Twin", "Legacy_Id__c": "L1"})
		wantStatus(t, r, 201)
		ids = append(ids, r.json(t).(map[string]any)["id"].(string))
	}
	r = s.do(t, "PATCH", cbase+"/Legacy_Id__c/L1", map[string]any{"Title": "x"})
	wantStatus(t, r, 300)
	var urls []string
	if err := json.Unmarshal(r.body, &urls); err != nil || len(urls) != 2 || urls[0] != cbase+"/"+ids[0] {
		t.Errorf("300 body %s", r.body)
	}
	wantStatus(t, s.do(t, "GET", cbase+"/Legacy_Id__c/L1", nil), 300)
	wantStatus(t, s.do(t, "DELETE", cbase+"/Legacy_Id__c/L1", nil), 300)
	wantStatus(t, s.do(t, "DELETE", base+"k-2", nil), 204)
	// Upsert with a validation error.
	r = s.do(t, "PATCH", base+"k-3", map[string]any{"LastName": "A"})
	wantError(t, r, 400, "REQUIRED_FIELD_MISSING", "Required fields are missing: [Company]")
}

func TestGetUpdatedDeleted(t *testing.T) {
	now := time.Date(2024, 5, 1, 12, 0, 30, 0, time.UTC)
	clock := now
	s := newCoreServer(t, Config{Now: func() time.Time { return clock }})
	const base = "/services/data/v65.0/sobjects/Lead"
	a := s.do(t, "POST", base, map[string]any{"LastName": "A", "Company": "X"}).json(t).(map[string]any)["id"].(string)
	clock = now.Add(2 * time.Minute)
	b := s.do(t, "POST", base, map[string]any{"LastName": "B", "Company": "X"}).json(t).(map[string]any)["id"].(string)
	clock = now.Add(4 * time.Minute)
	wantStatus(t, s.do(t, "DELETE", base+"/"+a, nil), 204)
	clock = now.Add(10 * time.Minute)

	r := s.do(t, "GET", base+"/updated?start=2024-05-01T12:01:59%2B00:00&end=2024-05-01T12:30:00Z", nil)
	wantStatus(t, r, 200)
	var upd struct {
		IDs    []string `json:"ids"`
		Latest string   `json:"latestDateCovered"`
	}
	if err := json.Unmarshal(r.body, &upd); err != nil {
		t.Fatal(err)
	}
	// start truncates to 12:01, so B (12:02:30) is in; A is deleted.
	if len(upd.IDs) != 1 || upd.IDs[0] != b || upd.Latest != "2024-05-01T12:10:00.000+0000" {
		t.Errorf("updated %s", r.body)
	}
	r = s.do(t, "GET", base+"/deleted?start=2024-05-01T12:00:00Z&end=2024-05-01T12:10:00Z", nil)
	wantStatus(t, r, 200)
	var del struct {
		Recs []struct {
			ID   string `json:"id"`
			Date string `json:"deletedDate"`
		} `json:"deletedRecords"`
		Earliest string `json:"earliestDateAvailable"`
		Latest   string `json:"latestDateCovered"`
	}
	if err := json.Unmarshal(r.body, &del); err != nil {
		t.Fatal(err)
	}
	if len(del.Recs) != 1 || del.Recs[0].ID != a || del.Recs[0].Date != "2024-05-01T12:04:30.000+0000" ||
		del.Earliest != "2024-05-01T12:00:00.000+0000" || del.Latest != "2024-05-01T12:10:00.000+0000" {
		t.Errorf("deleted %s", r.body)
	}
	wantError(t, s.do(t, "GET", base+"/updated?start=2024-01-01T00:00:00Z&end=2024-05-01T12:00:00Z", nil), 400, "INVALID_REPLICATION_DATE", "")
	wantError(t, s.do(t, "GET", base+"/deleted?start=2024-05-01T12:00:00Z", nil), 400, "MISSING_ARGUMENT", "")
	wantError(t, s.do(t, "GET", base+"/updated?start=x&end=y", nil), 400, "INVALID_REPLICATION_DATE", "")
}

func TestUserPassword(t *testing.T) {
	s := newCoreServer(t, Config{})
	p := "/services/data/v65.0/sobjects/User/0055e0000000001AAA/password"
	r := s.do(t, "GET", p, nil)
	wantStatus(t, r, 200)
	if string(r.body) != "{\"isExpired\":false}\n" {
		t.Errorf("GET %s", r.body)
	}
	wantError(t, s.do(t, "POST", p, map[string]any{"NewPassword": "short"}), 400, "INVALID_NEW_PASSWORD", "")
	wantStatus(t, s.do(t, "POST", p, map[string]any{"NewPassword": "s3cretpassword"}), 204)
	s.e.mu.RLock()
	ok := s.e.passwordMatchesLocked("0055e0000000001AAA", "s3cretpassword")
	s.e.mu.RUnlock()
	if !ok {
		t.Error("password not stored")
	}
	r = s.do(t, "DELETE", p, nil)
	wantStatus(t, r, 200)
	pw := r.json(t).(map[string]any)["NewPassword"].(string)
	s.e.mu.RLock()
	ok = s.e.passwordMatchesLocked("0055e0000000001AAA", pw)
	s.e.mu.RUnlock()
	if !ok || pw == "" {
		t.Error("reset password not stored")
	}
	// On another object the path is access by external id with value "password".
	wantError(t, s.do(t, "GET", "/services/data/v65.0/sobjects/Lead/Email/password", nil), 404, "NOT_FOUND", "The requested resource does not exist")
}
