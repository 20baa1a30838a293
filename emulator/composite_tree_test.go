package emulator

import (
	"encoding/json"
	"testing"
)

func treeBody(contactEmail string) map[string]any {
	return map[string]any{"records": []any{
		map[string]any{
			"attributes": map[string]any{"type": "Account", "referenceId": "acme"},
			"Name":       "Acme",
			"Contacts": map[string]any{"records": []any{
				map[string]any{"attributes": map[string]any{"type": "Contact", "referenceId": "ng"}, "LastName": "Ng"},
				map[string]any{"attributes": map[string]any{"type": "Contact", "referenceId": "li"}, "LastName": "Li", "Email": contactEmail},
			}},
		},
		map[string]any{"attributes": map[string]any{"type": "Account", "referenceId": "globex"}, "Name": "Globex"},
	}}
}

type treeAnswer struct {
	HasErrors bool `json:"hasErrors"`
	Results   []struct {
		ReferenceID string            `json:"referenceId"`
		ID          string            `json:"id"`
		Errors      []recordErrorJSON `json:"errors"`
	} `json:"results"`
}

// POST /composite/tree/{type} creates parents and their children in one
// transaction, linking each child to its parent, and answers 201 with an
// Id per referenceId.
func TestCompositeTreeCreates(t *testing.T) {
	s := newCoreServer(t, Config{})
	r := s.do(t, "POST", "/services/data/v62.0/composite/tree/Account", treeBody("li@example.com"))
	wantStatus(t, r, 201)
	var out treeAnswer
	if err := json.Unmarshal(r.body, &out); err != nil || out.HasErrors || len(out.Results) != 4 {
		t.Fatalf("tree answer %s (%v)", r.body, err)
	}
	ids := map[string]string{}
	for _, res := range out.Results {
		ids[res.ReferenceID] = res.ID
	}
	if len(ids["acme"]) != 18 || ids["acme"][:3] != "001" || ids["ng"][:3] != "003" || ids["globex"] == "" || ids["li"] == "" {
		t.Fatalf("ids %v", ids)
	}
	r = s.do(t, "GET", "/services/data/v62.0/sobjects/Contact/"+ids["ng"]+"?fields=AccountId", nil)
	wantStatus(t, r, 200)
	if got := r.json(t).(map[string]any)["AccountId"]; got != ids["acme"] {
		t.Fatalf("child's AccountId %v, want its parent %s", got, ids["acme"])
	}
}

// A record error rolls the whole tree back and answers 400 with the failed
// records only, errors shaped as in collections (statusCode).
func TestCompositeTreeRollsBack(t *testing.T) {
	s := newCoreServer(t, Config{})
	r := s.do(t, "POST", "/services/data/v62.0/composite/tree/Account", treeBody("not an email"))
	wantStatus(t, r, 400)
	var out treeAnswer
	if err := json.Unmarshal(r.body, &out); err != nil || !out.HasErrors || len(out.Results) != 1 {
		t.Fatalf("tree answer %s (%v)", r.body, err)
	}
	if res := out.Results[0]; res.ReferenceID != "li" || res.ID != "" || res.Errors[0].StatusCode != "INVALID_EMAIL_ADDRESS" {
		t.Fatalf("failed record %+v", res)
	}
	for _, obj := range []string{"Account", "Contact"} {
		r = s.do(t, "GET", "/services/data/v62.0/query?q=SELECT+Id+FROM+"+obj, nil)
		if n := r.json(t).(map[string]any)["totalSize"]; n.(json.Number).String() != "0" {
			t.Fatalf("%s left after a failed tree: %s", obj, r.body)
		}
	}
	// A record of another type than the URL's is refused whole.
	bad := map[string]any{"records": []any{map[string]any{"attributes": map[string]any{"type": "Contact", "referenceId": "x"}, "LastName": "Ng"}}}
	wantError(t, s.do(t, "POST", "/services/data/v62.0/composite/tree/Account", bad), 400, codeTreeInvalid, "")
}

// A referenceId used twice fails the request in the results shape, one
// result per use (REST guide, "sObject Tree Response Body"), and creates
// nothing.
func TestCompositeTreeDuplicateReferenceID(t *testing.T) {
	s := newCoreServer(t, Config{})
	body := map[string]any{"records": []any{
		map[string]any{"attributes": map[string]any{"type": "Account", "referenceId": "acme"}, "Name": "Acme",
			"Contacts": map[string]any{"records": []any{
				map[string]any{"attributes": map[string]any{"type": "Contact", "referenceId": "dup"}, "LastName": "Ng"},
			}}},
		map[string]any{"attributes": map[string]any{"type": "Account", "referenceId": "dup"}, "Name": "Globex"},
	}}
	r := s.do(t, "POST", "/services/data/v62.0/composite/tree/Account", body)
	wantStatus(t, r, 400)
	var out treeAnswer
	if err := json.Unmarshal(r.body, &out); err != nil || !out.HasErrors || len(out.Results) != 2 {
		t.Fatalf("tree answer %s (%v)", r.body, err)
	}
	for _, res := range out.Results {
		if res.ReferenceID != "dup" || res.ID != "" || len(res.Errors) != 1 || res.Errors[0].StatusCode == "" || res.Errors[0].Message == "" {
			t.Fatalf("duplicate's result %+v", res)
		}
	}
	r = s.do(t, "GET", "/services/data/v62.0/query?q=SELECT+Id+FROM+Account", nil)
	if n := r.json(t).(map[string]any)["totalSize"]; n.(json.Number).String() != "0" {
		t.Fatalf("accounts left after a refused tree: %s", r.body)
	}
}
