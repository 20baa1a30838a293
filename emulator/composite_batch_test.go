package emulator

import (
	"encoding/json"
	"testing"
)

// /composite/batch (§5.6): independent subrequests, each committed and
// counted on its own, results in order with their status codes; a 204
// answers result null.
func TestCompositeBatch(t *testing.T) {
	s := newCoreServer(t, Config{})
	r := s.do(t, "POST", "/services/data/v62.0/sobjects/Lead", map[string]any{"LastName": "Ng", "Company": "Acme"})
	wantStatus(t, r, 201)
	var created struct{ ID string }
	json.Unmarshal(r.body, &created)

	before, _ := s.e.APIUsage()
	r = s.do(t, "POST", "/services/data/v62.0/composite/batch", map[string]any{
		"batchRequests": []map[string]any{
			{"method": "PATCH", "url": "v62.0/sobjects/Lead/" + created.ID, "richInput": map[string]any{"Title": "CTO"}},
			{"method": "POST", "url": "v62.0/sobjects/Lead", "richInput": map[string]any{"LastName": "NoCompany"}},
			{"method": "GET", "url": "v62.0/sobjects/Lead/" + created.ID + "?fields=Title"},
			{"method": "GET", "url": "/services/data/v62.0/query?q=SELECT+COUNT()+FROM+Lead"},
		},
	})
	wantStatus(t, r, 200)
	var out struct {
		HasErrors bool `json:"hasErrors"`
		Results   []struct {
			StatusCode int             `json:"statusCode"`
			Result     json.RawMessage `json:"result"`
		} `json:"results"`
	}
	if err := json.Unmarshal(r.body, &out); err != nil {
		t.Fatalf("%s: %v", r.body, err)
	}
	if !out.HasErrors || len(out.Results) != 4 {
		t.Fatalf("batch answer %s", r.body)
	}
	want := []int{204, 400, 200, 200}
	for i, res := range out.Results {
		if res.StatusCode != want[i] {
			t.Fatalf("result %d: status %d, want %d (%s)", i, res.StatusCode, want[i], r.body)
		}
	}
	if string(out.Results[0].Result) != "null" {
		t.Errorf("204 result %s, want null", out.Results[0].Result)
	}
	var errs []apiErr
	if json.Unmarshal(out.Results[1].Result, &errs) != nil || errs[0].ErrorCode != "REQUIRED_FIELD_MISSING" {
		t.Errorf("failed create result %s", out.Results[1].Result)
	}
	var lead map[string]any
	if json.Unmarshal(out.Results[2].Result, &lead) != nil || lead["Title"] != "CTO" {
		t.Errorf("the GET after the PATCH sees %s: the PATCH did not commit on its own", out.Results[2].Result)
	}
	if used, _ := s.e.APIUsage(); used-before != 4 {
		t.Errorf("a batch of 4 spent %d API calls, want 4 (each subrequest counts)", used-before)
	}
}

// haltOnError: after the first failure the rest answer 412
// BATCH_PROCESSING_HALTED and are not run.
func TestCompositeBatchHaltOnError(t *testing.T) {
	s := newCoreServer(t, Config{})
	r := s.do(t, "POST", "/services/data/v62.0/composite/batch", map[string]any{
		"haltOnError": true,
		"batchRequests": []map[string]any{
			{"method": "GET", "url": "v62.0/sobjects/Lead/00Q5e00000009ZZEAY"},
			{"method": "POST", "url": "v62.0/sobjects/Lead", "richInput": map[string]any{"LastName": "Ng", "Company": "Acme"}},
		},
	})
	wantStatus(t, r, 200)
	var out struct {
		HasErrors bool `json:"hasErrors"`
		Results   []struct {
			StatusCode int      `json:"statusCode"`
			Result     []apiErr `json:"result"`
		} `json:"results"`
	}
	if err := json.Unmarshal(r.body, &out); err != nil {
		t.Fatalf("%s: %v", r.body, err)
	}
	if !out.HasErrors || out.Results[0].StatusCode != 404 || out.Results[1].StatusCode != 412 ||
		out.Results[1].Result[0].ErrorCode != "BATCH_PROCESSING_HALTED" {
		t.Fatalf("halted batch %s", r.body)
	}
	r = s.do(t, "GET", "/services/data/v62.0/query?q=SELECT+Id+FROM+Lead", nil)
	if n := r.json(t).(map[string]any)["totalSize"]; n.(json.Number).String() != "0" {
		t.Fatalf("a halted subrequest ran: %s", r.body)
	}
	// More than 25 subrequests is refused whole.
	many := make([]map[string]any, 26)
	for i := range many {
		many[i] = map[string]any{"method": "GET", "url": "v62.0/limits"}
	}
	wantError(t, s.do(t, "POST", "/services/data/v62.0/composite/batch", map[string]any{"batchRequests": many}), 400, codeBatchInvalid, "")
}
