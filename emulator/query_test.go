package emulator

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// queryEnv is an emulator on loopback HTTP with an admin session.
type queryEnv struct {
	t     testing.TB
	e     *Emulator
	srv   *httptest.Server
	token string
}

func newQueryEnv(t testing.TB) *queryEnv {
	t.Helper()
	e, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	e.mu.Lock()
	s := e.newSessionLocked("forcesync-demo", e.org.adminID, DefaultUsername, []string{"api"}, "")
	e.mu.Unlock()
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return &queryEnv{t: t, e: e, srv: srv, token: s.Token}
}

// get sends GET path (absolute) with the session and optional header pairs.
func (v *queryEnv) get(path string, hdr ...string) (int, []byte) {
	v.t.Helper()
	req, err := http.NewRequest("GET", v.srv.URL+path, nil)
	if err != nil {
		v.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+v.token)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := v.srv.Client().Do(req)
	if err != nil {
		v.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		v.t.Fatal(err)
	}
	return resp.StatusCode, b
}

type queryPage struct {
	TotalSize      int              `json:"totalSize"`
	Done           bool             `json:"done"`
	NextRecordsURL *string          `json:"nextRecordsUrl"`
	Records        []map[string]any `json:"records"`
}

// query runs q through /query (or /queryAll) and decodes a 200 answer.
func (v *queryEnv) query(resource, q string, hdr ...string) queryPage {
	v.t.Helper()
	st, b := v.get("/services/data/v65.0/"+resource+"?q="+url.QueryEscape(q), hdr...)
	if st != 200 {
		v.t.Fatalf("%s %q: %d %s", resource, q, st, b)
	}
	var p queryPage
	if err := json.Unmarshal(b, &p); err != nil {
		v.t.Fatalf("%s: %v", b, err)
	}
	return p
}

// queryErr runs q and returns the single error of a 400 answer.
func (v *queryEnv) queryErr(q string) map[string]any {
	v.t.Helper()
	st, b := v.get("/services/data/v65.0/query?q=" + url.QueryEscape(q))
	if st != 400 {
		v.t.Fatalf("query %q: %d %s, want 400", q, st, b)
	}
	var errs []map[string]any
	if err := json.Unmarshal(b, &errs); err != nil || len(errs) != 1 {
		v.t.Fatalf("error body %s: %v", b, err)
	}
	return errs[0]
}

func (v *queryEnv) seed(object string, recs ...map[string]any) []string {
	v.t.Helper()
	ids, err := v.e.Seed(object, recs)
	if err != nil {
		v.t.Fatal(err)
	}
	return ids
}

func lastNames(p queryPage) string {
	var out []string
	for _, r := range p.Records {
		out = append(out, fmt.Sprint(r["LastName"]))
	}
	return strings.Join(out, ",")
}

func seedQueryLeads(v *queryEnv) []string {
	return v.seed("Lead",
		map[string]any{"LastName": "Smith", "Company": "Acme", "Email": "smith@acme.com", "NumberOfEmployees": 10, "AnnualRevenue": 1000},
		map[string]any{"LastName": "O'Brien \\ Co", "Company": "100% Pure", "Email": "ob@pure.io", "NumberOfEmployees": 250},
		map[string]any{"LastName": "Zed", "Company": "Under_score", "NumberOfEmployees": 5},
		map[string]any{"LastName": "adams", "Company": "Tab\tCorp"},
	)
}

