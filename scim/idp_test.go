package scim_test

import (
	"net/url"
	"slices"
	"strconv"
	"testing"

	"github.com/forcesync/forcesync/scim"
)

// Requests identity providers send that the RFC's letter would refuse,
// replayed over HTTP.

// TestSCIMBearerSchemeAnyCase: the auth scheme is case-insensitive (RFC
// 7235 §2.1); a client sending "bearer" must not be locked out.
func TestSCIMBearerSchemeAnyCase(t *testing.T) {
	r := newRig(t)
	for _, h := range []string{"bearer " + token, "BEARER " + token, "Bearer  " + token} {
		if code, body := r.doH("GET", "/scim/v2/Users", "", map[string]string{"Authorization": h}); code != 200 {
			t.Errorf("Authorization %q: %d %v", h, code, body)
		}
	}
	for _, h := range []string{"Basic " + token, "bearer", "bearer wrong", token} {
		code, body := r.doH("GET", "/scim/v2/Users", "", map[string]string{"Authorization": h})
		if code != 401 || body["status"] != "401" {
			t.Errorf("Authorization %q: %d %v, want 401 with a SCIM error", h, code, body)
		}
	}
}

// TestSCIMEntraFilterOnValuePathSubAttribute: Entra ID matches Users by
// email with emails[type eq "work"].value eq "...", outside RFC 7644's
// grammar; it means the work email with that value.
func TestSCIMEntraFilterOnValuePathSubAttribute(t *testing.T) {
	r := newRig(t)
	id := r.create("ada@example.com", "Ada", "Lovelace", "ada-ext")
	r.create("bob@example.com", "Bob", "Smith", "bob-ext")
	find := func(f string) (int, map[string]any) {
		code, out, _ := r.do("GET", "/scim/v2/Users?filter="+url.QueryEscape(f)+"&startIndex=1&count=100", "")
		return code, out
	}
	code, out := find(`emails[type eq "work"].value eq "ADA@example.com"`)
	if code != 200 || out["totalResults"] != 1.0 || out["Resources"].([]any)[0].(map[string]any)["id"] != id {
		t.Fatalf("work email lookup: %d %v", code, out)
	}
	if code, out := find(`emails[type eq "home"].value eq "ada@example.com"`); code != 200 || out["totalResults"] != 0.0 {
		t.Fatalf("home email lookup: %d %v", code, out)
	}
	if code, out := find(`emails[type eq "work"].value eq`); code != 400 || out["scimType"] != "invalidFilter" {
		t.Fatalf("incomplete filter: %d %v", code, out)
	}
}

// TestSCIMEntraPathlessPatchWithFilterKeys: with its aadOptscim062020 flag
// Entra ID puts attribute paths, value filters included, as the keys of a
// pathless replace.
func TestSCIMEntraPathlessPatchWithFilterKeys(t *testing.T) {
	r := newRig(t)
	id := r.create("ada@example.com", "Ada", "Lovelace", "ada-ext")
	code, got, _ := r.do("PATCH", "/scim/v2/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
		{"op":"replace","value":{
			"displayName":"Ada King",
			"emails[type eq \"work\"].value":"ada.king@example.com",
			"phoneNumbers[type eq \"mobile\"].value":"+44 20 7946 0000",
			"name.givenName":"Augusta",
			"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department":"Analytics",
			"active":false}}]}`)
	if code != 200 {
		t.Fatalf("patch: %d %v", code, got)
	}
	f := r.fields(id)
	if f["email"] != "ada.king@example.com" || f["workEmail"] != "ada.king@example.com" || f["mobilePhone"] != "+44 20 7946 0000" ||
		f["givenName"] != "Augusta" || f["department"] != "Analytics" || f["active"] != false || f["displayName"] != "Ada King" {
		t.Fatalf("flat fields %v", f)
	}
	if emails := got["emails"].([]any); len(emails) != 1 {
		t.Fatalf("emails %v: the work email was not changed in place", emails)
	}
}

// TestSCIMStringBooleansOnCreate: "True"/"False" strings for primary (and
// active) on POST and PUT are read as on PATCH, so the primary email is the
// one marked so.
func TestSCIMStringBooleansOnCreate(t *testing.T) {
	r := newRig(t)
	code, u, _ := r.do("POST", "/scim/v2/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],
		"userName":"ada@example.com","active":"True",
		"emails":[{"value":"ada@home.example","type":"home","primary":"False"},{"value":"ada@work.example","type":"work","primary":"True"}],
		"roles":[{"value":"Analyst","primary":"True"}]}`)
	if code != 201 {
		t.Fatalf("create: %d %v", code, u)
	}
	id := u["id"].(string)
	if f := r.fields(id); f["email"] != "ada@work.example" || f["active"] != true {
		t.Fatalf("flat fields %v", f)
	}
	emails := u["emails"].([]any)
	if emails[0].(map[string]any)["primary"] != false || emails[1].(map[string]any)["primary"] != true {
		t.Fatalf("emails %v: primary not stored as a boolean", emails)
	}
	code, u, _ = r.do("PUT", "/scim/v2/Users/"+id, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],
		"userName":"ada@example.com","active":"False",
		"emails":[{"value":"ada@home.example","type":"home","primary":"True"},{"value":"ada@work.example","type":"work"}]}`)
	if code != 200 {
		t.Fatalf("replace: %d %v", code, u)
	}
	if f := r.fields(id); f["email"] != "ada@home.example" || f["active"] != false {
		t.Fatalf("flat fields after PUT %v", f)
	}
	if code, out, _ := r.do("POST", "/scim/v2/Users", `{"userName":"x@example.com","emails":[{"value":"x@example.com","primary":"maybe"}]}`); code != 400 || out["scimType"] != "invalidValue" {
		t.Fatalf("primary maybe: %d %v", code, out)
	}
}

// TestSCIMCustomExtensionListedInSchemas: an extension the client sends
// (Entra ID admins add their own) is kept and named in schemas (RFC 7643
// §3).
func TestSCIMCustomExtensionListedInSchemas(t *testing.T) {
	r := newRig(t)
	const custom = "urn:ietf:params:scim:schemas:extension:acme:2.0:User"
	code, u, _ := r.do("POST", "/scim/v2/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","`+custom+`"],
		"userName":"ada@example.com","`+custom+`":{"worksiteId":"180"}}`)
	if code != 201 {
		t.Fatalf("create: %d %v", code, u)
	}
	schemas := u["schemas"].([]any)
	if !slices.Contains(schemas, any(custom)) || u[custom].(map[string]any)["worksiteId"] != "180" {
		t.Fatalf("created %v", u)
	}
}

// TestSCIMUnservedEndpoints: /Me and /Bulk answer 501 (RFC 7644 §3.11),
// other unknown paths 404, each with a SCIM error body.
func TestSCIMUnservedEndpoints(t *testing.T) {
	r := newRig(t)
	for path, want := range map[string]int{"/scim/v2/Me": 501, "/scim/v2/Bulk": 501, "/scim/v2/Nope": 404} {
		code, body, _ := r.do("POST", path, `{}`)
		if code != want || body["status"] != strconv.Itoa(want) {
			t.Errorf("POST %s: %d %v, want %d", path, code, body, want)
		}
	}
	_, out, _ := r.do("GET", "/scim/v2/Schemas/"+scim.SchemaUser, "")
	found := false
	for _, a := range out["attributes"].([]any) {
		if m := a.(map[string]any); m["name"] == "groups" && m["mutability"] == "readOnly" {
			found = true
		}
	}
	if !found {
		t.Fatalf("the User schema does not list the read-only groups attribute")
	}
}
