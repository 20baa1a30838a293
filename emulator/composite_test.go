package emulator

import (
	"encoding/json"
	"fmt"
	"testing"
)

type compositeAnswer struct {
	CompositeResponse []struct {
		Body           json.RawMessage   `json:"body"`
		HTTPHeaders    map[string]string `json:"httpHeaders"`
		HTTPStatusCode int               `json:"httpStatusCode"`
		ReferenceID    string            `json:"referenceId"`
	} `json:"compositeResponse"`
}

func sub(method, url, ref string, body any) map[string]any {
	m := map[string]any{"method": method, "url": url, "referenceId": ref}
	if body != nil {
		m["body"] = body
	}
	return m
}

const coll = "/services/data/v65.0/composite/sobjects"

func TestCompositeReferences(t *testing.T) {
	v := newAPIEnv(t, Config{})
	var ans compositeAnswer
	st := v.doJSON("POST", "composite", map[string]any{"compositeRequest": []any{
		sub("POST", coll, "newLeads", map[string]any{"records": []any{lead("A", "Acme"), lead("B", "Acme")}}),
		sub("PATCH", coll, "rename", map[string]any{"records": []any{
			map[string]any{"attributes": map[string]any{"type": "Lead"}, "Id": "@{newLeads[1].id}", "LastName": "B-@{newLeads[0].success}"},
		}}),
		sub("GET", coll+"/Lead?ids=@{newLeads[0].id},@{newLeads[1].id}&fields=Id,LastName", "read", nil),
	}}, &ans)
	if st != 200 || len(ans.CompositeResponse) != 3 {
		t.Fatalf("%d %+v", st, ans)
	}
	var created []result
	if err := json.Unmarshal(ans.CompositeResponse[0].Body, &created); err != nil || len(created) != 2 || !created[1].Success {
		t.Fatalf("create body %s", ans.CompositeResponse[0].Body)
	}
	var records []map[string]any
	if err := json.Unmarshal(ans.CompositeResponse[2].Body, &records); err != nil || len(records) != 2 {
		t.Fatalf("read body %s", ans.CompositeResponse[2].Body)
	}
	if records[1]["LastName"] != "B-true" || records[0]["Id"] != created[0].ID {
		t.Errorf("records %v", records)
	}
	for i, ref := range []string{"newLeads", "rename", "read"} {
		r := ans.CompositeResponse[i]
		if r.ReferenceID != ref || r.HTTPStatusCode != 200 || r.HTTPHeaders == nil {
			t.Errorf("subresponse %d: %+v", i, r)
		}
	}
	// The whole call is one composite call; subrequests are not counted.
	st2 := v.e.Stats()
	if st2[KindComposite] != 1 || st2[KindCollections] != 0 {
		t.Errorf("stats %v", st2)
	}
	if used, _ := v.e.APIUsage(); used != 1 {
		t.Errorf("API usage %d, want 1", used)
	}
}

func TestCompositeAllOrNone(t *testing.T) {
	v := newAPIEnv(t, Config{})
	var ans compositeAnswer
	v.doJSON("POST", "composite", map[string]any{"allOrNone": true, "compositeRequest": []any{
		sub("POST", coll, "ok", map[string]any{"records": []any{lead("A", "Acme")}}),
		sub("POST", coll, "bad", map[string]any{"records": []any{lead("", "Acme")}}),
		sub("POST", coll, "later", map[string]any{"records": []any{lead("C", "Acme")}}),
	}}, &ans)
	if len(ans.CompositeResponse) != 3 {
		t.Fatalf("%+v", ans)
	}
	for _, i := range []int{0, 2} {
		var errs []apiErr
		r := ans.CompositeResponse[i]
		if err := json.Unmarshal(r.Body, &errs); err != nil || r.HTTPStatusCode != 400 || errs[0].ErrorCode != "PROCESSING_HALTED" {
			t.Errorf("subresponse %d: %d %s", i, r.HTTPStatusCode, r.Body)
		}
	}
	var failed []result
	if err := json.Unmarshal(ans.CompositeResponse[1].Body, &failed); err != nil || failed[0].code() != "REQUIRED_FIELD_MISSING" {
		t.Errorf("failing subrequest: %s", ans.CompositeResponse[1].Body)
	}
	if n := v.countLive("Lead"); n != 0 {
		t.Errorf("%d leads survive an all-or-none rollback", n)
	}
}

func TestCompositeDependentHalted(t *testing.T) {
	v := newAPIEnv(t, Config{})
	var ans compositeAnswer
	v.doJSON("POST", "composite", map[string]any{"compositeRequest": []any{
		sub("GET", coll+"/Nope?ids=x&fields=Id", "missing", nil),
		sub("GET", coll+"/Lead?ids=@{missing[0].Id}&fields=Id", "dependent", nil),
		sub("POST", coll, "independent", map[string]any{"records": []any{lead("A", "B")}}),
		sub("GET", "/services/data/v65.0/nothing/here", "unknown", nil),
	}}, &ans)
	got := []int{}
	for _, r := range ans.CompositeResponse {
		got = append(got, r.HTTPStatusCode)
	}
	if fmt.Sprint(got) != "[404 400 200 404]" {
		t.Fatalf("statuses %v: %+v", got, ans)
	}
	var errs []apiErr
	if err := json.Unmarshal(ans.CompositeResponse[1].Body, &errs); err != nil || errs[0].ErrorCode != "PROCESSING_HALTED" {
		t.Errorf("dependent: %s", ans.CompositeResponse[1].Body)
	}
	if v.countLive("Lead") != 1 {
		t.Errorf("independent subrequest did not commit")
	}
}

func TestCompositeMalformed(t *testing.T) {
	v := newAPIEnv(t, Config{})
	many := make([]any, 26)
	for i := range many {
		many[i] = sub("GET", coll+"/Lead?ids=x&fields=Id", fmt.Sprintf("r%d", i), nil)
	}
	for name, body := range map[string]any{
		"too many":     map[string]any{"compositeRequest": many},
		"empty":        map[string]any{"compositeRequest": []any{}},
		"duplicate":    map[string]any{"compositeRequest": []any{sub("GET", coll+"/Lead?ids=x&fields=Id", "a", nil), sub("GET", coll+"/Lead?ids=x&fields=Id", "a", nil)}},
		"bad ref":      map[string]any{"compositeRequest": []any{sub("GET", coll+"/Lead?ids=x&fields=Id", "1a", nil)}},
		"bad method":   map[string]any{"compositeRequest": []any{sub("TRACE", coll, "a", nil)}},
		"foreign url":  map[string]any{"compositeRequest": []any{sub("GET", "/services/oauth2/userinfo", "a", nil)}},
		"nested":       map[string]any{"compositeRequest": []any{sub("POST", "/services/data/v65.0/composite", "a", map[string]any{})}},
		"six queries":  map[string]any{"compositeRequest": many[:6]},
		"not json":     "{",
		"wrong shapes": `{"compositeRequest":{"a":1}}`,
	} {
		st, _, b := v.do("POST", "composite", body)
		if st != 400 {
			t.Errorf("%s: %d %s", name, st, b)
		}
	}
}