func TestQueryOperatorsOverHTTP(t *testing.T) {
	v := newQueryEnv(t)
	seedQueryLeads(v)
	tests := []struct{ where, want string }{
		{"LastName = 'smith'", "Smith"},
		{"LastName != 'SMITH'", "O'Brien \\ Co,Zed,adams"},
		{"LastName <> 'SMITH'", "O'Brien \\ Co,Zed,adams"},
		{"LastName = 'O\\'Brien \\\\ Co'", "O'Brien \\ Co"},
		{"Company = 'Tab\\tCorp'", "adams"},
		{"Company = 'T\\u0061b\\tCorp'", "adams"},
		{"Email = null", "Zed,adams"},
		{"Email != null", "Smith,O'Brien \\ Co"},
		{"NumberOfEmployees > 5", "Smith,O'Brien \\ Co"},
		{"NumberOfEmployees >= 5", "Smith,O'Brien \\ Co,Zed"},
		{"NumberOfEmployees < 10", "Zed"},
		{"NumberOfEmployees <= 10", "Smith,Zed"},
		{"AnnualRevenue = 1000", "Smith"},
		{"LastName LIKE 's%'", "Smith"},
		{"LastName LIKE '_ed'", "Zed"},
		{"Company LIKE '100\\%%'", "O'Brien \\ Co"},
		{"Company LIKE '%\\_%'", "Zed"},
		{"LastName IN ('zed', 'ADAMS')", "Zed,adams"},
		{"LastName NOT IN ('zed', 'ADAMS')", "Smith,O'Brien \\ Co"},
		{"NumberOfEmployees IN (5, 10)", "Smith,Zed"},
		{"IsConverted = false AND (LastName = 'Zed' OR Email LIKE '%acme%')", "Smith,Zed"},
		{"NOT (LastName = 'Zed' OR LastName = 'adams')", "Smith,O'Brien \\ Co"},
		{"CreatedDate = TODAY", "Smith,O'Brien \\ Co,Zed,adams"},
		{"CreatedDate < 2000-01-01T00:00:00Z", ""},
		{"CreatedDate > 2000-01-01T00:00:00+05:00", "Smith,O'Brien \\ Co,Zed,adams"},
		{"CreatedDate = LAST_N_DAYS:3 AND CreatedDate != YESTERDAY", "Smith,O'Brien \\ Co,Zed,adams"},
	}
	for _, tt := range tests {
		p := v.query("query", "SELECT Id, LastName FROM Lead WHERE "+tt.where)
		if got := lastNames(p); got != tt.want {
			t.Errorf("WHERE %s: got %q, want %q", tt.where, got, tt.want)
		}
		if p.TotalSize != len(p.Records) || !p.Done || p.NextRecordsURL != nil {
			t.Errorf("WHERE %s: page %+v", tt.where, p)
		}
	}
}

func TestQueryRecordShape(t *testing.T) {
	v := newQueryEnv(t)
	ids := seedQueryLeads(v)
	st, b := v.get("/services/data/v60.0/query?q=" + url.QueryEscape("SELECT Email, Id, Owner.Name, NumberOfEmployees, Owner.Email, AnnualRevenue FROM Lead WHERE LastName = 'Smith'"))
	if st != 200 {
		t.Fatalf("%d %s", st, b)
	}
	// Keys in SELECT order, parent fields nested once with their attributes.
	want := fmt.Sprintf(`{"totalSize":1,"done":true,"records":[{"attributes":{"type":"Lead","url":"/services/data/v60.0/sobjects/Lead/%s"},"Email":"smith@acme.com","Id":"%s","Owner":{"attributes":{"type":"User","url":"/services/data/v60.0/sobjects/User/%s"},"Name":"Admin User","Email":`,
		ids[0], ids[0], v.e.org.adminID)
	if !strings.HasPrefix(string(b), want) {
		t.Errorf("body\n%s\nwant prefix\n%s", b, want)
	}
	if !strings.Contains(string(b), `"NumberOfEmployees":10,`) || !strings.Contains(string(b), `"AnnualRevenue":1000.0}`) {
		t.Errorf("numbers: %s", b)
	}

	// An empty reference renders the relationship as null.
	v.seed("Contact", map[string]any{"LastName": "Loner"})
	p := v.query("query", "SELECT Id, Account.Name FROM Contact")
	if len(p.Records) != 1 || p.Records[0]["Account"] != nil {
		t.Errorf("Account of a private contact: %+v", p.Records)
	} else if _, ok := p.Records[0]["Account"]; !ok {
		t.Errorf("Account key missing: %+v", p.Records[0])
	}
	acct := v.seed("Account", map[string]any{"Name": "Acme Inc"})
	v.seed("Contact", map[string]any{"LastName": "Joined", "AccountId": acct[0]})
	p = v.query("query", "SELECT account.name FROM Contact WHERE Account.Name = 'ACME INC'")
	if len(p.Records) != 1 {
		t.Fatalf("records %+v", p.Records)
	}
	nested, _ := p.Records[0]["Account"].(map[string]any)
	if nested["Name"] != "Acme Inc" || nested["attributes"].(map[string]any)["type"] != "Account" {
		t.Errorf("nested Account = %+v", nested)
	}
}

func TestQueryOrderNulls(t *testing.T) {
	v := newQueryEnv(t)
	seedQueryLeads(v)
	tests := []struct{ order, want string }{
		{"Email", "Zed,adams,O'Brien \\ Co,Smith"},
		{"Email DESC", "Smith,O'Brien \\ Co,Zed,adams"},
		{"Email NULLS LAST, LastName DESC", "O'Brien \\ Co,Smith,Zed,adams"},
		{"Email DESC NULLS FIRST, LastName", "adams,Zed,Smith,O'Brien \\ Co"},
		{"NumberOfEmployees DESC", "O'Brien \\ Co,Smith,Zed,adams"},
		{"LastName LIMIT 2", "adams,O'Brien \\ Co"},
		{"LastName LIMIT 2 OFFSET 2", "Smith,Zed"},
	}
	for _, tt := range tests {
		if got := lastNames(v.query("query", "SELECT LastName FROM Lead ORDER BY "+tt.order)); got != tt.want {
			t.Errorf("ORDER BY %s: got %q, want %q", tt.order, got, tt.want)
		}
	}
}

