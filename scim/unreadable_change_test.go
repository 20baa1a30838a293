package scim_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/internal/testrig"
	"github.com/forcesync/forcesync/scim"
	"github.com/forcesync/forcesync/sqlite"
)

// spoilText replaces from by to in the stored fields of source/key (every
// occurrence: the flat field and the resource under "scim"), past every
// door, as data stored by an older release; to holds a number past
// float64's range, so the record can no longer be read back.
func spoilText(t *testing.T, path, source, key, from, to string) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	res, err := db.Exec(`UPDATE source_records SET fields = replace(fields, ?, ?) WHERE source = ? AND key = ? AND instr(fields, ?) > 0`, from, to, source, key, from)
	if err != nil {
		t.Fatalf("spoil %s/%s: %v", source, key, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		t.Fatalf("spoil %s/%s: %q not found", source, key, from)
	}
}

const badgeExt = "urn:ietf:params:scim:schemas:extension:acme:2.0:User"

// createBadged creates a User with a custom extension attribute badge 7,
// which spoilBadge makes unreadable inside the stored resource.
func (r *rig) createBadged(userName, family string) string {
	r.t.Helper()
	code, u, _ := r.do("POST", "/scim/v2/Users", fmt.Sprintf(`{"schemas":[%q,%q],"userName":%q,"active":true,
		"name":{"givenName":"G","familyName":%q},"emails":[{"value":%q,"type":"work","primary":true}],%q:{"badge":7}}`,
		scim.SchemaUser, badgeExt, userName, family, userName, badgeExt))
	if code != 201 {
		r.t.Fatalf("create %s: %d %v", userName, code, u)
	}
	return u["id"].(string)
}

func (r *rig) spoilBadge(id string) {
	r.t.Helper()
	spoilText(r.t, r.path, "idp_user", id, `"badge":7`, `"badge":1e400`)
}

// unreadableNow reports whether the stored User id cannot be read back.
func (r *rig) unreadableNow(id string) bool {
	r.t.Helper()
	_, err := r.store.SourceRecord(context.Background(), "idp_user", id)
	re, ok := errors.AsType[*forcesync.RecordError](err)
	return ok && re.Code == forcesync.CodeUnreadableRecord
}

// claimed returns the queued work of the rig's mapping by key: the newest
// change of each (the queue coalesces them), leased.
func (r *rig) claimed() map[string]forcesync.WorkItem {
	r.t.Helper()
	items, err := r.store.Claim(context.Background(), forcesync.ClaimRequest{Mapping: "idp_to_contacts", Owner: "w", Lease: time.Minute, Limit: 100, Now: time.Now()})
	if err != nil {
		r.t.Fatal(err)
	}
	out := map[string]forcesync.WorkItem{}
	for _, it := range items {
		out[it.Key] = it
	}
	return out
}

const patchOps = `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[%s]}`

// TestDeleteUnreadableUser: a DELETE of a User whose stored fields cannot
// be read back (Entra ID's deprovisioning) deletes it like any other: 204,
// If-Match honoured, and the delete queued for the mapping readable, with
// the User as far as it can be read (the unreadable value left out, its
// groups from the Groups), so the engine deprovisions it by the mapping's
// rules instead of holding it.
func TestDeleteUnreadableUser(t *testing.T) {
	r := newRig(t)
	bob := r.createBadged("bob@example.com", "Baker")
	carol := r.create("carol@example.com", "Carol", "Cole", "ext-c")
	if code, g, _ := r.do("POST", "/scim/v2/Groups", fmt.Sprintf(`{"schemas":[%q],"displayName":"Sales","members":[{"value":%q}]}`, scim.SchemaGroup, bob)); code != 201 {
		t.Fatalf("create Sales: %d %v", code, g)
	}
	r.spoilBadge(bob)
	r.spoil(carol) // spoilt beside the resource, in the flat fields only

	if code, e := r.doH("DELETE", "/scim/v2/Users/"+bob, "", map[string]string{"If-Match": `W/"999"`}); code != 412 {
		t.Fatalf("DELETE with a stale If-Match: %d %v, want 412", code, e)
	}
	if !r.unreadableNow(bob) {
		t.Fatal("the refused DELETE changed bob")
	}
	for _, id := range []string{bob, carol} {
		if code, e, _ := r.do("DELETE", "/scim/v2/Users/"+id, ""); code != 204 {
			t.Fatalf("DELETE of the unreadable User %s: %d %v, want 204", id, code, e)
		}
		if code, e, _ := r.do("GET", "/scim/v2/Users/"+id, ""); code != 404 {
			t.Fatalf("GET after the DELETE: %d %v, want 404", code, e)
		}
		if code, e, _ := r.do("DELETE", "/scim/v2/Users/"+id, ""); code != 404 {
			t.Fatalf("second DELETE: %d %v, want 404", code, e)
		}
	}
	rec, err := r.store.SourceRecord(context.Background(), "idp_user", bob)
	if err != nil || !rec.Deleted || rec.Fields["userName"] != "bob@example.com" || rec.Fields["familyName"] != "Baker" ||
		!slices.Equal(rec.Fields["groups"].([]any), []any{"Sales"}) || strings.Contains(fmt.Sprint(rec.Fields), "badge") {
		t.Fatalf("bob after the DELETE: %+v %v, want deleted, readable, as stored but for the badge", rec, err)
	}
	work := r.claimed()
	for _, id := range []string{bob, carol} {
		it, ok := work[id]
		if !ok || it.Op != forcesync.OpDelete || it.Unreadable != nil || it.Fields["userName"] == nil {
			t.Fatalf("work queued for %s: %+v (queued %v), want a readable delete", id, it, ok)
		}
	}
	if code, list, _ := r.do("GET", "/scim/v2/Users", ""); code != 200 || list["totalResults"] != 0.0 {
		t.Fatalf("Users after the DELETEs: %d %v", code, list)
	}
}

