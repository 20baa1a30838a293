package emulator

import (
	"encoding/json"
	"net/url"
	"testing"
)

// Issue 14 item 8: SOSL search and parameterizedSearch.
func TestSOSLSearch(t *testing.T) {
	v := newAPIEnv(t, Config{})
	if _, err := v.e.Seed("Lead", []map[string]any{
		{"LastName": "Lovelace", "FirstName": "Ada", "Company": "Engines", "Email": "ada@engines.test", "Phone": "555-0100"},
		{"LastName": "Hopper", "FirstName": "Grace", "Company": "Navy", "Email": "grace@navy.test"},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := v.e.Seed("Contact", []map[string]any{{"LastName": "Lovelace", "FirstName": "Byron", "Email": "byron@poets.test"}}); err != nil {
		t.Fatal(err)
	}
	search := func(q string) (int, []map[string]any) {
		t.Helper()
		st, _, body := v.do("GET", "search?q="+url.QueryEscape(q), nil)
		var out struct {
			SearchRecords []map[string]any `json:"searchRecords"`
		}
		if st == 200 {
			if err := json.Unmarshal(body, &out); err != nil {
				t.Fatalf("%s: %s", q, body)
			}
		}
		return st, out.SearchRecords
	}
	st, recs := search("FIND {lovelace} IN NAME FIELDS RETURNING Lead(Id, Name, Email), Contact(Name)")
	if st != 200 || len(recs) != 2 || recs[0]["attributes"].(map[string]any)["type"] != "Lead" || recs[0]["Email"] != "ada@engines.test" ||
		recs[1]["attributes"].(map[string]any)["type"] != "Contact" || recs[1]["Name"] != "Byron Lovelace" {
		t.Fatalf("name search: %d %v", st, recs)
	}
	if st, recs = search("FIND {*@navy.test} IN EMAIL FIELDS RETURNING Lead(LastName WHERE Company = 'Navy' LIMIT 5)"); st != 200 || len(recs) != 1 || recs[0]["LastName"] != "Hopper" {
		t.Fatalf("email wildcard: %d %v", st, recs)
	}
	if st, recs = search("FIND {ada OR grace} RETURNING Lead(LastName ORDER BY LastName) LIMIT 1"); st != 200 || len(recs) != 1 || recs[0]["LastName"] != "Hopper" {
		t.Fatalf("OR with overall limit: %d %v", st, recs)
	}
	if st, recs = search("FIND {ada grace}"); st != 200 || len(recs) != 0 {
		t.Fatalf("AND of two records' words: %d %v", st, recs)
	}
	if st, recs = search("FIND {555-0100} IN PHONE FIELDS"); st != 200 || len(recs) != 1 || recs[0]["Id"] == nil {
		t.Fatalf("phone, no RETURNING: %d %v", st, recs)
	}
	for _, bad := range []string{"lovelace", "FIND {a}", "FIND {ada} RETURNING Nope__c", "FIND {ada} RETURNING Lead(Bogus)"} {
		if st, _ := search(bad); st != 400 {
			t.Errorf("%s: %d, want 400", bad, st)
		}
	}
	// parameterizedSearch, GET and POST.
	var out struct {
		SearchRecords []map[string]any `json:"searchRecords"`
	}
	if st := v.doJSON("GET", "parameterizedSearch?q=grace&sobject=Lead&Lead.fields=Id,Email&Lead.limit=10", nil, &out); st != 200 || len(out.SearchRecords) != 1 || out.SearchRecords[0]["Email"] != "grace@navy.test" {
		t.Fatalf("parameterizedSearch GET: %d %v", st, out)
	}
	out.SearchRecords = nil
	if st := v.doJSON("POST", "parameterizedSearch", map[string]any{"q": "lovelace", "fields": []string{"Id", "Name"},
		"sobjects": []any{map[string]any{"name": "Contact"}}, "in": "ALL"}, &out); st != 200 || len(out.SearchRecords) != 1 || out.SearchRecords[0]["Name"] != "Byron Lovelace" {
		t.Fatalf("parameterizedSearch POST: %d %v", st, out)
	}
	// Old versions answer a bare array.
	st, _, body := v.do("GET", "/services/data/v36.0/search?q="+url.QueryEscape("FIND {hopper}"), nil)
	var arr []any
	if st != 200 || json.Unmarshal(body, &arr) != nil || len(arr) != 1 {
		t.Fatalf("v36: %d %s", st, body)
	}
}
