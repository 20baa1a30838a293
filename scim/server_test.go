package scim_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/scim"
	"github.com/forcesync/forcesync/sqlite"
)

type fakeEngine struct{ notified atomic.Int64 }

func (e *fakeEngine) MappingsFor(string) []string { return []string{"idp_to_contacts"} }
func (e *fakeEngine) Notify()                     { e.notified.Add(1) }

type rig struct {
	t     *testing.T
	url   string
	store *sqlite.Store
	eng   *fakeEngine
	path  string // the SQLite file
}

const token = "scim-s3cret"

func newRig(t *testing.T) *rig { return newRigStore(t, nil) }

// newRigStore is newRig whose server uses wrap(store) (nil: the store).
func newRigStore(t *testing.T, wrap func(*sqlite.Store) forcesync.Store) *rig {
	t.Helper()
	path := filepath.Join(t.TempDir(), "fs.db")
	st, err := sqlite.Open(context.Background(), path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	eng := &fakeEngine{}
	var served forcesync.Store = st
	if wrap != nil {
		served = wrap(st)
	}
	srv := httptest.NewServer(scim.New(scim.Config{Store: served, Engine: eng, Source: "idp_user", Token: token}))
	t.Cleanup(srv.Close)
	return &rig{t: t, url: srv.URL, store: st, eng: eng, path: path}
}

// do sends a SCIM request and decodes the JSON answer.
func (r *rig) do(method, path, body string) (int, map[string]any, http.Header) {
	r.t.Helper()
	req, err := http.NewRequest(method, r.url+path, strings.NewReader(body))
	if err != nil {
		r.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/scim+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if len(b) > 0 {
		if err := json.Unmarshal(b, &out); err != nil {
			r.t.Fatalf("%s %s: %d, not JSON: %q", method, path, resp.StatusCode, b)
		}
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/scim+json") {
			r.t.Fatalf("%s %s: content type %q", method, path, ct)
		}
	}
	return resp.StatusCode, out, resp.Header
}

func (r *rig) fields(id string) map[string]any {
	r.t.Helper()
	rec, err := r.store.SourceRecord(context.Background(), "idp_user", id)
	if err != nil {
		r.t.Fatal(err)
	}
	return rec.Fields
}

// An Okta-style lifecycle: look up, create, read, deactivate, replace.
func TestOktaLifecycle(t *testing.T) {
	r := newRig(t)
	code, list, _ := r.do("GET", "/scim/v2/Users?filter="+url.QueryEscape(`userName eq "jane.doe@example.com"`)+"&startIndex=1&count=100", "")
	if code != 200 || list["totalResults"] != 0.0 || len(list["Resources"].([]any)) != 0 {
		t.Fatalf("lookup before create: %d %v", code, list)
	}
	code, u, h := r.do("POST", "/scim/v2/Users", `{
		"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
		"userName": "jane.doe@example.com",
		"name": {"givenName": "Jane", "familyName": "Doe"},
		"emails": [{"primary": true, "value": "jane.doe@example.com", "type": "work"}],
		"displayName": "Jane Doe", "locale": "en-US", "externalId": "00u1ab",
		"groups": [], "password": "Hunter2!", "active": true}`)
	if code != 201 {
		t.Fatalf("create: %d %v", code, u)
	}
	id, _ := u["id"].(string)
	meta, _ := u["meta"].(map[string]any)
	if len(id) != 36 || meta["resourceType"] != "User" || h.Get("Location") != r.url+"/scim/v2/Users/"+id || meta["location"] != h.Get("Location") {
		t.Fatalf("created user %v, Location %q", u, h.Get("Location"))
	}
	if _, ok := u["password"]; ok {
		t.Fatal("the password was echoed back")
	}
	f := r.fields(id)
	if f["userName"] != "jane.doe@example.com" || f["givenName"] != "Jane" || f["familyName"] != "Doe" ||
		f["email"] != "jane.doe@example.com" || f["workEmail"] != "jane.doe@example.com" || f["active"] != true || f["externalId"] != "00u1ab" {
		t.Fatalf("flat fields %v", f)
	}
	if b, _ := json.Marshal(f); strings.Contains(string(b), "Hunter2") {
		t.Fatal("the password was stored")
	}
	if r.eng.notified.Load() != 1 {
		t.Fatalf("engine notified %d times", r.eng.notified.Load())
	}
	code, got, _ := r.do("GET", "/scim/v2/Users/"+id, "")
	if code != 200 || got["userName"] != "jane.doe@example.com" || got["id"] != id {
		t.Fatalf("get: %d %v", code, got)
	}
	code, list, _ = r.do("GET", "/scim/v2/Users?filter="+url.QueryEscape(`userName eq "JANE.DOE@example.com"`), "")
	if code != 200 || list["totalResults"] != 1.0 {
		t.Fatalf("lookup after create: %d %v", code, list)
	}
	// Okta deactivates with a PATCH whose value is an object.
	code, got, _ = r.do("PATCH", "/scim/v2/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		"Operations":[{"op":"replace","value":{"active":false}}]}`)
	if code != 200 || got["active"] != false {
		t.Fatalf("deactivate: %d %v", code, got)
	}
	if f := r.fields(id); f["active"] != false {
		t.Fatalf("flat active after deactivate: %v", f["active"])
	}
	// And replaces the whole profile with PUT.
	code, got, _ = r.do("PUT", "/scim/v2/Users/"+id, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],
		"userName":"jane.doe@example.com","name":{"givenName":"Janet","familyName":"Doe"},
		"emails":[{"primary":true,"value":"janet@example.com","type":"work"}],"active":true}`)
	if code != 200 || got["id"] != id {
		t.Fatalf("put: %d %v", code, got)
	}
	if f := r.fields(id); f["givenName"] != "Janet" || f["email"] != "janet@example.com" || f["locale"] != nil {
		t.Fatalf("flat fields after put: %v", f)
	}
	if m := got["meta"].(map[string]any); m["created"] != meta["created"] || m["version"] == meta["version"] {
		t.Fatalf("meta after put %v, before %v", m, meta)
	}
}

// A Microsoft Entra ID-style lifecycle: its PATCH quirks and the delete.
func TestEntraLifecycle(t *testing.T) {
	r := newRig(t)
	code, u, _ := r.do("POST", "/scim/v2/Users", `{
		"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
		"externalId": "jsmith", "userName": "jsmith@contoso.com", "active": true, "displayName": "John Smith",
		"emails": [{"primary": true, "type": "work", "value": "jsmith@contoso.com"}],
		"name": {"formatted": "John Smith", "familyName": "Smith", "givenName": "John"},
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": "701984", "department": "Tour Operations"}}`)
	if code != 201 {
		t.Fatalf("create: %d %v", code, u)
	}
	id := u["id"].(string)
	if f := r.fields(id); f["department"] != "Tour Operations" || f["employeeNumber"] != "701984" || f["formattedName"] != "John Smith" {
		t.Fatalf("flat fields %v", f)
	}
	code, got, _ := r.do("PATCH", "/scim/v2/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
		{"op":"Replace","path":"active","value":"False"},
		{"op":"Add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department","value":"Sales"},
		{"op":"Add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":"mgr-1"},
		{"op":"Replace","path":"emails[type eq \"work\"].value","value":"john.smith@contoso.com"}]}`)
	if code != 200 || got["active"] != false {
		t.Fatalf("patch: %d %v", code, got)
	}
	if f := r.fields(id); f["active"] != false || f["department"] != "Sales" || f["manager"] != "mgr-1" || f["email"] != "john.smith@contoso.com" {
		t.Fatalf("flat fields after patch %v", f)
	}
	code, _, _ = r.do("DELETE", "/scim/v2/Users/"+id, "")
	if code != 204 {
		t.Fatalf("delete: %d", code)
	}
	if code, body, _ := r.do("GET", "/scim/v2/Users/"+id, ""); code != 404 || body["status"] != "404" {
		t.Fatalf("get after delete: %d %v", code, body)
	}
	rec, err := r.store.SourceRecord(context.Background(), "idp_user", id)
	if err != nil || !rec.Deleted {
		t.Fatalf("record after delete %+v %v", rec, err)
	}
	if code, _, _ := r.do("DELETE", "/scim/v2/Users/"+id, ""); code != 404 {
		t.Fatalf("second delete: %d", code)
	}
}

func TestListPagesAndFilters(t *testing.T) {
	r := newRig(t)
	for i := range 5 {
		domain := "example.com"
		if i%2 == 1 {
			domain = "example.org"
		}
		code, body, _ := r.do("POST", "/scim/v2/Users", fmt.Sprintf(`{"userName":"u%d@%s","emails":[{"value":"u%d@%s"}],"active":%t}`, i, domain, i, domain, i != 4))
		if code != 201 {
			t.Fatalf("create %d: %d %v", i, code, body)
		}
	}
	code, list, _ := r.do("GET", "/scim/v2/Users?startIndex=2&count=2", "")
	if code != 200 || list["totalResults"] != 5.0 || list["itemsPerPage"] != 2.0 || list["startIndex"] != 2.0 || len(list["Resources"].([]any)) != 2 {
		t.Fatalf("page: %d %v", code, list)
	}
	// Entra's connection test: count=1.
	if code, list, _ = r.do("GET", "/scim/v2/Users?count=1", ""); code != 200 || list["totalResults"] != 5.0 || len(list["Resources"].([]any)) != 1 {
		t.Fatalf("count=1: %d %v", code, list)
	}
	for filter, want := range map[string]float64{
		`emails.value co "example.org"`:                    2,
		`emails[value ew ".org"] and active eq true`:       2,
		`active eq false`:                                  1,
		`userName sw "U1" or userName eq "u3@example.org"`: 2,
		`not (active eq true)`:                             1,
		`externalId pr`:                                    0,
		`meta.lastModified gt "2000-01-01T00:00:00Z"`:      5,
	} {
		code, list, _ := r.do("GET", "/scim/v2/Users?filter="+url.QueryEscape(filter), "")
		if code != 200 || list["totalResults"] != want {
			t.Errorf("filter %s: %d %v, want %v results", filter, code, list["totalResults"], want)
		}
	}
	code, body, _ := r.do("GET", "/scim/v2/Users?filter="+url.QueryEscape(`userName eq`), "")
	if code != 400 || body["scimType"] != "invalidFilter" {
		t.Fatalf("bad filter: %d %v", code, body)
	}
}

func TestRefusals(t *testing.T) {
	r := newRig(t)
	code, u, _ := r.do("POST", "/scim/v2/Users", `{"userName":"taken@example.com"}`)
	if code != 201 {
		t.Fatalf("create: %d %v", code, u)
	}
	id := u["id"].(string)
	for _, tc := range []struct {
		name, method, path, body string
		status                   int
		scimType                 string
	}{
		{"duplicate userName", "POST", "/scim/v2/Users", `{"userName":"TAKEN@example.com"}`, 409, "uniqueness"},
		{"no userName", "POST", "/scim/v2/Users", `{"name":{"givenName":"X"}}`, 400, "invalidValue"},
		{"not JSON", "POST", "/scim/v2/Users", `{"userName":`, 400, "invalidSyntax"},
		{"wrong schema", "POST", "/scim/v2/Users", `{"schemas":["urn:x"],"userName":"a@b.c"}`, 400, "invalidValue"},
		{"bad active", "POST", "/scim/v2/Users", `{"userName":"b@b.c","active":"maybe"}`, 400, "invalidValue"},
		{"patch without schema", "PATCH", "/scim/v2/Users/" + id, `{"Operations":[{"op":"replace","path":"active","value":false}]}`, 400, "invalidValue"},
		{"patch removing userName", "PATCH", "/scim/v2/Users/" + id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"remove","path":"userName"}]}`, 400, "invalidValue"},
		{"unknown user", "GET", "/scim/v2/Users/nope", "", 404, ""},
		{"group without displayName", "POST", "/scim/v2/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"]}`, 400, "invalidValue"},
		{"bad count", "GET", "/scim/v2/Users?count=ten", "", 400, "invalidValue"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body, _ := r.do(tc.method, tc.path, tc.body)
			if code != tc.status || body["status"] != fmt.Sprint(tc.status) || (tc.scimType != "" && body["scimType"] != tc.scimType) {
				t.Fatalf("%d %v, want %d %s", code, body, tc.status, tc.scimType)
			}
			if s := body["schemas"].([]any); s[0] != "urn:ietf:params:scim:api:messages:2.0:Error" {
				t.Fatalf("error schemas %v", s)
			}
		})
	}
	// The stored user is unchanged by the refused PATCH.
	if f := r.fields(id); f["userName"] != "taken@example.com" {
		t.Fatalf("fields %v", f)
	}
	// No token, a wrong token: 401.
	for _, auth := range []string{"", "Bearer wrong", "Basic " + token} {
		req, _ := http.NewRequest("GET", r.url+"/scim/v2/Users", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") == "" {
			t.Fatalf("auth %q: %d", auth, resp.StatusCode)
		}
	}
}

func TestDiscovery(t *testing.T) {
	r := newRig(t)
	code, spc, _ := r.do("GET", "/scim/v2/ServiceProviderConfig", "")
	if code != 200 || spc["patch"].(map[string]any)["supported"] != true || spc["bulk"].(map[string]any)["supported"] != false {
		t.Fatalf("spc %d %v", code, spc)
	}
	code, rts, _ := r.do("GET", "/scim/v2/ResourceTypes", "")
	if code != 200 || rts["totalResults"] != 2.0 {
		t.Fatalf("resource types %d %v", code, rts)
	}
	code, sc, _ := r.do("GET", "/scim/v2/Schemas/"+scim.SchemaUser, "")
	if code != 200 || sc["id"] != scim.SchemaUser || len(sc["attributes"].([]any)) < 10 {
		t.Fatalf("user schema %d %v", code, sc)
	}
	if code, _, _ := r.do("GET", "/scim/v2/Schemas/urn:nope", ""); code != 404 {
		t.Fatalf("unknown schema %d", code)
	}
}

// Flatten picks the primary email even when it is not first.
func TestFlattenPrimary(t *testing.T) {
	var res map[string]any
	if err := json.Unmarshal([]byte(`{"userName":"x","emails":[{"value":"home@x.com","type":"home"},{"value":"work@x.com","type":"work","primary":true}],
		"phoneNumbers":[{"value":"+1 555","type":"work"},{"value":"+1 666","type":"mobile"}],
		"addresses":[{"streetAddress":"1 Main St","locality":"Springfield","country":"US","primary":true}]}`), &res); err != nil {
		t.Fatal(err)
	}
	f := scim.Flatten(res)
	want := map[string]any{"userName": "x", "email": "work@x.com", "emailType": "work", "workEmail": "work@x.com", "homeEmail": "home@x.com",
		"phone": "+1 555", "mobilePhone": "+1 666", "street": "1 Main St", "locality": "Springfield", "country": "US"}
	for k, v := range want {
		if f[k] != v {
			t.Errorf("%s = %v, want %v", k, f[k], v)
		}
	}
}

// Many simultaneous POSTs of one userName make exactly one User.
func TestConcurrentCreatesOneUser(t *testing.T) {
	r := newRig(t)
	const n = 8
	codes := make(chan int, n)
	start := make(chan struct{})
	for range n {
		go func() {
			<-start
			code, _, _ := r.do("POST", "/scim/v2/Users", `{"userName":"race@example.com"}`)
			codes <- code
		}()
	}
	close(start)
	created := 0
	for range n {
		switch code := <-codes; code {
		case 201:
			created++
		case 409:
		default:
			t.Errorf("status %d", code)
		}
	}
	if created != 1 {
		t.Fatalf("%d Users created for one userName", created)
	}
	if code, list, _ := r.do("GET", "/scim/v2/Users?filter="+url.QueryEscape(`userName eq "race@example.com"`), ""); code != 200 || list["totalResults"] != 1.0 {
		t.Fatalf("lookup: %d %v", code, list)
	}
}
