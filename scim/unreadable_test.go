package scim_test

import (
	"database/sql"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/forcesync/forcesync"
)

// spoil adds a number past float64's range to the stored record of User
// id, past every door, as data stored by an older release.
func (r *rig) spoil(id string) {
	r.t.Helper()
	db, err := sql.Open("sqlite", "file:"+r.path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		r.t.Fatal(err)
	}
	defer db.Close()
	res, err := db.Exec(`UPDATE source_records SET fields = '{"n":1e400,' || substr(fields, 2) WHERE source = 'idp_user' AND key = ?`, id)
	if n, _ := res.RowsAffected(); err != nil || n != 1 {
		r.t.Fatalf("spoil %s: %d rows, %v", id, n, err)
	}
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
