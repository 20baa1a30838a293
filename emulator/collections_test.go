package emulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// apiEnv is an emulator served over loopback HTTP with a live admin session.
type apiEnv struct {
	t     testing.TB
	e     *Emulator
	srv   *httptest.Server
	token string
}

// extConfig adds an External ID field to Lead for upsert tests.
func extConfig() Config {
	return Config{Objects: []ObjectConfig{{Name: "Lead", Fields: []FieldConfig{
		{Name: "Ext_Id__c", Label: "Ext Id", Type: "string", Length: 40, ExternalID: true, Unique: true},
	}}}}
}

func newAPIEnv(t testing.TB, cfg Config) *apiEnv {
	t.Helper()
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.mu.Lock()
	s := e.newSessionLocked("forcesync-demo", e.org.adminID, DefaultUsername, []string{"api"}, "")
	e.mu.Unlock()
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return &apiEnv{t: t, e: e, srv: srv, token: s.Token}
}

// do sends a request to path (absolute, or relative to /services/data/v65.0/)
// with body marshalled as JSON (a string or []byte is sent as is).
func (v *apiEnv) do(method, path string, body any) (int, http.Header, []byte) {
	v.t.Helper()
	if !strings.HasPrefix(path, "/") {
		path = "/services/data/v65.0/" + path
	}
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			v.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, v.srv.URL+path, rd)
	if err != nil {
		v.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+v.token)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := v.srv.Client().Do(req)
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

// doJSON sends a request and decodes the answer into out (when not nil).
func (v *apiEnv) doJSON(method, path string, body, out any) int {
	v.t.Helper()
	st, _, b := v.do(method, path, body)
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			v.t.Fatalf("%s %s: %d %s: %v", method, path, st, b, err)
		}
	}
	return st
}

// result is a collection result as a client decodes it.
type result struct {
	ID      string `json:"id"`
	Success bool   `json:"success"`
	Created *bool  `json:"created"`
	Errors  []struct {
		StatusCode string   `json:"statusCode"`
		ErrorCode  string   `json:"errorCode"`
		Message    string   `json:"message"`
		Fields     []string `json:"fields"`
	} `json:"errors"`
}

func (r result) code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	return r.Errors[0].StatusCode
}

type apiErr struct {
	Message   string `json:"message"`
	ErrorCode string `json:"errorCode"`
}

func lead(last, company string, extra ...any) map[string]any {
	m := map[string]any{"attributes": map[string]any{"type": "Lead"}, "LastName": last, "Company": company}
	for i := 0; i+1 < len(extra); i += 2 {
		m[extra[i].(string)] = extra[i+1]
	}
	return m
}

// countLive returns the live records of an object in the store.
func (v *apiEnv) countLive(object string) int {
	v.e.mu.RLock()
	defer v.e.mu.RUnlock()
	return v.e.countLocked(v.e.sobjectLocked(object))
}

// fieldOf returns a stored field of a record (nil if none).
func (v *apiEnv) fieldOf(id, name string) any {
	v.e.mu.RLock()
	defer v.e.mu.RUnlock()
	r := v.e.getRecordLocked(id)
	if r == nil {
		return nil
	}
	return r.getName(name)
}

func TestCollectionCreate(t *testing.T) {
	v := newAPIEnv(t, Config{})
	var res []result
	st := v.doJSON("POST", "composite/sobjects", map[string]any{"records": []any{
		lead("One", "Acme"),
		map[string]any{"attributes": map[string]any{"type": "Account"}, "Name": "Acme Inc"},
		lead("", "NoName"),
		lead("Two", "Acme", "Id", "00Q000000000001AAA"),
		lead("Three", "Acme", "Email", "not an email"),
	}}, &res)
	if st != 200 || len(res) != 5 {
		t.Fatalf("status %d, %d results", st, len(res))
	}
	if !res[0].Success || !strings.HasPrefix(res[0].ID, "00Q") || len(res[0].ID) != 18 || res[0].Errors == nil {
		t.Errorf("lead result = %+v", res[0])
	}
	if !res[1].Success || !strings.HasPrefix(res[1].ID, "001") {
		t.Errorf("account result = %+v", res[1])
	}
	for i, want := range map[int]string{2: "REQUIRED_FIELD_MISSING", 3: "INVALID_FIELD", 4: "INVALID_EMAIL_ADDRESS"} {
		if res[i].Success || res[i].code() != want || res[i].ID != "" || res[i].Errors[0].Fields == nil {
			t.Errorf("record %d: %+v, want %s", i, res[i], want)
		}
	}
	if n := v.countLive("Lead"); n != 1 {
		t.Errorf("%d leads stored, want 1", n)
	}
	if got := v.fieldOf(res[0].ID, "LastName"); got != "One" {
		t.Errorf("stored LastName = %v", got)
	}
	// The raw body uses statusCode, never errorCode, per record.
	_, _, raw := v.do("POST", "composite/sobjects", map[string]any{"records": []any{lead("", "X")}})
	if !bytes.Contains(raw, []byte(`"statusCode":"REQUIRED_FIELD_MISSING"`)) || bytes.Contains(raw, []byte("errorCode")) {
		t.Errorf("per-record error shape: %s", raw)
	}
}

