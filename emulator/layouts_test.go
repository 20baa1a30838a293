package emulator

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
)

func decodeMap(t *testing.T, r resp) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("%s: %v", r.body, err)
	}
	return m
}

func hasKeys(t *testing.T, what string, m map[string]any, keys ...string) {
	t.Helper()
	for _, k := range keys {
		if _, ok := m[k]; !ok {
			t.Errorf("%s lacks %q: %v", what, k, m)
		}
	}
}

// The describe sub-resources every describe's urls name answer
// Salesforce's shapes: layouts (and the layout of the Master record type),
// compact layouts, approval layouts, quick actions. An unknown object is
// NOT_FOUND in the error array.
func TestDescribeLayoutsAndActions(t *testing.T) {
	s := newCoreServer(t, Config{})
	const v = "/services/data/v62.0/sobjects/"
	r := s.do(t, "GET", v+"Lead/describe/layouts", nil)
	wantStatus(t, r, 200)
	if r.header.Get("Sforce-Limit-Info") == "" {
		t.Error("layouts without Sforce-Limit-Info")
	}
	m := decodeMap(t, r)
	hasKeys(t, "layouts", m, "layouts", "recordTypeMappings", "recordTypeSelectorRequired")
	layout := m["layouts"].([]any)[0].(map[string]any)
	hasKeys(t, "layout", layout, "buttonLayoutSection", "detailLayoutSections", "editLayoutSections", "feedView",
		"highlightsPanelLayoutSection", "id", "multirowEditLayoutSections", "offlineLinks", "quickActionList",
		"relatedContent", "relatedLists", "saveOptions")
	if id, _ := layout["id"].(string); !strings.HasPrefix(id, "00h") || len(id) != 18 {
		t.Errorf("layout id %v", layout["id"])
	}
	// The edit section holds LastName (required) and not SystemModstamp.
	edit := string(mustJSON(t, layout["editLayoutSections"]))
	if !strings.Contains(edit, `"value":"LastName"`) || strings.Contains(edit, `"value":"SystemModstamp"`) {
		t.Errorf("edit section: %.300s", edit)
	}
	mapping := m["recordTypeMappings"].([]any)[0].(map[string]any)
	if mapping["recordTypeId"] != masterRecordTypeID || mapping["layoutId"] != layout["id"] {
		t.Errorf("record type mapping %v", mapping)
	}
	r = s.do(t, "GET", v+"Lead/describe/layouts/"+masterRecordTypeID, nil)
	wantStatus(t, r, 200)
	if decodeMap(t, r)["id"] != layout["id"] {
		t.Errorf("layout of Master: %.200s", r.body)
	}
	wantError(t, s.do(t, "GET", v+"Lead/describe/layouts/012000000000001AAA", nil), 404, "NOT_FOUND", "")

	r = s.do(t, "GET", v+"Account/describe/compactLayouts", nil)
	wantStatus(t, r, 200)
	m = decodeMap(t, r)
	hasKeys(t, "compactLayouts", m, "compactLayouts", "defaultCompactLayoutId", "recordTypeCompactLayoutMappings")
	if cl := m["compactLayouts"].([]any)[0].(map[string]any); cl["name"] != "SYSTEM" || !strings.Contains(string(mustJSON(t, cl["fieldItems"])), `"value":"Name"`) {
		t.Errorf("compact layout %v", cl)
	}
	r = s.do(t, "GET", v+"Account/describe/compactLayouts/"+masterRecordTypeID, nil)
	wantStatus(t, r, 200)
	if decodeMap(t, r)["name"] != "SYSTEM" {
		t.Errorf("compact layout of Master: %s", r.body)
	}
	r = s.do(t, "GET", v+"Account/describe/approvalLayouts", nil)
	wantStatus(t, r, 200)
	if string(r.body) != `{"approvalLayouts":[]}`+"\n" {
		t.Errorf("approvalLayouts %s", r.body)
	}
	r = s.do(t, "GET", v+"Contact/quickActions", nil)
	wantStatus(t, r, 200)
	if string(r.body) != "[]\n" {
		t.Errorf("quickActions %s", r.body)
	}
	r = s.do(t, "GET", "/services/data/v62.0/quickActions", nil)
	wantStatus(t, r, 200)
	if string(r.body) != "[]\n" {
		t.Errorf("global quickActions %s", r.body)
	}
	wantError(t, s.do(t, "GET", v+"Contact/quickActions/LogACall", nil), 404, "NOT_FOUND", "")
	for _, p := range []string{"Nope__c/describe/layouts", "Nope__c/describe/layouts/" + masterRecordTypeID,
		"Nope__c/describe/compactLayouts", "Nope__c/describe/approvalLayouts", "Nope__c/quickActions", "Nope__c/listviews"} {
		e := wantError(t, s.do(t, "GET", v+p, nil), 404, "NOT_FOUND", "The requested resource does not exist")
		if _, has := e["fields"]; has {
			t.Errorf("%s: NOT_FOUND with fields", p)
		}
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Each object has one list view, All <plural>, listed by .../listviews and
// .../listviews/recent, described with its SOQL, and whose results run
// that query over the org's records with limit and offset.
func TestListViews(t *testing.T) {
	s := newCoreServer(t, Config{})
	const v = "/services/data/v62.0/sobjects/Account/listviews"
	for _, n := range []string{"Charlie", "Alpha", "Bravo"} {
		wantStatus(t, s.do(t, "POST", "/services/data/v62.0/sobjects/Account", map[string]any{"Name": n}), 201)
	}
	var id string
	for _, p := range []string{v, v + "/recent"} {
		r := s.do(t, "GET", p, nil)
		wantStatus(t, r, 200)
		m := decodeMap(t, r)
		hasKeys(t, p, m, "done", "listviews", "nextRecordsUrl", "size", "sobjectType")
		lv := m["listviews"].([]any)[0].(map[string]any)
		id, _ = lv["id"].(string)
		if m["done"] != true || m["size"] != 1.0 || lv["label"] != "All Accounts" || lv["developerName"] != "AllAccounts" ||
			!strings.HasPrefix(id, "00B") || lv["resultsUrl"] != v+"/"+id+"/results" || lv["soqlCompatible"] != true {
			t.Fatalf("%s: %s", p, r.body)
		}
	}
	r := s.do(t, "GET", v+"/"+id, nil)
	wantStatus(t, r, 200)
	if m := decodeMap(t, r); m["id"] != id || m["describeUrl"] != v+"/"+id+"/describe" {
		t.Errorf("basic info: %s", r.body)
	}
	r = s.do(t, "GET", v+"/"+id+"/describe", nil)
	wantStatus(t, r, 200)
	d := decodeMap(t, r)
	hasKeys(t, "describe", d, "columns", "id", "orderBy", "query", "scope", "sobjectType", "whereCondition")
	query, _ := d["query"].(string)
	if !strings.HasPrefix(query, "SELECT Name, Id, CreatedDate") || !strings.HasSuffix(query, "FROM Account ORDER BY Name ASC NULLS FIRST, Id ASC NULLS FIRST") {
		t.Errorf("list view query %q", query)
	}
	// The query is real SOQL: /query runs it.
	wantStatus(t, s.do(t, "GET", "/services/data/v62.0/query?q="+url.QueryEscape(query), nil), 200)

	r = s.do(t, "GET", v+"/"+id+"/results?limit=2&offset=1", nil)
	wantStatus(t, r, 200)
	res := decodeMap(t, r)
	hasKeys(t, "results", res, "columns", "developerName", "done", "id", "label", "records", "size")
	recs := res["records"].([]any)
	names := []string{}
	for _, rec := range recs {
		cols := rec.(map[string]any)["columns"].([]any)
		first := cols[0].(map[string]any)
		if first["fieldNameOrPath"] != "Name" {
			t.Fatalf("first column %v", first)
		}
		names = append(names, first["value"].(string))
	}
	if strings.Join(names, ",") != "Bravo,Charlie" || res["done"] != true || res["size"] != 2.0 {
		t.Errorf("results: %s", r.body)
	}
	if r := s.do(t, "GET", v+"/"+id+"/results?limit=1", nil); decodeMap(t, r)["done"] != false {
		t.Errorf("limit=1 of 3 done: %s", r.body)
	}
	wantError(t, s.do(t, "GET", v+"/"+id+"/results?limit=0", nil), 400, "INVALID_QUERY_PARAMETER_VALUE", "")
	// Another object's list view, or no list view, is NOT_FOUND.
	leadLV := decodeMap(t, s.do(t, "GET", "/services/data/v62.0/sobjects/Lead/listviews", nil))["listviews"].([]any)[0].(map[string]any)["id"].(string)
	for _, p := range []string{v + "/" + leadLV, v + "/" + leadLV + "/results", v + "/00B000000000000AAA/describe", v + "/nope"} {
		wantError(t, s.do(t, "GET", p, nil), 404, "NOT_FOUND", "")
	}
}
