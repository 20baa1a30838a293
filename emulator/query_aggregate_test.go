package emulator

import (
	"encoding/json"
	"net/url"
	"testing"
)

// queryJSON runs a SOQL query over HTTP and decodes the page.
func (v *apiEnv) queryJSON(q string) (int, map[string]any) {
	v.t.Helper()
	st, _, body := v.do("GET", "query?q="+url.QueryEscape(q), nil)
	var out map[string]any
	if err := json.Unmarshal(body, &out); err != nil {
		var arr []any
		if json.Unmarshal(body, &arr) == nil {
			return st, map[string]any{"error": arr}
		}
		v.t.Fatalf("%s: %d %s", q, st, body)
	}
	return st, out
}

func seedAggLeads(t *testing.T, v *apiEnv) {
	t.Helper()
	recs := []map[string]any{
		{"LastName": "A", "Company": "X", "LeadSource": "Web", "AnnualRevenue": 100, "Email": "a@x.com"},
		{"LastName": "B", "Company": "X", "LeadSource": "Web", "AnnualRevenue": 300, "Email": "A@x.com"},
		{"LastName": "C", "Company": "Y", "LeadSource": "Web", "Email": "c@x.com"},
		{"LastName": "D", "Company": "Y", "LeadSource": "Phone Inquiry", "AnnualRevenue": 50},
		{"LastName": "E", "Company": "Z"},
	}
	if _, err := v.e.Seed("Lead", recs); err != nil {
		t.Fatal(err)
	}
}

// Issue 14 item 6: aggregate functions, GROUP BY, HAVING, aliases.
func TestSOQLAggregates(t *testing.T) {
	v := newAPIEnv(t, Config{})
	seedAggLeads(t, v)
	st, page := v.queryJSON("SELECT COUNT(Id), COUNT(AnnualRevenue) n, COUNT_DISTINCT(Email), SUM(AnnualRevenue), MIN(AnnualRevenue), MAX(LastName), AVG(AnnualRevenue) FROM Lead")
	if st != 200 || page["totalSize"] != 1.0 {
		t.Fatalf("no GROUP BY: %d %v", st, page)
	}
	r := page["records"].([]any)[0].(map[string]any)
	want := map[string]any{"expr0": 5.0, "n": 3.0, "expr1": 2.0, "expr2": 450.0, "expr3": 50.0, "expr4": "E", "expr5": 150.0}
	for k, w := range want {
		if r[k] != w {
			t.Errorf("%s = %v, want %v (%v)", k, r[k], w, r)
		}
	}
	if r["attributes"].(map[string]any)["type"] != "AggregateResult" {
		t.Errorf("attributes %v", r["attributes"])
	}
	st, page = v.queryJSON("SELECT LeadSource, COUNT(Id) total, SUM(AnnualRevenue) FROM Lead WHERE Company != 'Z' GROUP BY LeadSource HAVING COUNT(Id) > 1 ORDER BY COUNT(Id) DESC")
	if st != 200 || page["totalSize"] != 1.0 {
		t.Fatalf("GROUP BY/HAVING: %d %v", st, page)
	}
	r = page["records"].([]any)[0].(map[string]any)
	if r["LeadSource"] != "Web" || r["total"] != 3.0 || r["expr0"] != 400.0 {
		t.Fatalf("group row %v", r)
	}
	// Groups ordered by a grouped field; a null group; SUM over no values is null.
	st, page = v.queryJSON("SELECT LeadSource, COUNT(Id), SUM(AnnualRevenue) s FROM Lead GROUP BY LeadSource ORDER BY LeadSource NULLS LAST")
	if st != 200 || page["totalSize"] != 3.0 {
		t.Fatalf("3 groups: %d %v", st, page)
	}
	recs := page["records"].([]any)
	if recs[0].(map[string]any)["LeadSource"] != "Phone Inquiry" || recs[2].(map[string]any)["LeadSource"] != nil || recs[2].(map[string]any)["s"] != nil {
		t.Fatalf("ordered groups %v", recs)
	}
	// A grouped parent field is named by its own name; HAVING on it.
	st, page = v.queryJSON("SELECT Owner.Name, COUNT(Id) FROM Lead GROUP BY Owner.Name HAVING Owner.Name != null")
	if st != 200 || page["totalSize"] != 1.0 || page["records"].([]any)[0].(map[string]any)["Name"] != "Admin User" {
		t.Fatalf("grouped parent: %d %v", st, page)
	}
	for _, bad := range []string{
		"SELECT LastName, COUNT(Id) FROM Lead GROUP BY LeadSource",
		"SELECT LeadSource FROM Lead WHERE COUNT(Id) > 1 GROUP BY LeadSource",
		"SELECT SUM(LastName) FROM Lead",
		"SELECT LeadSource, COUNT(Id) FROM Lead GROUP BY LeadSource ORDER BY LastName",
		"SELECT COUNT(Id) FROM Lead HAVING COUNT(Id) > 1",
	} {
		if st, page := v.queryJSON(bad); st != 400 {
			t.Errorf("%s: %d %v, want 400", bad, st, page)
		}
	}
	// columns=true marks aggregates and the GROUP BY.
	var cols queryColumnsResponse
	if st := v.doJSON("GET", "query?columns=true&q="+url.QueryEscape("SELECT LeadSource, MAX(CreatedDate) latest FROM Lead GROUP BY LeadSource"), nil, &cols); st != 200 || !cols.GroupBy || len(cols.ColumnMetadata) != 2 || cols.ColumnMetadata[1].DisplayName != "MAX(CreatedDate)" || cols.ColumnMetadata[1].ColumnName != "latest" {
		t.Fatalf("columns: %d %+v", st, cols)
	}
}