var nextURLRE = regexp.MustCompile(`^/services/data/v65\.0/query/01g[0-9A-Za-z]{15}-(\d+)$`)

func TestQueryPaging(t *testing.T) {
	v := newQueryEnv(t)
	recs := make([]map[string]any, 450)
	for i := range recs {
		recs[i] = map[string]any{"LastName": fmt.Sprintf("L%04d", i), "Company": "C"}
	}
	ids := v.seed("Lead", recs...)
	for _, resource := range []string{"query", "queryAll"} {
		p := v.query(resource, "SELECT Id FROM Lead ORDER BY LastName", "Sforce-Query-Options", "batchSize=200")
		var got []string
		var sizes []int
		for pages := 1; ; pages++ {
			if p.TotalSize != 450 {
				t.Fatalf("totalSize %d", p.TotalSize)
			}
			sizes = append(sizes, len(p.Records))
			for _, r := range p.Records {
				got = append(got, r["Id"].(string))
			}
			if p.Done {
				if p.NextRecordsURL != nil {
					t.Errorf("done page has nextRecordsUrl %q", *p.NextRecordsURL)
				}
				break
			}
			if p.NextRecordsURL == nil || !nextURLRE.MatchString(*p.NextRecordsURL) {
				t.Fatalf("nextRecordsUrl = %v", p.NextRecordsURL)
			}
			if m := nextURLRE.FindStringSubmatch(*p.NextRecordsURL); m[1] != fmt.Sprint(len(got)) {
				t.Errorf("locator offset %s after %d records", m[1], len(got))
			}
			st, b := v.get(*p.NextRecordsURL)
			if st != 200 {
				t.Fatalf("next page: %d %s", st, b)
			}
			p = queryPage{}
			if err := json.Unmarshal(b, &p); err != nil {
				t.Fatal(err)
			}
		}
		if !slices.Equal(sizes, []int{200, 200, 50}) {
			t.Errorf("%s page sizes %v", resource, sizes)
		}
		if !slices.Equal(got, ids) {
			t.Errorf("%s: paged Ids differ from inserted order", resource)
		}
	}
	// Default batch is 2000; out-of-range sizes are clamped to 200..2000.
	if p := v.query("query", "SELECT Id FROM Lead"); len(p.Records) != 450 || !p.Done {
		t.Errorf("default batch: %d records, done=%v", len(p.Records), p.Done)
	}
	if p := v.query("query", "SELECT Id FROM Lead", "Sforce-Query-Options", "batchSize=5"); len(p.Records) != 200 {
		t.Errorf("batchSize=5 gave %d records", len(p.Records))
	}
	// Unknown or malformed locators.
	for _, path := range []string{"/services/data/v65.0/query/01gXXXXXXXXXXXXXXX-200", "/services/data/v65.0/query/nonsense"} {
		if st, b := v.get(path); st != 400 || !strings.Contains(string(b), `"INVALID_QUERY_LOCATOR"`) {
			t.Errorf("%s: %d %s", path, st, b)
		}
	}
}

