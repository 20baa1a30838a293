package scim_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// A User attribute sent in the wrong shape ("emails" as a string, "name" as
// a string, a list for name.givenName) is refused naming the attribute, on
// POST, PUT and PATCH, instead of being stored where no field reads it (the
// person would reach Salesforce without an email, told nothing).
func TestWrongShapesRefused(t *testing.T) {
	r := newRig(t)
	code, u, _ := r.do("POST", "/scim/v2/Users", `{"userName":"shape@example.com","emails":[{"value":"shape@example.com","primary":"True"}],"name":{"givenName":"Ada"}}`)
	if code != 201 {
		t.Fatalf("create: %d %v", code, u)
	}
	id := u["id"].(string)
	const patch = `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[%s]}`
	for _, tc := range []struct {
		name, method, path, body, says string
	}{
		{"emails as a string", "POST", "/scim/v2/Users", `{"userName":"s1@example.com","emails":"s1@example.com"}`, `"emails" is multi-valued`},
		{"email element as a string", "POST", "/scim/v2/Users", `{"userName":"s2@example.com","emails":["s2@example.com"]}`, `"emails[0]" must be an object`},
		{"name as a string", "POST", "/scim/v2/Users", `{"userName":"s3@example.com","name":"Ada Lovelace"}`, `"name" must be an object`},
		{"givenName as a list", "POST", "/scim/v2/Users", `{"userName":"s4@example.com","name":{"givenName":["Ada"]}}`, `"name.givenName"`},
		{"title as an object", "POST", "/scim/v2/Users", `{"userName":"s5@example.com","title":{"en":"Countess"}}`, `"title" takes a single simple value`},
		{"department as a list", "POST", "/scim/v2/Users", `{"userName":"s6@example.com","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":["R&D"]}}`, `"department"`},
		{"PUT phoneNumbers as an object", "PUT", "/scim/v2/Users/" + id, `{"userName":"shape@example.com","phoneNumbers":{"value":"+1 555"}}`, `"phoneNumbers" is multi-valued`},
		{"PATCH emails as a string", "PATCH", "/scim/v2/Users/" + id, strings.Replace(patch, "%s", `{"op":"replace","path":"emails","value":"x@example.com"}`, 1), `"emails"`},
		{"pathless PATCH name as a string", "PATCH", "/scim/v2/Users/" + id, strings.Replace(patch, "%s", `{"op":"replace","value":{"name":"Ada"}}`, 1), `"name"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body, _ := r.do(tc.method, tc.path, tc.body)
			detail, _ := body["detail"].(string)
			if code != 400 || body["scimType"] != "invalidValue" || !strings.Contains(detail, tc.says) {
				t.Fatalf("%d %v, want 400 invalidValue saying %s", code, body, tc.says)
			}
		})
	}
	if f := r.fields(id); f["email"] != "shape@example.com" || f["givenName"] != "Ada" || f["phone"] != nil {
		t.Fatalf("the refused changes reached the stored User: %v", f)
	}
	// null stands for an unassigned attribute, whatever its shape.
	if code, body, _ := r.do("POST", "/scim/v2/Users", `{"userName":"nulls@example.com","name":null,"emails":null,"title":null,`+
		`"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":null}}`); code != 201 {
		t.Fatalf("create with null attributes: %d %v", code, body)
	}
	// What Entra and Okta send still goes through.
	code, body, _ := r.do("PATCH", "/scim/v2/Users/"+id, strings.Replace(patch, "%s",
		`{"op":"Replace","path":"active","value":"False"},{"op":"replace","value":{"emails[type eq \"work\"].value":"w@example.com","name.givenName":"Augusta"}},{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":"m-1"}`, 1))
	if code != 200 {
		t.Fatalf("Entra PATCH: %d %v", code, body)
	}
	if f := r.fields(id); f["givenName"] != "Augusta" || f["workEmail"] != "w@example.com" || f["manager"] != "m-1" {
		t.Fatalf("fields after the Entra PATCH: %v", f)
	}
}

// A Group's members sent as anything but a list of {"value": id} is refused
// on POST and PUT, not stored as a Group without those members.
func TestGroupMembersShapeRefused(t *testing.T) {
	r := newRig(t)
	code, u, _ := r.do("POST", "/scim/v2/Users", `{"userName":"member@example.com"}`)
	if code != 201 {
		t.Fatalf("create user: %d %v", code, u)
	}
	uid := u["id"].(string)
	code, g, _ := r.do("POST", "/scim/v2/Groups", `{"displayName":"staff","members":[{"value":"`+uid+`"}]}`)
	if code != 201 {
		t.Fatalf("create group: %d %v", code, g)
	}
	gid := g["id"].(string)
	for _, tc := range []struct{ name, method, path, body string }{
		{"members as a string", "POST", "/scim/v2/Groups", `{"displayName":"g1","members":"` + uid + `"}`},
		{"member without value", "POST", "/scim/v2/Groups", `{"displayName":"g2","members":[{"display":"Ada"}]}`},
		{"PUT members as a list of strings", "PUT", "/scim/v2/Groups/" + gid, `{"displayName":"staff","members":["` + uid + `"]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body, _ := r.do(tc.method, tc.path, tc.body)
			detail, _ := body["detail"].(string)
			if code != 400 || body["scimType"] != "invalidValue" || !strings.Contains(detail, "member") {
				t.Fatalf("%d %v, want 400 invalidValue about members", code, body)
			}
		})
	}
	code, g, _ = r.do("GET", "/scim/v2/Groups/"+gid, "")
	if m, _ := g["members"].([]any); code != 200 || len(m) != 1 {
		t.Fatalf("the refused PUT changed the Group: %d %v", code, g)
	}
	code, list, _ := r.do("GET", "/scim/v2/Groups", "")
	if code != 200 || list["totalResults"] != 1.0 {
		t.Fatalf("a refused POST stored a Group: %d %v", code, list)
	}
}

// A stale If-Match on a Group names the Group in the 412, not a User.
func TestGroupPreconditionNamesGroup(t *testing.T) {
	r := newRig(t)
	code, g, _ := r.do("POST", "/scim/v2/Groups", `{"displayName":"ops"}`)
	if code != 201 {
		t.Fatalf("create group: %d %v", code, g)
	}
	gid := g["id"].(string)
	for _, method := range []string{"PUT", "PATCH", "DELETE"} {
		req, err := http.NewRequest(method, r.url+"/scim/v2/Groups/"+gid, strings.NewReader(map[string]string{
			"PUT":    `{"displayName":"ops2"}`,
			"PATCH":  `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"displayName","value":"ops2"}]}`,
			"DELETE": ``}[method]))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/scim+json")
		req.Header.Set("If-Match", `W/"9"`)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		detail, _ := body["detail"].(string)
		if resp.StatusCode != 412 || !strings.HasPrefix(detail, "the Group changed") {
			t.Errorf("%s with a stale If-Match: %d %q, want 412 naming the Group", method, resp.StatusCode, detail)
		}
	}
}
