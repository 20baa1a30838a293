package scim_test

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/forcesync/forcesync/internal/testrig"

	"github.com/forcesync/forcesync"
)

// spoil adds a number past float64's range to the stored record of User
// id, past every door, as data stored by an older release.
func (r *rig) spoil(id string) {
	r.t.Helper()
	testrig.Spoil(r.t, r.path, "idp_user", id)
}

// TestUnreadableUserListedByIdentity: a User whose stored fields cannot be
// read back stays in the lists with only its id, userName, externalId and
// meta, so an identity provider neither loses it nor reads made-up
// attributes; the others are served whole, totalResults counts what is
// served, a filter on another attribute does not match it, its userName
// stays taken, and a read of it by id is a 500 that says whose data is at
// fault without handing out the field.
func TestUnreadableUserListedByIdentity(t *testing.T) {
	r := newRig(t)
	alice := r.create("alice@example.com", "Alice", "Able", "ext-a")
	bob := r.create("bob@example.com", "Bob", "Baker", "ext-b")
	carol := r.create("carol@example.com", "Carol", "Cole", "ext-c")
	r.spoil(bob)

	check := func(query string, total int, want ...string) {
		t.Helper()
		if !strings.Contains(query, "sortBy") {
			slices.Sort(want) // in key order
		}
		code, list, _ := r.do("GET", "/scim/v2/Users?"+query, "")
		res, _ := list["Resources"].([]any)
		if code != 200 || list["totalResults"] != float64(total) || len(res) != len(want) {
			t.Fatalf("GET /Users?%s: %d %v, want %v", query, code, list, want)
		}
		var bobs map[string]any
		for i, x := range res {
			u := x.(map[string]any)
			if u["id"] != want[i] {
				t.Fatalf("GET /Users?%s: resource %d is %v, want %s", query, i, u["id"], want[i])
			}
			if u["id"] == bob {
				bobs = u
			} else if u["name"] == nil || u["emails"] == nil {
				t.Fatalf("GET /Users?%s: readable User %v not whole", query, u)
			}
		}
		if bobs != nil {
			meta, _ := bobs["meta"].(map[string]any)
			if bobs["userName"] != "bob@example.com" || bobs["externalId"] != "ext-b" || meta["location"] == nil ||
				meta["created"] == nil || bobs["name"] != nil || bobs["emails"] != nil || bobs["active"] != nil {
				t.Fatalf("GET /Users?%s: the unreadable User as %v, want its id, names and meta only", query, bobs)
			}
		}
	}
	all := []string{alice, bob, carol}
	slices.Sort(all)
	check("", 3, alice, bob, carol)
	for i, id := range all {
		check(fmt.Sprintf("count=1&startIndex=%d", i+1), 3, id)
	}
	check("filter="+url.QueryEscape(`userName eq "BOB@example.com"`), 1, bob)
	check("filter="+url.QueryEscape(`externalId eq "ext-b"`), 1, bob)
	check("filter="+url.QueryEscape(`userName sw "bob"`), 1, bob)
	check("filter="+url.QueryEscape(`name.familyName eq "Baker"`), 0)
	check("filter="+url.QueryEscape(`userName ne "nobody"`), 3, alice, bob, carol)
	check("sortBy=name.familyName&sortOrder=descending", 3, carol, alice, bob)
	code, _, _ := r.do("POST", "/scim/v2/.search", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"filter":"userName eq \"bob@example.com\""}`)
	if code != 200 {
		t.Fatalf("POST /.search: %d", code)
	}

	code, e, _ := r.do("GET", "/scim/v2/Users/"+bob, "")
	detail, _ := e["detail"].(string)
	if code != 500 || e["status"] != "500" || !strings.Contains(detail, forcesync.CodeUnreadableRecord) ||
		!strings.Contains(detail, "User "+bob) || !strings.Contains(detail, "nothing is wrong with this request") ||
		strings.Contains(detail, "1e400") || strings.Contains(detail, "field") {
		t.Fatalf("GET of the unreadable User: %d %v", code, e)
	}
	if code, e, _ := r.do("PATCH", "/scim/v2/Users/"+bob, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"title","value":"X"}]}`); code != 500 ||
		!strings.Contains(e["detail"].(string), forcesync.CodeUnreadableRecord) {
		t.Fatalf("PATCH of the unreadable User: %d %v", code, e)
	}
	if code, e, _ := r.do("POST", "/scim/v2/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"bob@example.com"}`); code != 409 || e["scimType"] != "uniqueness" {
		t.Fatalf("a second bob: %d %v, want 409 uniqueness", code, e)
	}
	if code, u, _ := r.do("GET", "/scim/v2/Users/"+alice, ""); code != 200 || u["userName"] != "alice@example.com" {
		t.Fatalf("GET alice: %d %v", code, u)
	}
}