// Subqueries, two-level parent paths, WITH SECURITY_ENFORCED and FOR UPDATE.
func TestSOQLRelationshipQueries(t *testing.T) {
	v := newAPIEnv(t, Config{})
	acct, err := v.e.Seed("Account", []map[string]any{{"Name": "Acme"}, {"Name": "Empty Inc"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.e.Seed("Contact", []map[string]any{
		{"LastName": "Zed", "AccountId": acct[0], "Email": "z@acme.test"},
		{"LastName": "Amy", "AccountId": acct[0]},
		{"LastName": "Orphan"},
	}); err != nil {
		t.Fatal(err)
	}
	st, page := v.queryJSON("SELECT Name, (SELECT LastName FROM Contacts ORDER BY LastName) FROM Account ORDER BY Name WITH SECURITY_ENFORCED")
	if st == 200 {
		t.Fatalf("WITH after ORDER BY accepted: %v", page)
	}
	st, page = v.queryJSON("SELECT Name, (SELECT LastName FROM Contacts ORDER BY LastName) FROM Account WITH SECURITY_ENFORCED ORDER BY Name")
	if st != 200 || page["totalSize"] != 2.0 {
		t.Fatalf("subquery: %d %v", st, page)
	}
	recs := page["records"].([]any)
	acme := recs[0].(map[string]any)
	kids, ok := acme["Contacts"].(map[string]any)
	if !ok || kids["totalSize"] != 2.0 || kids["done"] != true {
		t.Fatalf("Contacts of Acme: %v", acme)
	}
	first := kids["records"].([]any)[0].(map[string]any)
	if first["LastName"] != "Amy" || first["attributes"].(map[string]any)["type"] != "Contact" {
		t.Fatalf("first child %v", first)
	}
	if empty := recs[1].(map[string]any); empty["Contacts"] != nil {
		t.Fatalf("no children should be null: %v", empty)
	}
	// A filtered, limited subquery.
	st, page = v.queryJSON("SELECT Id, (SELECT Id FROM Contacts WHERE Email != null LIMIT 5) FROM Account WHERE Name = 'Acme' FOR UPDATE")
	if st != 200 || page["records"].([]any)[0].(map[string]any)["Contacts"].(map[string]any)["totalSize"] != 1.0 {
		t.Fatalf("filtered subquery: %d %v", st, page)
	}
	// Two levels up: Contact -> Account -> Owner.
	st, page = v.queryJSON("SELECT LastName, Account.Name, Account.Owner.Name FROM Contact WHERE Account.Owner.Name = 'Admin User' ORDER BY LastName")
	if st != 200 || page["totalSize"] != 2.0 {
		t.Fatalf("two-level path: %d %v", st, page)
	}
	r := page["records"].([]any)[0].(map[string]any)
	a := r["Account"].(map[string]any)
	if a["Name"] != "Acme" || a["Owner"].(map[string]any)["Name"] != "Admin User" || a["Owner"].(map[string]any)["attributes"].(map[string]any)["type"] != "User" {
		t.Fatalf("nested parents %v", r)
	}
	// A broken chain renders null at the break.
	st, page = v.queryJSON("SELECT LastName, Account.Owner.Name FROM Contact WHERE LastName = 'Orphan'")
	if st != 200 || page["records"].([]any)[0].(map[string]any)["Account"] != nil {
		t.Fatalf("orphan: %d %v", st, page)
	}
	for _, bad := range []string{
		"SELECT Id, (SELECT Id FROM Nope) FROM Account",
		"SELECT Account.Owner.Nope FROM Contact",
		"SELECT Id FROM Contact FOR DELETE",
	} {
		if st, page := v.queryJSON(bad); st != 400 {
			t.Errorf("%s: %d %v", bad, st, page)
		}
	}
}
