package emulator

import (
	"encoding/json"
	"testing"
)

// /composite/graph (§5.5): each graph is its own transaction; a failed
// graph is rolled back and reported, the others commit.
func TestCompositeGraph(t *testing.T) {
	s := newCoreServer(t, Config{})
	graph := func(id, lastName string) map[string]any {
		contact := map[string]any{"AccountId": "@{acct.id}"}
		if lastName != "" {
			contact["LastName"] = lastName
		}
		return map[string]any{"graphId": id, "compositeRequest": []any{
			map[string]any{"method": "POST", "url": "/services/data/v62.0/sobjects/Account", "referenceId": "acct", "body": map[string]any{"Name": "Acme " + id}},
			map[string]any{"method": "POST", "url": "/services/data/v62.0/sobjects/Contact", "referenceId": "ct", "body": contact},
		}}
	}
	r := s.do(t, "POST", "/services/data/v62.0/composite/graph", map[string]any{"graphs": []any{graph("g1", "Ng"), graph("g2", "")}})
	wantStatus(t, r, 200)
	var out struct {
		Graphs []struct {
			GraphID       string `json:"graphId"`
			IsSuccessful  bool   `json:"isSuccessful"`
			GraphResponse struct {
				CompositeResponse []compositeSubresponse `json:"compositeResponse"`
			} `json:"graphResponse"`
		} `json:"graphs"`
	}
	if err := json.Unmarshal(r.body, &out); err != nil || len(out.Graphs) != 2 {
		t.Fatalf("graph answer %s (%v)", r.body, err)
	}
	g1, g2 := out.Graphs[0], out.Graphs[1]
	if g1.GraphID != "g1" || !g1.IsSuccessful || g1.GraphResponse.CompositeResponse[1].HTTPStatusCode != 201 {
		t.Fatalf("graph g1 %s", r.body)
	}
	if g2.IsSuccessful || g2.GraphResponse.CompositeResponse[0].HTTPStatusCode != 400 ||
		g2.GraphResponse.CompositeResponse[1].HTTPStatusCode != 400 {
		t.Fatalf("graph g2 %s", r.body)
	}
	var halted []apiErr
	json.Unmarshal(g2.GraphResponse.CompositeResponse[0].Body, &halted)
	if halted[0].ErrorCode != "PROCESSING_HALTED" {
		t.Fatalf("g2's account node %s", g2.GraphResponse.CompositeResponse[0].Body)
	}
	r = s.do(t, "GET", "/services/data/v62.0/query?q=SELECT+Name+FROM+Account", nil)
	recs := r.json(t).(map[string]any)["records"].([]any)
	if len(recs) != 1 || recs[0].(map[string]any)["Name"] != "Acme g1" {
		t.Fatalf("accounts after the graphs: %s", r.body)
	}
}