// TestReplaceRepairsUnreadableUser: a PUT of a User whose stored fields
// cannot be read back replaces it whole and so repairs it (Okta updates
// Users with PUT): it keeps the id, meta.created and the Groups that list
// the User, honours If-Match and refuses another User's userName, while a
// PATCH stays refused.
func TestReplaceRepairsUnreadableUser(t *testing.T) {
	r := newRig(t)
	r.create("alice@example.com", "Alice", "Able", "ext-a")
	bob := r.create("bob@example.com", "Bob", "Baker", "ext-b")
	if code, g, _ := r.do("POST", "/scim/v2/Groups", fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Sales","members":[{"value":%q}]}`, bob)); code != 201 {
		t.Fatalf("create Sales: %d %v", code, g)
	}
	_, list, _ := r.do("GET", "/scim/v2/Users?filter="+url.QueryEscape(`userName eq "bob@example.com"`), "")
	meta := list["Resources"].([]any)[0].(map[string]any)["meta"].(map[string]any)
	created, version := meta["created"], meta["version"].(string)
	r.spoil(bob)

	put := func(userName string, h map[string]string) (int, map[string]any) {
		t.Helper()
		return r.doH("PUT", "/scim/v2/Users/"+bob, fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],
			"userName":%q,"externalId":"ext-b","name":{"givenName":"Bob","familyName":"Baker"},"title":"Engineer"}`, userName), h)
	}
	if code, e := put("bob@example.com", map[string]string{"If-Match": `W/"999"`}); code != 412 {
		t.Fatalf("PUT with a stale If-Match: %d %v, want 412", code, e)
	}
	if code, e := put("alice@example.com", nil); code != 409 || e["scimType"] != "uniqueness" {
		t.Fatalf("PUT with alice's userName: %d %v, want 409 uniqueness", code, e)
	}
	if code, e := r.doH("PATCH", "/scim/v2/Users/"+bob, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"title","value":"X"}]}`, nil); code != 500 ||
		!strings.Contains(e["detail"].(string), forcesync.CodeUnreadableRecord) {
		t.Fatalf("PATCH of the unreadable User: %d %v", code, e)
	}
	code, u := put("bob@example.com", map[string]string{"If-Match": version})
	groups, _ := u["groups"].([]any)
	if code != 200 || u["id"] != bob || u["title"] != "Engineer" || u["meta"].(map[string]any)["created"] != created ||
		len(groups) != 1 || groups[0].(map[string]any)["display"] != "Sales" {
		t.Fatalf("PUT of the unreadable User: %d %v, want it replaced with its id, created and group kept", code, u)
	}
	if code, u, _ := r.do("GET", "/scim/v2/Users/"+bob, ""); code != 200 || u["title"] != "Engineer" || u["name"] == nil {
		t.Fatalf("GET of the repaired User: %d %v", code, u)
	}
	if f := r.fields(bob); f["n"] != nil || !slices.Equal(f["groups"].([]any), []any{"Sales"}) {
		t.Fatalf("the repaired User's fields: %v, want groups [Sales] and nothing of the old record", f)
	}

	// A deleted User stays deleted, unreadable or not: a PUT does not bring it back.
	if code, e, _ := r.do("DELETE", "/scim/v2/Users/"+bob, ""); code != 204 {
		t.Fatalf("DELETE bob: %d %v", code, e)
	}
	r.spoil(bob)
	if code, e := put("bob@example.com", nil); code != 404 {
		t.Fatalf("PUT of the deleted, unreadable User: %d %v, want 404", code, e)
	}
}