func TestCollectionCreateAllOrNone(t *testing.T) {
	v := newAPIEnv(t, Config{})
	var res []result
	v.doJSON("POST", "composite/sobjects", map[string]any{"allOrNone": true, "records": []any{
		lead("One", "Acme"), lead("", "Acme"), lead("Three", "Acme"),
	}}, &res)
	if len(res) != 3 {
		t.Fatalf("%d results", len(res))
	}
	if res[1].code() != "REQUIRED_FIELD_MISSING" {
		t.Errorf("failing record: %+v", res[1])
	}
	for _, i := range []int{0, 2} {
		if res[i].Success || res[i].code() != "ALL_OR_NONE_OPERATION_ROLLED_BACK" || res[i].ID != "" {
			t.Errorf("record %d: %+v", i, res[i])
		}
	}
	if n := v.countLive("Lead"); n != 0 {
		t.Errorf("%d leads survive the rollback", n)
	}
	// All valid: everything commits.
	v.doJSON("POST", "composite/sobjects", map[string]any{"allOrNone": true, "records": []any{lead("A", "B"), lead("C", "D")}}, &res)
	if !res[0].Success || !res[1].Success || v.countLive("Lead") != 2 {
		t.Errorf("valid allOrNone batch: %+v", res)
	}
}

func TestCollectionMalformed(t *testing.T) {
	v := newAPIEnv(t, Config{})
	many := make([]any, 201)
	for i := range many {
		many[i] = lead(fmt.Sprint(i), "X")
	}
	ids := strings.Repeat("00Q000000000001AAA,", 200) + "00Q000000000001AAA"
	for _, tc := range []struct {
		method, path string
		body         any
		status       int
		code         string
	}{
		{"POST", "composite/sobjects", map[string]any{"records": many}, 400, "EXCEEDED_ID_LIMIT"},
		{"DELETE", "composite/sobjects?ids=" + ids, nil, 400, "EXCEEDED_ID_LIMIT"},
		{"POST", "composite/sobjects", `{"records":[{"LastName":"X"}]}`, 400, "INVALID_TYPE"},
		{"POST", "composite/sobjects", `{"records":[{"attributes":{"type":"Nope__c"}}]}`, 400, "INVALID_TYPE"},
		{"POST", "composite/sobjects", `{"records":[`, 400, "JSON_PARSER_ERROR"},
		{"POST", "composite/sobjects", ``, 400, "JSON_PARSER_ERROR"},
		{"POST", "composite/sobjects", `{"records":[1]}`, 400, "JSON_PARSER_ERROR"},
		{"POST", "composite/sobjects", `{"allOrNone":"yes","records":[]}`, 400, "JSON_PARSER_ERROR"},
		{"DELETE", "composite/sobjects", nil, 400, "MISSING_ARGUMENT"},
		{"PATCH", "composite/sobjects/Lead/Nope__c", `{"records":[]}`, 404, "NOT_FOUND"},
		{"PATCH", "composite/sobjects/Nope/Ext_Id__c", `{"records":[]}`, 404, "NOT_FOUND"},
		{"GET", "composite/sobjects/Lead?ids=00Q000000000001AAA", nil, 400, "MISSING_ARGUMENT"},
		{"GET", "composite/sobjects/Lead?ids=00Q000000000001AAA&fields=Nope", nil, 400, "INVALID_FIELD"},
		{"PUT", "composite/sobjects", `{}`, 405, "METHOD_NOT_ALLOWED"},
	} {
		var errs []apiErr
		st := v.doJSON(tc.method, tc.path, tc.body, &errs)
		if st != tc.status || len(errs) != 1 || errs[0].ErrorCode != tc.code {
			t.Errorf("%s %s: %d %+v, want %d %s", tc.method, tc.path, st, errs, tc.status, tc.code)
		}
	}
	// Mixed types: more than ten chunks is refused.
	var recs []any
	for i := 0; i < 11; i++ {
		if i%2 == 0 {
			recs = append(recs, lead("L", "C"))
		} else {
			recs = append(recs, map[string]any{"attributes": map[string]any{"type": "Account"}, "Name": "A"})
		}
	}
	if st, _, b := v.do("POST", "composite/sobjects", map[string]any{"records": recs}); st != 400 {
		t.Errorf("11 chunks: %d %s", st, b)
	}
}

