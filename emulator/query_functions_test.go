package emulator

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"
)

// SOQL field functions over REST, as simple-salesforce and jsforce users
// write them: date functions, toLabel(), FORMAT(), TYPEOF, and the errors
// for misuse (SOQL reference, "SOQL SELECT Functions").

// fnServer is an org whose clock the test moves, with a Lead custom
// double field for FORMAT().
func fnServer(t *testing.T) (*coreServer, func(time.Time)) {
	t.Helper()
	var mu = make(chan struct{}, 1)
	now := time.Date(2023, 12, 1, 10, 0, 0, 0, time.UTC)
	clock := func() time.Time {
		mu <- struct{}{}
		defer func() { <-mu }()
		return now
	}
	s := newCoreServer(t, Config{Now: clock, SessionTimeout: 10 * 365 * 24 * time.Hour, Objects: []ObjectConfig{{Name: "Lead", Fields: []FieldConfig{
		{Name: "Score__c", Type: "double", Precision: 18, Scale: 2},
	}}}})
	return s, func(t time.Time) { mu <- struct{}{}; now = t; <-mu }
}

// query runs q and returns the records, failing the test on an error answer.
func (s *coreServer) query(t *testing.T, q string) []map[string]any {
	t.Helper()
	r := s.do(t, "GET", "/services/data/v62.0/query?q="+url.QueryEscape(q), nil)
	wantStatus(t, r, 200)
	var page struct {
		Records []map[string]any `json:"records"`
	}
	if err := json.Unmarshal(r.body, &page); err != nil {
		t.Fatal(err)
	}
	return page.Records
}

func TestQueryDateFunctions(t *testing.T) {
	s, setNow := fnServer(t)
	lead := func(at time.Time, name string) {
		setNow(at)
		wantStatus(t, s.do(t, "POST", "/services/data/v62.0/sobjects/Lead", map[string]any{"LastName": name, "Company": "Acme"}), 201)
	}
	// In time order: the emulator never lets a stamp go back.
	lead(time.Date(2023, 12, 31, 23, 30, 0, 0, time.UTC), "A") // Sunday; Dec 31 15:30 in Los Angeles
	lead(time.Date(2024, 2, 10, 12, 0, 0, 0, time.UTC), "C")   // Saturday
	lead(time.Date(2024, 2, 29, 7, 0, 0, 0, time.UTC), "B")    // Thursday; Feb 28 23:00 in Los Angeles
	names := func(q string) string {
		var out []string
		for _, r := range s.query(t, q) {
			out = append(out, r["LastName"].(string))
		}
		return strings.Join(out, ",")
	}
	for _, tt := range []struct{ where, want string }{
		{"CALENDAR_YEAR(CreatedDate) = 2024", "B,C"},
		{"CALENDAR_YEAR(CreatedDate) < 2024", "A"},
		{"CALENDAR_MONTH(CreatedDate) = 2 AND DAY_IN_MONTH(CreatedDate) > 20", "B"},
		{"CALENDAR_QUARTER(CreatedDate) = 4", "A"},
		{"FISCAL_YEAR(CreatedDate) = 2023", "A"},
		{"DAY_IN_WEEK(CreatedDate) IN (1, 7)", "A,C"},
		{"DAY_IN_YEAR(CreatedDate) = 60", "B"},
		{"DAY_ONLY(CreatedDate) = 2024-02-10", "C"},
		{"DAY_ONLY(CreatedDate) > 2024-01-01", "B,C"},
		{"HOUR_IN_DAY(CreatedDate) = 7", "B"},
		{"WEEK_IN_MONTH(CreatedDate) = 2", "C"},
		{"WEEK_IN_YEAR(CreatedDate) = 53", "A"},
		{"HOUR_IN_DAY(convertTimezone(CreatedDate)) = 23", "B"},
		{"CALENDAR_MONTH(convertTimezone(CreatedDate)) = 2", "B,C"},
	} {
		if got := names("SELECT LastName FROM Lead WHERE " + tt.where + " ORDER BY LastName"); got != tt.want {
			t.Errorf("WHERE %s: %q, want %q", tt.where, got, tt.want)
		}
	}
	// Ordering by a date function.
	if got := names("SELECT LastName FROM Lead ORDER BY DAY_IN_MONTH(CreatedDate) DESC"); got != "A,B,C" {
		t.Errorf("ORDER BY DAY_IN_MONTH DESC: %q", got)
	}
	// GROUP BY a date function: unaliased expressions are expr0, expr1, ...
	r := s.do(t, "GET", "/services/data/v62.0/query?q="+url.QueryEscape("SELECT CALENDAR_YEAR(CreatedDate), CALENDAR_MONTH(CreatedDate) m, COUNT(Id) FROM Lead "+
		"GROUP BY CALENDAR_YEAR(CreatedDate), CALENDAR_MONTH(CreatedDate) ORDER BY CALENDAR_YEAR(CreatedDate) DESC"), nil)
	want := `"records":[{"attributes":{"type":"AggregateResult"},"expr0":2024,"m":2,"expr1":2},{"attributes":{"type":"AggregateResult"},"expr0":2023,"m":12,"expr1":1}]`
	if !strings.Contains(string(r.body), want) {
		t.Errorf("GROUP BY date functions:\n got %s\nwant %s", r.body, want)
	}
	r = s.do(t, "GET", "/services/data/v62.0/query?columns=true&q="+url.QueryEscape("SELECT CALENDAR_YEAR(CreatedDate) y, COUNT(Id) FROM Lead GROUP BY CALENDAR_YEAR(CreatedDate)"), nil)
	if !strings.Contains(string(r.body), `"columnName":"y","custom":false,"displayName":"CALENDAR_YEAR(CreatedDate)"`) {
		t.Errorf("columns=true of a date function: %s", r.body)
	}
	recs := s.query(t, "SELECT DAY_ONLY(CreatedDate) d, COUNT(Id) n FROM Lead GROUP BY DAY_ONLY(CreatedDate) HAVING COUNT(Id) > 0 ORDER BY DAY_ONLY(CreatedDate)")
	if len(recs) != 3 || recs[0]["d"] != "2023-12-31" || recs[2]["d"] != "2024-02-29" {
		t.Errorf("GROUP BY DAY_ONLY: %v", recs)
	}
}

