package emulator

import (
	"encoding/json"
	"fmt"
	"net/url"
	"testing"
)

type explainResp struct {
	Plans []struct {
		Cardinality          int      `json:"cardinality"`
		Fields               []string `json:"fields"`
		LeadingOperationType string   `json:"leadingOperationType"`
		Notes                []struct {
			Description   string   `json:"description"`
			Fields        []string `json:"fields"`
			TableEnumOrID string   `json:"tableEnumOrId"`
		} `json:"notes"`
		RelativeCost       float64 `json:"relativeCost"`
		SobjectCardinality int     `json:"sobjectCardinality"`
		SobjectType        string  `json:"sobjectType"`
	} `json:"plans"`
	SourceQuery string `json:"sourceQuery"`
}

func explain(t *testing.T, s *coreServer, q string) (resp, explainResp) {
	t.Helper()
	r := s.do(t, "GET", "/services/data/v62.0/query?explain="+url.QueryEscape(q), nil)
	var out explainResp
	if r.status == 200 {
		if err := json.Unmarshal(r.body, &out); err != nil {
			t.Fatalf("%s: %v", r.body, err)
		}
	}
	return r, out
}

// /query?explain= answers the plans for a query without running it for
// the caller: an Index plan for a selective filter on an indexed field
// (Email on Lead, an External ID field), TableScan otherwise, cheapest
// first, with the unindexed filter fields noted; bad SOQL answers as
// /query does; an Id that is no list view answers INVALID_ID, the org's
// list view explains its query.
func TestQueryExplain(t *testing.T) {
	s := newCoreServer(t, Config{})
	for i := range 20 {
		wantStatus(t, s.do(t, "POST", "/services/data/v62.0/sobjects/Lead", map[string]any{
			"LastName": fmt.Sprintf("L%d", i), "Company": "Acme", "Email": fmt.Sprintf("l%d@acme.com", i),
			"Forcesync_Key__c": fmt.Sprintf("k%d", i)}), 201)
	}
	q := "SELECT Id FROM Lead WHERE Email = 'l3@acme.com' AND Company = 'Acme'"
	r, ex := explain(t, s, q)
	wantStatus(t, r, 200)
	if ex.SourceQuery != q || len(ex.Plans) != 2 {
		t.Fatalf("explain: %s", r.body)
	}
	idx, scan := ex.Plans[0], ex.Plans[1]
	if idx.LeadingOperationType != "Index" || fmt.Sprint(idx.Fields) != "[Email]" || idx.Cardinality != 1 ||
		idx.SobjectCardinality != 20 || idx.SobjectType != "Lead" || idx.RelativeCost >= 1 {
		t.Errorf("index plan %+v", idx)
	}
	if scan.LeadingOperationType != "TableScan" || len(scan.Fields) != 0 || scan.Cardinality != 1 || scan.RelativeCost <= idx.RelativeCost {
		t.Errorf("table scan plan %+v", scan)
	}
	if len(idx.Notes) != 2 || fmt.Sprint(idx.Notes[0].Fields) != "[Company]" || fmt.Sprint(idx.Notes[1].Fields) != "[IsDeleted]" ||
		idx.Notes[0].Description != noteUnindexed || idx.Notes[0].TableEnumOrID != "Lead" {
		t.Errorf("notes %+v", idx.Notes)
	}
	// An External ID field is indexed; a negative or leading-wildcard
	// filter, or OR, leaves only the table scan.
	if _, ex := explain(t, s, "SELECT Id FROM Lead WHERE Forcesync_Key__c IN ('k1','k2')"); len(ex.Plans) != 2 ||
		ex.Plans[0].LeadingOperationType != "Index" || ex.Plans[0].Cardinality != 2 {
		t.Errorf("external id: %+v", ex.Plans)
	}
	for _, q := range []string{
		"SELECT Id FROM Lead",
		"SELECT Id FROM Lead WHERE Email != 'x@y.z'",
		"SELECT Id FROM Lead WHERE Email LIKE '%acme.com'",
		"SELECT Id FROM Lead WHERE Email = 'a@b.c' OR Company = 'Acme'",
	} {
		if r, ex := explain(t, s, q); len(ex.Plans) != 1 || ex.Plans[0].LeadingOperationType != "TableScan" {
			t.Errorf("%s: %s", q, r.body)
		}
	}
	wantError(t, s.do(t, "GET", "/services/data/v62.0/query?explain="+url.QueryEscape("SELECT FROM Lead"), nil), 400, "MALFORMED_QUERY", "")
	wantError(t, s.do(t, "GET", "/services/data/v62.0/query?explain="+url.QueryEscape("SELECT Nope__c FROM Lead"), nil), 400, "INVALID_FIELD", "")
	wantError(t, s.do(t, "GET", "/services/data/v62.0/query?explain="+url.QueryEscape("SELECT Id FROM Nope__c"), nil), 400, "INVALID_TYPE", "")
	wantError(t, s.do(t, "GET", "/services/data/v62.0/query?explain=00O000000000000AAA", nil), 400, "INVALID_ID", "")

	lv := decodeMap(t, s.do(t, "GET", "/services/data/v62.0/sobjects/Lead/listviews", nil))["listviews"].([]any)[0].(map[string]any)["id"].(string)
	r, ex = explain(t, s, lv)
	wantStatus(t, r, 200)
	if len(ex.Plans) != 1 || ex.Plans[0].Cardinality != 20 || ex.SourceQuery == lv {
		t.Errorf("list view explain: %s", r.body)
	}
}