func TestCollectionUpdate(t *testing.T) {
	v := newAPIEnv(t, Config{})
	ids, err := v.e.Seed("Lead", []map[string]any{{"LastName": "A", "Company": "C"}, {"LastName": "B", "Company": "C"}})
	if err != nil {
		t.Fatal(err)
	}
	var res []result
	v.doJSON("PATCH", "composite/sobjects", map[string]any{"records": []any{
		map[string]any{"attributes": map[string]any{"type": "Lead"}, "id": ids[0], "LastName": "A2"},
		map[string]any{"attributes": map[string]any{"type": "Lead"}, "Id": ids[1], "LastName": strings.Repeat("x", 81)},
		map[string]any{"attributes": map[string]any{"type": "Lead"}, "LastName": "NoId"},
		map[string]any{"attributes": map[string]any{"type": "Lead"}, "Id": "garbage", "LastName": "X"},
	}}, &res)
	if len(res) != 4 || !res[0].Success || res[0].ID != ids[0] {
		t.Fatalf("results %+v", res)
	}
	if res[1].code() != "STRING_TOO_LONG" || res[1].ID != ids[1] {
		t.Errorf("too long: %+v", res[1])
	}
	if res[2].code() != "MISSING_ARGUMENT" || res[3].code() != "MALFORMED_ID" {
		t.Errorf("missing/malformed id: %+v %+v", res[2], res[3])
	}
	if got := v.fieldOf(ids[0], "LastName"); got != "A2" {
		t.Errorf("LastName = %v", got)
	}
	// allOrNone: the good update is undone.
	v.doJSON("PATCH", "composite/sobjects", map[string]any{"allOrNone": true, "records": []any{
		map[string]any{"attributes": map[string]any{"type": "Lead"}, "Id": ids[0], "LastName": "A3"},
		map[string]any{"attributes": map[string]any{"type": "Lead"}, "Id": ids[1], "Email": "bad"},
	}}, &res)
	if res[0].code() != "ALL_OR_NONE_OPERATION_ROLLED_BACK" || res[1].code() != "INVALID_EMAIL_ADDRESS" {
		t.Errorf("allOrNone update: %+v", res)
	}
	if got := v.fieldOf(ids[0], "LastName"); got != "A2" {
		t.Errorf("LastName after rollback = %v", got)
	}
}

func TestCollectionUpsert(t *testing.T) {
	v := newAPIEnv(t, extConfig())
	up := func(allOrNone bool, recs ...any) []result {
		var res []result
		if st := v.doJSON("PATCH", "composite/sobjects/Lead/Ext_Id__c", map[string]any{"allOrNone": allOrNone, "records": recs}, &res); st != 200 {
			t.Fatalf("upsert status %d", st)
		}
		return res
	}
	res := up(false, lead("A", "C", "Ext_Id__c", "k1"), lead("B", "C", "Ext_Id__c", "k2"))
	if !res[0].Success || res[0].Created == nil || !*res[0].Created || !*res[1].Created {
		t.Fatalf("inserts: %+v", res)
	}
	first := res[0].ID
	res = up(false, lead("A2", "C", "Ext_Id__c", "K1"), lead("", "C", "Ext_Id__c", "k3"))
	if !res[0].Success || *res[0].Created || res[0].ID != first {
		t.Errorf("update by key: %+v", res[0])
	}
	if res[1].code() != "REQUIRED_FIELD_MISSING" || !*res[1].Created {
		t.Errorf("failed insert keeps created=true: %+v", res[1])
	}
	if got := v.fieldOf(first, "LastName"); got != "A2" {
		t.Errorf("LastName = %v", got)
	}
	// allOrNone: created is reported as computed, nothing persists.
	before := v.countLive("Lead")
	res = up(true, lead("N", "C", "Ext_Id__c", "k9"), lead("X", "C", "Ext_Id__c", "k2", "OwnerId", "bogus"))
	if res[0].code() != "ALL_OR_NONE_OPERATION_ROLLED_BACK" || !*res[0].Created || res[0].Success {
		t.Errorf("rolled back insert: %+v", res[0])
	}
	if res[1].code() == "" || res[1].Success {
		t.Errorf("bad owner: %+v", res[1])
	}
	if v.countLive("Lead") != before {
		t.Errorf("allOrNone upsert left records behind")
	}
	// A type in the records other than the URL's is refused.
	var errs []apiErr
	if st := v.doJSON("PATCH", "composite/sobjects/Lead/Ext_Id__c", map[string]any{"records": []any{
		map[string]any{"attributes": map[string]any{"type": "Account"}, "Name": "A"}}}, &errs); st != 400 {
		t.Errorf("mismatched type: %d %+v", st, errs)
	}
}