func TestQueryToLabelAndFormat(t *testing.T) {
	s, setNow := fnServer(t)
	setNow(time.Date(2024, 3, 5, 17, 4, 0, 0, time.UTC))
	wantStatus(t, s.do(t, "POST", "/services/data/v62.0/sobjects/Lead", map[string]any{
		"LastName": "Ng", "Company": "Acme", "Status": "Working - Contacted", "Score__c": 1234567.5, "AnnualRevenue": -2500}), 201)
	recs := s.query(t, "SELECT toLabel(Status), FORMAT(Score__c) score, FORMAT(AnnualRevenue), FORMAT(CreatedDate) created FROM Lead")
	got, _ := json.Marshal(recs[0])
	for _, part := range []string{`"Status":"Working - Contacted"`, `"score":"1,234,567.50"`, `"AnnualRevenue":"-$2,500"`, `"created":"3/5/2024, 9:04 AM"`} {
		if !strings.Contains(string(got), part) {
			t.Errorf("record %s lacks %s", got, part)
		}
	}
	// An alias lets the label and the value sit side by side.
	recs = s.query(t, "SELECT Status, toLabel(Status) statusLabel FROM Lead WHERE toLabel(Status) = 'Working - Contacted'")
	if len(recs) != 1 || recs[0]["Status"] != "Working - Contacted" || recs[0]["statusLabel"] != "Working - Contacted" {
		t.Errorf("toLabel with alias: %v", recs)
	}
	// Without one, the same field twice is a duplicate.
	wantError(t, s.do(t, "GET", "/services/data/v62.0/query?q="+url.QueryEscape("SELECT Status, toLabel(Status) FROM Lead"), nil),
		400, "MALFORMED_QUERY", "")
}

func TestQueryTypeOf(t *testing.T) {
	s, _ := fnServer(t)
	wantStatus(t, s.do(t, "POST", "/services/data/v62.0/sobjects/Lead", map[string]any{"LastName": "Ng", "Company": "Acme"}), 201)
	recs := s.query(t, "SELECT LastName, TYPEOF Owner WHEN User THEN Username, LastName WHEN Group THEN Name ELSE Name END FROM Lead")
	owner, ok := recs[0]["Owner"].(map[string]any)
	if !ok {
		t.Fatalf("Owner: %v", recs[0])
	}
	attrs := owner["attributes"].(map[string]any)
	if attrs["type"] != "User" || owner["Username"] != DefaultUsername || owner["LastName"] != "User" || owner["Name"] != nil {
		t.Errorf("TYPEOF Owner: %v", owner)
	}
	// A type no WHEN names takes the ELSE fields.
	recs = s.query(t, "SELECT TYPEOF Owner WHEN Group THEN Name ELSE Email END FROM Lead")
	if owner := recs[0]["Owner"].(map[string]any); owner["Email"] != DefaultUsername {
		t.Errorf("TYPEOF ELSE: %v", owner)
	}
}