// TestDeactivateUnreadableUser: a PATCH that only sets active false (as
// Entra ID and Okta send it) deactivates a User whose stored fields cannot
// be read back: it applies to the User as far as it can be read, so the
// answer, a GET and the change queued for the mapping (a readable disable)
// have its other attributes and groups, less the value that could not be
// read. A PATCH that changes anything else is a 500 that says what to do,
// and changes nothing.
func TestDeactivateUnreadableUser(t *testing.T) {
	r := newRig(t)
	bob := r.createBadged("bob@example.com", "Baker")
	carol := r.create("carol@example.com", "Carol", "Cole", "ext-c")
	if code, g, _ := r.do("POST", "/scim/v2/Groups", fmt.Sprintf(`{"schemas":[%q],"displayName":"Sales","members":[{"value":%q}]}`, scim.SchemaGroup, bob)); code != 201 {
		t.Fatalf("create Sales: %d %v", code, g)
	}
	r.spoilBadge(bob)
	r.spoil(carol)

	for _, ops := range []string{
		`{"op":"replace","path":"title","value":"X"}`,
		`{"op":"Replace","path":"active","value":"False"},{"op":"replace","path":"title","value":"X"}`,
		`{"op":"replace","value":{"active":false,"displayName":"B"}}`,
	} {
		code, e, _ := r.do("PATCH", "/scim/v2/Users/"+bob, fmt.Sprintf(patchOps, ops))
		detail, _ := e["detail"].(string)
		if code != 500 || e["status"] != "500" || e["scimType"] != nil || !strings.Contains(detail, "User "+bob) ||
			!strings.Contains(detail, forcesync.CodeUnreadableRecord) || !strings.Contains(detail, "nothing was changed") ||
			!strings.Contains(detail, "active false") || !strings.Contains(detail, "PUT") || strings.Contains(detail, "1e400") {
			t.Fatalf("PATCH %s of the unreadable User: %d %v, want a 500 that says what is accepted", ops, code, e)
		}
		if !r.unreadableNow(bob) {
			t.Fatalf("the refused PATCH %s changed bob", ops)
		}
	}
	if code, e := r.doH("PATCH", "/scim/v2/Users/"+bob, fmt.Sprintf(patchOps, `{"op":"Replace","path":"active","value":"False"}`), map[string]string{"If-Match": `W/"999"`}); code != 412 {
		t.Fatalf("PATCH with a stale If-Match: %d %v, want 412", code, e)
	}

	// Entra ID's form; then Okta's.
	for id, ops := range map[string]string{
		bob:   `{"op":"Replace","path":"active","value":"False"}`,
		carol: `{"op":"replace","value":{"active":false}}`,
	} {
		code, u, _ := r.do("PATCH", "/scim/v2/Users/"+id, fmt.Sprintf(patchOps, ops))
		if code != 200 || u["active"] != false || u["name"] == nil || u["emails"] == nil || u["id"] != id {
			t.Fatalf("deactivating the unreadable User %s: %d %v, want 200 with the User inactive and whole", id, code, u)
		}
		if code, g, _ := r.do("GET", "/scim/v2/Users/"+id, ""); code != 200 || g["active"] != false || g["name"] == nil {
			t.Fatalf("GET of the deactivated User %s: %d %v", id, code, g)
		}
	}
	f := r.fields(bob)
	if f["active"] != false || f["familyName"] != "Baker" || !slices.Equal(f["groups"].([]any), []any{"Sales"}) || strings.Contains(fmt.Sprint(f), "badge") {
		t.Fatalf("bob's fields after the deactivation: %v", f)
	}
	if f := r.fields(carol); f["active"] != false || f["familyName"] != "Cole" || f["n"] != nil {
		t.Fatalf("carol's fields after the deactivation: %v", f)
	}
	work := r.claimed()
	for _, id := range []string{bob, carol} {
		if it, ok := work[id]; !ok || it.Op != forcesync.OpDisable || it.Unreadable != nil || it.Fields["familyName"] == nil {
			t.Fatalf("work queued for %s: %+v (queued %v), want a readable disable with its fields", id, it, ok)
		}
	}
	// Readable again, it takes any PATCH.
	if code, u, _ := r.do("PATCH", "/scim/v2/Users/"+bob, fmt.Sprintf(patchOps, `{"op":"replace","path":"title","value":"X"}`)); code != 200 || u["title"] != "X" {
		t.Fatalf("PATCH of the repaired User: %d %v", code, u)
	}
}