func TestCollectionUpsertDuplicateKey(t *testing.T) {
	// A non-unique External ID can match several records.
	cfg := Config{Objects: []ObjectConfig{{Name: "Lead", Fields: []FieldConfig{
		{Name: "Src__c", Label: "Src", Type: "string", Length: 40, ExternalID: true},
	}}}}
	v := newAPIEnv(t, cfg)
	if _, err := v.e.Seed("Lead", []map[string]any{
		{"LastName": "A", "Company": "C", "Src__c": "dup"}, {"LastName": "B", "Company": "C", "Src__c": "dup"},
	}); err != nil {
		t.Fatal(err)
	}
	var res []result
	v.doJSON("PATCH", "composite/sobjects/Lead/Src__c", map[string]any{"records": []any{
		lead("Z", "C", "Src__c", "dup"), lead("Y", "C", "Src__c", "new"),
	}}, &res)
	if res[0].code() != "DUPLICATE_EXTERNAL_ID" || res[0].Success || *res[0].Created {
		t.Errorf("ambiguous key: %+v", res[0])
	}
	if !res[1].Success || !*res[1].Created {
		t.Errorf("other record: %+v", res[1])
	}
}

func TestCollectionDelete(t *testing.T) {
	v := newAPIEnv(t, Config{})
	ids, err := v.e.Seed("Lead", []map[string]any{{"LastName": "A", "Company": "C"}, {"LastName": "B", "Company": "C"}, {"LastName": "C", "Company": "C"}})
	if err != nil {
		t.Fatal(err)
	}
	var res []result
	v.doJSON("DELETE", "composite/sobjects?ids="+ids[0]+",bad&allOrNone=false", nil, &res)
	if len(res) != 2 || !res[0].Success || res[0].ID != ids[0] || res[1].code() != "MALFORMED_ID" {
		t.Fatalf("delete: %+v", res)
	}
	v.doJSON("DELETE", "composite/sobjects?ids="+ids[1]+","+ids[0]+"&allOrNone=true", nil, &res)
	if res[0].code() != "ALL_OR_NONE_OPERATION_ROLLED_BACK" || res[1].code() != "ENTITY_IS_DELETED" {
		t.Errorf("allOrNone delete: %+v", res)
	}
	if v.countLive("Lead") != 2 {
		t.Errorf("live leads = %d, want 2", v.countLive("Lead"))
	}
	// 15-character Ids are accepted and answered in 18 characters.
	v.doJSON("DELETE", "composite/sobjects?ids="+ids[2][:15], nil, &res)
	if !res[0].Success || res[0].ID != ids[2] {
		t.Errorf("15-char delete: %+v", res)
	}
}

func TestCollectionRetrieve(t *testing.T) {
	v := newAPIEnv(t, Config{})
	ids, err := v.e.Seed("Lead", []map[string]any{{"LastName": "A", "Company": "C"}, {"LastName": "B", "Company": "D"}})
	if err != nil {
		t.Fatal(err)
	}
	acct, err := v.e.Seed("Account", []map[string]any{{"Name": "X"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.e.Seed("Lead", nil); err != nil {
		t.Fatal(err)
	}
	q := "composite/sobjects/Lead?ids=" + ids[1] + ",garbage," + acct[0] + "," + ids[0] + "&fields=id,lastname,Company"
	st, _, raw := v.do("GET", q, nil)
	if st != 200 {
		t.Fatalf("%d %s", st, raw)
	}
	var got []map[string]any
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 || got[1] != nil || got[2] != nil {
		t.Fatalf("records %s", raw)
	}
	if got[0]["Id"] != ids[1] || got[0]["LastName"] != "B" || got[3]["Company"] != "C" {
		t.Errorf("records %s", raw)
	}
	attrs, _ := got[0]["attributes"].(map[string]any)
	if attrs["type"] != "Lead" || attrs["url"] != "/services/data/v65.0/sobjects/Lead/"+ids[1] {
		t.Errorf("attributes %v", attrs)
	}
	if !bytes.HasPrefix(raw, []byte(`[{"attributes":`)) || !bytes.Contains(raw, []byte(`"Id":"`+ids[1]+`","LastName":"B","Company":"D"`)) {
		t.Errorf("key order: %s", raw)
	}
	// The POST form.
	var post []map[string]any
	if st := v.doJSON("POST", "composite/sobjects/Lead", map[string]any{"ids": []string{ids[0]}, "fields": []string{"LastName"}}, &post); st != 200 || len(post) != 1 || post[0]["LastName"] != "A" {
		t.Errorf("POST retrieve: %d %v", st, post)
	}
}

func TestCollectionsCountedAsCollections(t *testing.T) {
	v := newAPIEnv(t, Config{})
	v.do("POST", "composite/sobjects", map[string]any{"records": []any{lead("A", "B")}})
	v.do("DELETE", "composite/sobjects?ids=00Q000000000001AAA", nil)
	if n := v.e.Stats()[KindCollections]; n != 2 {
		t.Errorf("collections calls = %d, want 2", n)
	}
}
