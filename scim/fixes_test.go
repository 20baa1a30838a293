package scim_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/forcesync/forcesync/scim"
)

// doH is rig.do with extra request headers; it returns the raw status.
func (r *rig) doH(method, path, body string, h map[string]string) (int, map[string]any) {
	r.t.Helper()
	req, _ := http.NewRequest(method, r.url+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/scim+json")
	for k, v := range h {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return resp.StatusCode, out
}

func (r *rig) create(userName, given, family, ext string) string {
	r.t.Helper()
	code, u, _ := r.do("POST", "/scim/v2/Users", fmt.Sprintf(`{"schemas":[%q],"userName":%q,"externalId":%q,
		"name":{"givenName":%q,"familyName":%q},"emails":[{"value":%q,"type":"work","primary":true}],"title":"T"}`,
		scim.SchemaUser, userName, ext, given, family, userName))
	if code != 201 {
		r.t.Fatalf("create %s: %d %v", userName, code, u)
	}
	return u["id"].(string)
}

// TestSchemasReferenceTypes: every reference attribute of /Schemas lists
// its referenceTypes, which generic SCIM clients require.
func TestSchemasReferenceTypes(t *testing.T) {
	r := newRig(t)
	_, out, _ := r.do("GET", "/scim/v2/Schemas", "")
	var walk func(attrs []any) int
	walk = func(attrs []any) int {
		n := 0
		for _, a := range attrs {
			m := a.(map[string]any)
			if m["type"] == "reference" {
				n++
				if rt, _ := m["referenceTypes"].([]any); len(rt) == 0 {
					t.Errorf("%s has no referenceTypes", m["name"])
				}
			}
			if subs, ok := m["subAttributes"].([]any); ok {
				n += walk(subs)
			}
		}
		return n
	}
	refs := 0
	for _, s := range out["Resources"].([]any) {
		refs += walk(s.(map[string]any)["attributes"].([]any))
	}
	if refs < 2 {
		t.Fatalf("found %d reference attributes, want profileUrl and manager.$ref at least", refs)
	}
}

// TestExternalIDCaseExact: externalId is caseExact in the schema, so a
// filter on it compares case-sensitively.
func TestExternalIDCaseExact(t *testing.T) {
	r := newRig(t)
	r.create("a@example.com", "A", "A", "Ext-ABC")
	for _, tc := range []struct {
		v    string
		want float64
	}{{"Ext-ABC", 1}, {"ext-abc", 0}} {
		_, list, _ := r.do("GET", "/scim/v2/Users?filter="+url.QueryEscape(`externalId eq "`+tc.v+`"`), "")
		if list["totalResults"] != tc.want {
			t.Errorf("externalId eq %q: %v, want %v", tc.v, list["totalResults"], tc.want)
		}
	}
}

// TestProjectionSearchSort: attributes / excludedAttributes, POST /.search
// and sortBy / sortOrder.
func TestProjectionSearchSort(t *testing.T) {
	r := newRig(t)
	id := r.create("c@example.com", "Cy", "Carver", "x1")
	r.create("a@example.com", "Al", "Zed", "x2")
	r.create("b@example.com", "Bo", "Young", "x3")
	_, u, _ := r.do("GET", "/scim/v2/Users/"+id+"?attributes=userName,name.givenName,emails.value", "")
	if u["userName"] != "c@example.com" || u["id"] != id || u["title"] != nil || u["meta"] != nil {
		t.Fatalf("attributes: %v", u)
	}
	if n := u["name"].(map[string]any); n["givenName"] != "Cy" || n["familyName"] != nil {
		t.Fatalf("name projection %v", n)
	}
	if e := u["emails"].([]any)[0].(map[string]any); e["value"] != "c@example.com" || e["type"] != nil {
		t.Fatalf("emails projection %v", e)
	}
	_, u, _ = r.do("GET", "/scim/v2/Users/"+id+"?excludedAttributes=title,emails,id", "")
	if u["title"] != nil || u["emails"] != nil || u["id"] != id || u["userName"] != "c@example.com" {
		t.Fatalf("excludedAttributes: %v", u)
	}
	names := func(list map[string]any) string {
		var out []string
		for _, res := range list["Resources"].([]any) {
			out = append(out, res.(map[string]any)["userName"].(string))
		}
		return strings.Join(out, ",")
	}
	_, list, _ := r.do("GET", "/scim/v2/Users?sortBy=name.familyName&sortOrder=descending&attributes=userName", "")
	if got := names(list); got != "a@example.com,b@example.com,c@example.com" {
		t.Fatalf("sorted by familyName descending: %s", got)
	}
	_, list, _ = r.do("GET", "/scim/v2/Users?sortBy=userName&startIndex=2&count=1", "")
	if got := names(list); got != "b@example.com" || list["totalResults"] != 3.0 {
		t.Fatalf("sorted page: %s %v", got, list["totalResults"])
	}
	code, list, _ := r.do("POST", "/scim/v2/Users/.search", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
		"filter":"userName sw \"a\" or userName sw \"b\"","sortBy":"userName","attributes":["userName"],"count":10}`)
	if code != 200 || names(list) != "a@example.com,b@example.com" {
		t.Fatalf(".search: %d %v", code, list)
	}
	if code, _, _ := r.do("POST", "/scim/v2/.search", `{"schemas":["nope"]}`); code != 400 {
		t.Fatalf(".search without its schema: %d", code)
	}
	if code, _, _ := r.do("GET", "/scim/v2/Users?sortBy=userName&sortOrder=sideways", ""); code != 400 {
		t.Fatalf("bad sortOrder: %d", code)
	}
}

// TestETags: meta.version is the ETag; If-Match with an old version
// answers 412 and changes nothing; If-None-Match with the current one 304.
func TestETags(t *testing.T) {
	r := newRig(t)
	id := r.create("e@example.com", "E", "Tag", "x")
	_, u, h := r.do("GET", "/scim/v2/Users/"+id, "")
	v1 := h.Get("ETag")
	if v1 == "" || u["meta"].(map[string]any)["version"] != v1 {
		t.Fatalf("etag %q meta %v", v1, u["meta"])
	}
	patch := `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"title","value":"New"}]}`
	if code, _ := r.doH("PATCH", "/scim/v2/Users/"+id, patch, map[string]string{"If-Match": v1}); code != 200 {
		t.Fatalf("PATCH with the current version: %d", code)
	}
	if code, out := r.doH("PATCH", "/scim/v2/Users/"+id, patch, map[string]string{"If-Match": v1}); code != 412 {
		t.Fatalf("PATCH with an old version: %d %v", code, out)
	}
	if code, _ := r.doH("DELETE", "/scim/v2/Users/"+id, "", map[string]string{"If-Match": v1}); code != 412 {
		t.Fatalf("DELETE with an old version: %d", code)
	}
	_, _, h = r.do("GET", "/scim/v2/Users/"+id, "")
	if code, _ := r.doH("GET", "/scim/v2/Users/"+id, "", map[string]string{"If-None-Match": h.Get("ETag")}); code != 304 {
		t.Fatalf("GET If-None-Match current: %d", code)
	}
	if code, _ := r.doH("PUT", "/scim/v2/Users/"+id, fmt.Sprintf(`{"schemas":[%q],"userName":"e@example.com"}`, scim.SchemaUser),
		map[string]string{"If-Match": "*"}); code != 200 {
		t.Fatalf("PUT If-Match *: %d", code)
	}
}

// TestEntraReplaceOnMissingFilterPath: Entra sends Replace on a filter
// path that matches nothing, meaning "set it": applied as an add.
func TestEntraReplaceOnMissingFilterPath(t *testing.T) {
	r := newRig(t)
	id := r.create("n@example.com", "N", "Addr", "x")
	code, u, _ := r.do("PATCH", "/scim/v2/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		"Operations":[{"op":"Replace","path":"addresses[type eq \"work\"].formatted","value":"1 Main St"}]}`)
	if code != 200 {
		t.Fatalf("PATCH: %d %v", code, u)
	}
	a := u["addresses"].([]any)[0].(map[string]any)
	if a["type"] != "work" || a["formatted"] != "1 Main St" {
		t.Fatalf("addresses %v", u["addresses"])
	}
}

// FuzzPatchGroup: no PATCH operation on a Group panics, and a Group that
// took one still has members made of ids.
func FuzzPatchGroup(f *testing.F) {
	f.Add("add", "members", `[{"value":"u1"}]`)
	f.Add("remove", `members[value eq "u1"]`, ``)
	f.Add("Remove", "members", `[{"value":"u1"}]`)
	f.Add("replace", "", `{"displayName":"x","members":[{"value":"u2"}]}`)
	f.Add("replace", "displayName", `"y"`)
	f.Fuzz(func(t *testing.T, op, path, value string) {
		res := map[string]any{"displayName": "g", "members": []any{map[string]any{"value": "u1"}}}
		var raw json.RawMessage
		if json.Valid([]byte(value)) {
			raw = json.RawMessage(value)
		}
		if err := scim.PatchGroup(res, scim.PatchOp{Op: op, Path: path, Value: raw}); err != nil {
			return
		}
		if ms, ok := res["members"].([]any); ok {
			for _, m := range ms {
				if v, _ := m.(map[string]any)["value"].(string); v == "" {
					t.Fatalf("member without id: %v", res)
				}
			}
		}
	})
}