// TestChangeUnreadableGroup: a Group whose stored fields cannot be read
// back still takes a PATCH of its members (it reads them, which can be
// read), a PUT and a DELETE, each bringing its members' groups up to date
// and storing it readable again. A PATCH that needs its displayName when
// that is what cannot be read is a 500 that says so, and changes nothing.
func TestChangeUnreadableGroup(t *testing.T) {
	r := newRig(t)
	alice := r.create("alice@example.com", "Alice", "Able", "ext-a")
	bob := r.create("bob@example.com", "Bob", "Baker", "ext-b")
	carol := r.create("carol@example.com", "Carol", "Cole", "ext-c")
	code, g, _ := r.do("POST", "/scim/v2/Groups", fmt.Sprintf(`{"schemas":[%q],"displayName":"Sales","externalId":"g-1","members":[{"value":%q},{"value":%q}]}`, scim.SchemaGroup, alice, bob))
	if code != 201 {
		t.Fatalf("create Sales: %d %v", code, g)
	}
	gid := g["id"].(string)
	created := g["meta"].(map[string]any)["created"]
	spoil := func() {
		t.Helper()
		testrig.Spoil(t, r.path, "idp_user#groups", gid)
		if code, e, _ := r.do("GET", "/scim/v2/Groups/"+gid, ""); code != 500 || !strings.Contains(e["detail"].(string), forcesync.CodeUnreadableRecord) {
			t.Fatalf("GET of the unreadable Group: %d %v", code, e)
		}
	}
	group := func(name string, want ...string) {
		t.Helper()
		code, g, _ := r.do("GET", "/scim/v2/Groups/"+gid, "")
		var got []string
		ms, _ := g["members"].([]any)
		for _, m := range ms {
			got = append(got, m.(map[string]any)["value"].(string))
		}
		slices.Sort(got)
		slices.Sort(want)
		if code != 200 || g["displayName"] != name || !slices.Equal(got, want) || g["externalId"] != "g-1" || g["meta"].(map[string]any)["created"] != created {
			t.Fatalf("the Group: %d %v, want %s with %v", code, g, name, want)
		}
	}
	groupsOf := func(id string, want ...any) {
		t.Helper()
		if got := r.fields(id)["groups"].([]any); !slices.Equal(got, append([]any{}, want...)) {
			t.Fatalf("User %s's groups %v, want %v", id, got, want)
		}
	}
	patch := func(ops string) (int, map[string]any) {
		t.Helper()
		code, e, _ := r.do("PATCH", "/scim/v2/Groups/"+gid, fmt.Sprintf(patchOps, ops))
		return code, e
	}

	spoil()
	if code, e := patch(fmt.Sprintf(`{"op":"add","path":"members","value":[{"value":%q}]},{"op":"remove","path":"members[value eq \"%s\"]"}`, carol, alice)); code != 204 {
		t.Fatalf("PATCH of the unreadable Group's members: %d %v, want 204", code, e)
	}
	group("Sales", bob, carol)
	groupsOf(alice)
	groupsOf(bob, "Sales")
	groupsOf(carol, "Sales")

	spoil()
	if code, e := r.doH("PUT", "/scim/v2/Groups/"+gid, fmt.Sprintf(`{"schemas":[%q],"displayName":"Field Sales","externalId":"g-1","members":[{"value":%q},{"value":%q}]}`, scim.SchemaGroup, alice, carol), map[string]string{"If-Match": `W/"999"`}); code != 412 {
		t.Fatalf("PUT with a stale If-Match: %d %v, want 412", code, e)
	}
	code, pg, _ := r.do("PUT", "/scim/v2/Groups/"+gid, fmt.Sprintf(`{"schemas":[%q],"displayName":"Field Sales","externalId":"g-1","members":[{"value":%q},{"value":%q}]}`, scim.SchemaGroup, alice, carol))
	if code != 200 || pg["displayName"] != "Field Sales" || pg["id"] != gid {
		t.Fatalf("PUT of the unreadable Group: %d %v, want 200", code, pg)
	}
	group("Field Sales", alice, carol)
	groupsOf(alice, "Field Sales")
	groupsOf(bob)
	groupsOf(carol, "Field Sales")

	// Its displayName is what cannot be read: a PATCH must set it.
	spoilText(t, r.path, "idp_user#groups", gid, `"displayName":"Field Sales"`, `"displayName":1e400`)
	code, e := patch(fmt.Sprintf(`{"op":"add","path":"members","value":[{"value":%q}]}`, bob))
	if detail, _ := e["detail"].(string); code != 500 || e["scimType"] != nil || !strings.Contains(detail, "Group "+gid) ||
		!strings.Contains(detail, "displayName") || !strings.Contains(detail, forcesync.CodeUnreadableRecord) || !strings.Contains(detail, "nothing was changed") {
		t.Fatalf("PATCH keeping an unreadable displayName: %d %v, want a 500 naming it", code, e)
	}
	groupsOf(bob)
	if code, e, _ := r.do("PUT", "/scim/v2/Groups/"+gid, fmt.Sprintf(`{"schemas":[%q],"members":[{"value":%q}]}`, scim.SchemaGroup, bob)); code != 400 || e["scimType"] != "invalidValue" {
		t.Fatalf("PUT without a displayName: %d %v, want 400 invalidValue, as for any Group", code, e)
	}
	if code, e := patch(fmt.Sprintf(`{"op":"add","path":"members","value":[{"value":%q}]},{"op":"replace","path":"displayName","value":"Sales"}`, bob)); code != 204 {
		t.Fatalf("PATCH setting the unreadable displayName: %d %v, want 204", code, e)
	}
	group("Sales", alice, bob, carol)
	groupsOf(alice, "Sales")
	groupsOf(bob, "Sales")
	groupsOf(carol, "Sales")

	spoil()
	if code, e, _ := r.do("DELETE", "/scim/v2/Groups/"+gid, ""); code != 204 {
		t.Fatalf("DELETE of the unreadable Group: %d %v, want 204", code, e)
	}
	if code, _, _ := r.do("GET", "/scim/v2/Groups/"+gid, ""); code != 404 {
		t.Fatalf("GET of the deleted Group: %d", code)
	}
	groupsOf(alice)
	groupsOf(bob)
	groupsOf(carol)
}