// Functions where Salesforce does not take them answer 400 with the query
// error shape (the code; texts UNCONFIRMED).
func TestQueryFunctionErrors(t *testing.T) {
	s, _ := fnServer(t)
	for _, tt := range []struct{ q, code string }{
		{"SELECT CALENDAR_YEAR(CreatedDate) FROM Lead", "MALFORMED_QUERY"},
		{"SELECT CALENDAR_YEAR(CreatedDate), COUNT(Id) FROM Lead", "MALFORMED_QUERY"},
		{"SELECT CALENDAR_YEAR(CreatedDate), COUNT(Id) FROM Lead GROUP BY CALENDAR_MONTH(CreatedDate)", "MALFORMED_QUERY"},
		{"SELECT Id FROM Lead WHERE CALENDAR_YEAR(LastName) = 2024", "INVALID_FIELD"},
		{"SELECT Id FROM Lead WHERE HOUR_IN_DAY(ConvertedDate) = 1", "INVALID_FIELD"},
		{"SELECT Id FROM Lead WHERE CALENDAR_YEAR(CreatedDate) = '2024'", "INVALID_FIELD"},
		{"SELECT Id FROM Lead WHERE convertTimezone(CreatedDate) > 2024-01-01T00:00:00Z", "MALFORMED_QUERY"},
		{"SELECT Id FROM Lead WHERE FORMAT(Score__c) = '1'", "MALFORMED_QUERY"},
		{"SELECT convertCurrency(AnnualRevenue) FROM Lead", "MALFORMED_QUERY"},
		{"SELECT toLabel(LastName) FROM Lead", "INVALID_FIELD"},
		{"SELECT FORMAT(LastName) FROM Lead", "INVALID_FIELD"},
		{"SELECT Id FROM Lead GROUP BY toLabel(Status)", "MALFORMED_QUERY"},
		{"SELECT TYPEOF Owner WHEN Account THEN Name END FROM Lead", "INVALID_TYPE"},
		{"SELECT TYPEOF Owner WHEN User THEN Bogus END FROM Lead", "INVALID_FIELD"},
		{"SELECT TYPEOF Owner WHEN User THEN Name FROM Lead", "MALFORMED_QUERY"},
		{"SELECT UPPER(LastName) FROM Lead", "MALFORMED_QUERY"},
	} {
		wantError(t, s.do(t, "GET", "/services/data/v62.0/query?q="+url.QueryEscape(tt.q), nil), 400, tt.code, "")
	}
}

// INCLUDES and EXCLUDES on a multi-select picklist: 'a;b' asks for both
// values, a list for any of its entries; other field types answer
// INVALID_QUERY_FILTER_OPERATOR.
func TestQueryIncludesExcludes(t *testing.T) {
	s := newCoreServer(t, Config{Objects: []ObjectConfig{{Name: "Lead", Fields: []FieldConfig{
		{Name: "Interests__c", Type: "multipicklist", Picklist: []string{"Golf", "Tennis", "Chess"}},
	}}}})
	for name, v := range map[string]any{"A": "Golf;Tennis", "B": "Chess", "C": "Tennis", "D": nil} {
		wantStatus(t, s.do(t, "POST", "/services/data/v62.0/sobjects/Lead", map[string]any{"LastName": name, "Company": "Acme", "Interests__c": v}), 201)
	}
	names := func(where string) string {
		var out []string
		for _, r := range s.query(t, "SELECT LastName FROM Lead WHERE "+where+" ORDER BY LastName") {
			out = append(out, r["LastName"].(string))
		}
		return strings.Join(out, ",")
	}
	for _, tt := range []struct{ where, want string }{
		{"Interests__c INCLUDES ('Tennis')", "A,C"},
		{"Interests__c INCLUDES ('golf;tennis')", "A"},
		{"Interests__c INCLUDES ('Golf;Chess', 'Chess')", "B"},
		{"Interests__c EXCLUDES ('Tennis')", "B,D"},
		{"NOT Interests__c INCLUDES ('Chess') AND Interests__c != null", "A,C"},
	} {
		if got := names(tt.where); got != tt.want {
			t.Errorf("WHERE %s: %q, want %q", tt.where, got, tt.want)
		}
	}
	wantError(t, s.do(t, "GET", "/services/data/v62.0/query?q="+url.QueryEscape("SELECT Id FROM Lead WHERE LastName INCLUDES ('A')"), nil),
		400, "INVALID_QUERY_FILTER_OPERATOR", "")
}

// A Bulk API 2.0 query job refuses TYPEOF at creation (the Bulk 2.0 guide
// lists it among what query jobs do not run).
func TestBulkQueryRefusesTypeOf(t *testing.T) {
	s, _ := fnServer(t)
	r := s.do(t, "POST", "/services/data/v62.0/jobs/query", map[string]any{"operation": "query",
		"query": "SELECT TYPEOF Owner WHEN User THEN Username END FROM Lead"})
	wantError(t, r, 400, "MALFORMED_QUERY", "TYPEOF is not supported by Bulk API query jobs.")
}