func TestQueryCursorExpires(t *testing.T) {
	now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	e, err := New(Config{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	v := &queryEnv{t: t, e: e}
	e.mu.Lock()
	s := e.newSessionLocked("forcesync-demo", e.org.adminID, DefaultUsername, []string{"api"}, "")
	e.mu.Unlock()
	v.token = s.Token
	v.srv = httptest.NewServer(e)
	defer v.srv.Close()
	recs := make([]map[string]any, 201)
	for i := range recs {
		recs[i] = map[string]any{"LastName": "L", "Company": "C"}
	}
	v.seed("Lead", recs...)
	p := v.query("query", "SELECT Id FROM Lead", "Sforce-Query-Options", "batchSize=200")
	if p.NextRecordsURL == nil {
		t.Fatal("no nextRecordsUrl")
	}
	now = now.Add(cursorLifetime + time.Second)
	if st, b := v.get(*p.NextRecordsURL); st != 400 || !strings.Contains(string(b), "INVALID_QUERY_LOCATOR") {
		t.Errorf("expired cursor: %d %s", st, b)
	}
}

func TestQueryAllAfterDelete(t *testing.T) {
	v := newQueryEnv(t)
	ids := seedQueryLeads(v)
	req, _ := http.NewRequest("DELETE", v.srv.URL+"/services/data/v65.0/sobjects/Lead/"+ids[1], nil)
	req.Header.Set("Authorization", "Bearer "+v.token)
	resp, err := v.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 204 {
		t.Fatalf("delete: %d", resp.StatusCode)
	}
	q := "SELECT Id, LastName, IsDeleted FROM Lead ORDER BY LastName"
	if p := v.query("query", q); p.TotalSize != 3 || strings.Contains(lastNames(p), "Brien") {
		t.Errorf("query after delete: %d %s", p.TotalSize, lastNames(p))
	}
	p := v.query("queryAll", q)
	if p.TotalSize != 4 {
		t.Fatalf("queryAll: %d", p.TotalSize)
	}
	for _, r := range p.Records {
		if want := r["Id"] == ids[1]; r["IsDeleted"] != want {
			t.Errorf("queryAll %s IsDeleted = %v", r["LastName"], r["IsDeleted"])
		}
	}
	if p := v.query("queryAll", "SELECT Id FROM Lead WHERE IsDeleted = true"); len(p.Records) != 1 || p.Records[0]["Id"] != ids[1] {
		t.Errorf("queryAll IsDeleted = true: %+v", p.Records)
	}
	if p := v.query("query", "SELECT COUNT() FROM Lead"); p.TotalSize != 3 {
		t.Errorf("COUNT() = %d", p.TotalSize)
	}
}

func TestQueryCount(t *testing.T) {
	v := newQueryEnv(t)
	seedQueryLeads(v)
	st, b := v.get("/services/data/v65.0/query?q=" + url.QueryEscape("select count() from lead where NumberOfEmployees > 5"))
	if st != 200 || string(b) != `{"totalSize":2,"done":true,"records":[]}`+"\n" {
		t.Errorf("COUNT(): %d %s", st, b)
	}
	st, b = v.get("/services/data/v65.0/query?q=" + url.QueryEscape("SELECT COUNT(Id), COUNT(Email) mails FROM Lead"))
	if want := `{"totalSize":1,"done":true,"records":[{"attributes":{"type":"AggregateResult"},"expr0":4,"mails":2}]}` + "\n"; st != 200 || string(b) != want {
		t.Errorf("COUNT(Id): %d %s", st, b)
	}
}

func TestQueryErrors(t *testing.T) {
	v := newQueryEnv(t)
	tests := []struct{ q, code, msg string }{
		{"SELECT Id, FROM Lead", "MALFORMED_QUERY", "\nSELECT Id, FROM Lead\n           ^\nERROR at Row:1:Column:12\nunexpected token: 'FROM'"},
		{"SELECT Id FROM ScratchOrgInfo", "INVALID_TYPE", "\nSELECT Id FROM ScratchOrgInfo\n               ^\nERROR at Row:1:Column:16\nsObject type 'ScratchOrgInfo' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names."},
		{"SELECT Id, Foo FROM Lead", "INVALID_FIELD", "\nSELECT Id, Foo FROM Lead\n           ^\nERROR at Row:1:Column:12\nNo such column 'Foo' on entity 'Lead'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names."},
		{"SELECT Id FROM Lead WHERE CreatedDate > 2024-01-01", "INVALID_FIELD", "\nSELECT Id FROM Lead WHERE CreatedDate > 2024-01-01\n                                        ^\nERROR at Row:1:Column:41\nvalue of filter criterion for field 'CreatedDate' must be of type dateTime and should not be enclosed in quotes"},
		{"SELECT Id FROM Lead WHERE LastName = 'x\\y'", "MALFORMED_QUERY", ""},
		{"SELECT Id FROM Lead WHERE Id = 'bogus'", "INVALID_QUERY_FILTER_OPERATOR", ""},
		{"SELECT Id FROM Lead WHERE LastName = 'a' AND Company = 'b' OR Email = null", "MALFORMED_QUERY", ""},
	}
	for _, tt := range tests {
		got := v.queryErr(tt.q)
		if _, has := got["fields"]; has {
			t.Errorf("%q: error has a fields key: %v", tt.q, got)
		}
		if got["errorCode"] != tt.code || tt.msg != "" && got["message"] != tt.msg {
			t.Errorf("%q:\ngot  %s %q\nwant %s %q", tt.q, got["errorCode"], got["message"], tt.code, tt.msg)
		}
	}
	if st, b := v.get("/services/data/v65.0/query"); st != 400 || !strings.Contains(string(b), "MALFORMED_QUERY") {
		t.Errorf("no q: %d %s", st, b)
	}
	// Unauthenticated calls are refused before the query runs.
	resp, err := http.Get(v.srv.URL + "/services/data/v65.0/query?q=SELECT+Id+FROM+Lead")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("no token: %d", resp.StatusCode)
	}
}

func TestQueryColumns(t *testing.T) {
	v := newQueryEnv(t)
	st, b := v.get("/services/data/v65.0/query?columns=true&q=" + url.QueryEscape("SELECT Id, LastName, Owner.Name, IsConverted, NumberOfEmployees FROM Lead"))
	if st != 200 {
		t.Fatalf("%d %s", st, b)
	}
	var got struct {
		ColumnMetadata []map[string]any `json:"columnMetadata"`
		EntityName     string           `json:"entityName"`
		GroupBy        bool             `json:"groupBy"`
		IDSelected     bool             `json:"idSelected"`
		KeyPrefix      string           `json:"keyPrefix"`
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if got.EntityName != "Lead" || got.KeyPrefix != "00Q" || !got.IDSelected || got.GroupBy || len(got.ColumnMetadata) != 5 {
		t.Fatalf("columns: %s", b)
	}
	keys := []string{"aggregate", "apexType", "booleanType", "columnName", "custom", "displayName", "foreignKeyName", "insertable", "joinColumns", "numberType", "textType", "updatable"}
	for _, c := range got.ColumnMetadata {
		var have []string
		for k := range c {
			have = append(have, k)
		}
		slices.Sort(have)
		if !slices.Equal(have, keys) {
			t.Errorf("column keys %v", have)
		}
	}
	id, last, owner, conv, num := got.ColumnMetadata[0], got.ColumnMetadata[1], got.ColumnMetadata[2], got.ColumnMetadata[3], got.ColumnMetadata[4]
	if id["apexType"] != "Id" || id["textType"] != false || id["insertable"] != false {
		t.Errorf("Id column %v", id)
	}
	if last["apexType"] != "String" || last["textType"] != true || last["insertable"] != true || last["updatable"] != true {
		t.Errorf("LastName column %v", last)
	}
	if owner["columnName"] != "Owner" || owner["foreignKeyName"] != "OwnerId" || owner["apexType"] != nil {
		t.Errorf("Owner column %v", owner)
	}
	if jc, _ := owner["joinColumns"].([]any); len(jc) != 1 || jc[0].(map[string]any)["columnName"] != "Name" {
		t.Errorf("Owner joinColumns %v", owner["joinColumns"])
	}
	if conv["booleanType"] != true || conv["apexType"] != "Boolean" || num["numberType"] != true || num["apexType"] != "Integer" {
		t.Errorf("typed columns %v %v", conv, num)
	}
	if got := v.e.Stats()[KindQuery]; got != 1 {
		t.Errorf("KindQuery count = %d", got)
	}
}

func TestRunQueryLockedForBulk(t *testing.T) {
	v := newQueryEnv(t)
	seedQueryLeads(v)
	v.e.mu.RLock()
	defer v.e.mu.RUnlock()
	cols, rows, qerr := v.e.runQueryLocked("SELECT LastName, Owner.Name, NumberOfEmployees, AnnualRevenue, IsConverted, CreatedDate FROM Lead WHERE NumberOfEmployees > 5 ORDER BY LastName", false)
	if qerr != nil {
		t.Fatal(qerr)
	}
	if want := []string{"LastName", "Owner.Name", "NumberOfEmployees", "AnnualRevenue", "IsConverted", "CreatedDate"}; !slices.Equal(cols, want) {
		t.Errorf("cols %v", cols)
	}
	var got [][]string
	for r := range rows {
		got = append(got, r)
	}
	if len(got) != 2 || got[0][0] != "O'Brien \\ Co" || got[0][1] != "Admin User" || got[0][2] != "250" || got[0][3] != "" ||
		got[0][4] != "false" || !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`).MatchString(got[0][5]) || got[1][3] != "1000.0" {
		t.Errorf("rows %q", got)
	}
	if _, _, qerr := v.e.runQueryLocked("SELECT COUNT() FROM Lead", false); qerr == nil || qerr.Code != "MALFORMED_QUERY" {
		t.Errorf("COUNT() for bulk: %v", qerr)
	}
	if _, _, qerr := v.e.runQueryLocked("SELECT Id FROM Nope", false); qerr == nil || qerr.Code != "INVALID_TYPE" {
		t.Errorf("unknown object: %v", qerr)
	}
}