// countingStore counts the reads of each stored record by key.
type countingStore struct {
	forcesync.Store
	mu    sync.Mutex
	reads map[string]int
}

func (c *countingStore) SourceRecord(ctx context.Context, source, key string) (*forcesync.SourceRecord, error) {
	c.mu.Lock()
	c.reads[source+"/"+key]++
	c.mu.Unlock()
	return c.Store.SourceRecord(ctx, source, key)
}

func (c *countingStore) take() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.reads
	c.reads = map[string]int{}
	return out
}

// TestGroupChangeReadsMembersOnce: a Group change reads each member it
// adds, removes or renames once, not once to check it and again to write
// it.
func TestGroupChangeReadsMembersOnce(t *testing.T) {
	cs := &countingStore{reads: map[string]int{}}
	r := newRigStore(t, func(st *sqlite.Store) forcesync.Store { cs.Store = st; return cs })
	alice := r.create("alice@example.com", "Alice", "Able", "ext-a")
	bob := r.create("bob@example.com", "Bob", "Baker", "ext-b")
	carol := r.create("carol@example.com", "Carol", "Cole", "ext-c")
	code, g, _ := r.do("POST", "/scim/v2/Groups", fmt.Sprintf(`{"schemas":[%q],"displayName":"Sales","members":[{"value":%q}]}`, scim.SchemaGroup, alice))
	if code != 201 {
		t.Fatalf("create Sales: %d %v", code, g)
	}
	gid := g["id"].(string)
	check := func(what string, want ...string) {
		t.Helper()
		reads := cs.take()
		for _, id := range []string{alice, bob, carol} {
			n := reads["idp_user/"+id]
			if slices.Contains(want, id) != (n == 1) || n > 1 {
				t.Errorf("%s: User %s read %d times, want %v", what, id, n, map[bool]int{true: 1}[slices.Contains(want, id)])
			}
		}
	}
	check("creating Sales", alice)
	if code, e, _ := r.do("PATCH", "/scim/v2/Groups/"+gid, fmt.Sprintf(patchOps, fmt.Sprintf(`{"op":"add","path":"members","value":[{"value":%q},{"value":%q}]},{"op":"remove","path":"members[value eq \"%s\"]"}`, bob, carol, alice))); code != 204 {
		t.Fatalf("PATCH Sales: %d %v", code, e)
	}
	check("adding bob and carol, removing alice", alice, bob, carol)
	if code, e, _ := r.do("PATCH", "/scim/v2/Groups/"+gid, fmt.Sprintf(patchOps, `{"op":"replace","path":"displayName","value":"Field Sales"}`)); code != 204 {
		t.Fatalf("renaming Sales: %d %v", code, e)
	}
	check("renaming", bob, carol)
	if code, e, _ := r.do("DELETE", "/scim/v2/Groups/"+gid, ""); code != 204 {
		t.Fatalf("DELETE: %d %v", code, e)
	}
	check("deleting", bob, carol)
	if f := r.fields(bob); len(f["groups"].([]any)) != 0 {
		t.Fatalf("bob's groups after the delete: %v", f["groups"])
	}
}