// TestGroupMembershipOfUnreadableUser: a Group change that adds or removes
// a User whose stored fields cannot be read back (its groups attribute
// cannot be rewritten) saves the rest and leaves that member as it was,
// answering a SCIM error that names it; sent again once the User is
// repaired, it succeeds. A new, renamed or deleted Group with such a
// member is refused whole. Changes that do not touch it go through.
func TestGroupMembershipOfUnreadableUser(t *testing.T) {
	r := newRig(t)
	alice := r.create("alice@example.com", "Alice", "Able", "ext-a")
	bob := r.create("bob@example.com", "Bob", "Baker", "ext-b")
	carol := r.create("carol@example.com", "Carol", "Cole", "ext-c")
	code, g, _ := r.do("POST", "/scim/v2/Groups", fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Sales","members":[{"value":%q}]}`, alice))
	if code != 201 {
		t.Fatalf("create Sales: %d %v", code, g)
	}
	gid := g["id"].(string)
	r.spoil(bob)

	patch := func(ops string) (int, map[string]any) {
		t.Helper()
		code, e, _ := r.do("PATCH", "/scim/v2/Groups/"+gid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[`+ops+`]}`)
		return code, e
	}
	members := func(want ...string) {
		t.Helper()
		_, g, _ := r.do("GET", "/scim/v2/Groups/"+gid, "")
		var got []string
		for _, m := range g["members"].([]any) {
			got = append(got, m.(map[string]any)["value"].(string))
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) || g["displayName"] != "Sales" {
			t.Fatalf("Sales: %v with %v, want members %v", g["displayName"], got, want)
		}
	}
	inSales := func(id string, want bool) {
		t.Helper()
		if got := slices.Contains(r.fields(id)["groups"].([]any), "Sales"); got != want {
			t.Fatalf("User %s in Sales: %v, want %v", id, got, want)
		}
	}
	refused := func(what string, code int, e map[string]any, words ...string) {
		t.Helper()
		detail, _ := e["detail"].(string)
		schemas, _ := e["schemas"].([]any)
		if code != 500 || e["status"] != "500" || len(schemas) != 1 || schemas[0] != "urn:ietf:params:scim:api:messages:2.0:Error" ||
			!strings.Contains(detail, "User "+bob) || !strings.Contains(detail, forcesync.CodeUnreadableRecord) {
			t.Fatalf("%s: %d %v, want a SCIM 500 naming User %s", what, code, e, bob)
		}
		for _, w := range words {
			if !strings.Contains(detail, w) {
				t.Fatalf("%s: detail %q does not say %q", what, detail, w)
			}
		}
	}

	code, e := patch(fmt.Sprintf(`{"op":"add","path":"members","value":[{"value":%q},{"value":%q}]}`, bob, carol))
	refused("adding bob and carol", code, e, "not added")
	members(alice, carol)
	inSales(carol, true)

	code, e, _ = r.do("POST", "/scim/v2/Groups", fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Ops","members":[{"value":%q},{"value":%q}]}`, alice, bob))
	refused("creating Ops with bob", code, e, "nothing was changed")
	if _, list, _ := r.do("GET", "/scim/v2/Groups", ""); list["totalResults"] != 1.0 {
		t.Fatalf("Groups after the refused create: %v", list)
	}

	// Repaired by a PUT, bob joins when the change is sent again.
	if code, u, _ := r.do("PUT", "/scim/v2/Users/"+bob, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"bob@example.com"}`); code != 200 {
		t.Fatalf("PUT bob: %d %v", code, u)
	}
	if code, e := patch(fmt.Sprintf(`{"op":"add","path":"members","value":[{"value":%q},{"value":%q}]}`, bob, carol)); code != 204 {
		t.Fatalf("adding bob again: %d %v", code, e)
	}
	members(alice, bob, carol)
	inSales(bob, true)

	r.spoil(bob)
	code, e = patch(fmt.Sprintf(`{"op":"remove","path":"members[value eq \"%s\"]"},{"op":"remove","path":"members[value eq \"%s\"]"}`, bob, alice))
	refused("removing bob and alice", code, e, "not removed")
	members(bob, carol)
	inSales(alice, false)
	code, e = patch(`{"op":"replace","path":"displayName","value":"Field Sales"}`)
	refused("renaming Sales", code, e, "nothing was changed")
	members(bob, carol)
	code, e, _ = r.do("DELETE", "/scim/v2/Groups/"+gid, "")
	refused("deleting Sales", code, e, "nothing was changed")
	members(bob, carol)

	if code, e := patch(fmt.Sprintf(`{"op":"add","path":"members","value":[{"value":%q}]}`, alice)); code != 204 {
		t.Fatalf("adding alice beside the unreadable bob: %d %v", code, e)
	}
	members(alice, bob, carol)
	inSales(alice, true)
}