// TestUnreadableUserInUnreadableGroup: a User whose stored fields cannot
// be read back takes its groups from the Groups when it is deactivated,
// replaced or deleted; a Group that cannot be read back itself still
// counts, by its members as far as they can be read: the User keeps it
// (a mapping scoped to it would otherwise deprovision the User).
func TestUnreadableUserInUnreadableGroup(t *testing.T) {
	r := newRig(t)
	bob := r.create("bob@example.com", "Bob", "Baker", "ext-b")
	for _, name := range []string{"Sales", "Ops"} {
		code, g, _ := r.do("POST", "/scim/v2/Groups", fmt.Sprintf(`{"schemas":[%q],"displayName":%q,"members":[{"value":%q}]}`, scim.SchemaGroup, name, bob))
		if code != 201 {
			t.Fatalf("create %s: %d %v", name, code, g)
		}
		if name == "Sales" {
			testrig.Spoil(t, r.path, "idp_user#groups", g["id"].(string))
		}
	}
	want := []any{"Ops", "Sales"}
	groups := func(what string) {
		t.Helper()
		got := slices.Clone(r.fields(bob)["groups"].([]any))
		slices.SortFunc(got, func(a, b any) int { return strings.Compare(a.(string), b.(string)) })
		if !slices.Equal(got, want) {
			t.Fatalf("bob's groups after %s: %v, want %v", what, got, want)
		}
	}
	r.spoil(bob)
	if code, u, _ := r.do("PATCH", "/scim/v2/Users/"+bob, fmt.Sprintf(patchOps, `{"op":"replace","value":{"active":false}}`)); code != 200 {
		t.Fatalf("deactivating bob: %d %v", code, u)
	}
	groups("the deactivation")
	r.spoil(bob)
	if code, u, _ := r.do("PUT", "/scim/v2/Users/"+bob, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"bob@example.com"}`); code != 200 {
		t.Fatalf("PUT bob: %d %v", code, u)
	}
	groups("the PUT")
	r.spoil(bob)
	if code, e, _ := r.do("DELETE", "/scim/v2/Users/"+bob, ""); code != 204 {
		t.Fatalf("DELETE bob: %d %v", code, e)
	}
	rec, err := r.store.SourceRecord(context.Background(), "idp_user", bob)
	if err != nil || !rec.Deleted {
		t.Fatalf("bob after the DELETE: %+v %v", rec, err)
	}
	groups("the DELETE")
}
