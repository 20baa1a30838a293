package scim_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"testing"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/internal/testrig"
	"github.com/forcesync/forcesync/scim"
)

// TestUnreadableUserDeprovisioned: Users whose stored fields cannot be
// read back are deprovisioned in Salesforce by the mapping's rules when
// the identity provider deactivates (PATCH active false) or deletes them,
// as readable ones are: a real engine pushes to the emulator. The mapping
// is scoped to the Group Sales, so the deactivation must keep the User's
// groups (out of scope, it would be deleted instead of disabled), and
// deletes on delete.
func TestUnreadableUserDeprovisioned(t *testing.T) {
	m := forcesync.Mapping{Name: "idp_contacts", Source: "idp_user", Object: "Contact",
		Match: forcesync.MatchRule{Kind: forcesync.MatchBinding}, Filter: `"Sales" in groups`,
		Operations: forcesync.Operations{Delete: forcesync.DeleteDelete, DisableWrites: map[string]any{"HasOptedOutOfEmail": true}},
		Fields:     []forcesync.FieldRow{{Target: "LastName", SourceField: "familyName"}, {Target: "Email", SourceField: "email"}}}
	bench := testrig.New(t, testrig.Options{}, m)
	srv := httptest.NewServer(scim.New(scim.Config{Store: bench.Store, Engine: bench.Eng, Source: "idp_user", Token: token}))
	t.Cleanup(srv.Close)
	r := &rig{t: t, url: srv.URL, store: bench.Store, path: bench.Path}

	bob := r.createBadged("bob@example.com", "Baker")
	carol := r.create("carol@example.com", "Carol", "Cole", "ext-c")
	if code, g, _ := r.do("POST", "/scim/v2/Groups", fmt.Sprintf(`{"schemas":[%q],"displayName":"Sales","members":[{"value":%q},{"value":%q}]}`, scim.SchemaGroup, bob, carol)); code != 201 {
		t.Fatalf("create Sales: %d %v", code, g)
	}
	bench.Drain()
	contact := func(id string) (forcesync.RecordStatus, []map[string]any) {
		t.Helper()
		sts, err := bench.Store.Statuses(context.Background(), "idp_user", id)
		if err != nil || len(sts) != 1 {
			t.Fatalf("statuses of %s: %v %v", id, sts, err)
		}
		var recs []map[string]any
		if sts[0].SalesforceID != "" {
			for _, rec := range bench.Query("SELECT Id, LastName, HasOptedOutOfEmail FROM Contact WHERE Id = '" + sts[0].SalesforceID + "'") {
				recs = append(recs, rec)
			}
		}
		return sts[0], recs
	}
	ids := map[string]string{}
	for _, id := range []string{bob, carol} {
		st, recs := contact(id)
		if st.State != forcesync.StateSynced || len(recs) != 1 || recs[0]["HasOptedOutOfEmail"] != false {
			t.Fatalf("User %s after the create: %+v %v", id, st, recs)
		}
		ids[id] = st.SalesforceID
	}
	r.spoilBadge(bob)
	r.spoil(carol)

	if code, u, _ := r.do("PATCH", "/scim/v2/Users/"+bob, fmt.Sprintf(patchOps, `{"op":"Replace","path":"active","value":"False"}`)); code != 200 {
		t.Fatalf("deactivating bob: %d %v", code, u)
	}
	if code, e, _ := r.do("DELETE", "/scim/v2/Users/"+carol, ""); code != 204 {
		t.Fatalf("deleting carol: %d %v", code, e)
	}
	bench.Drain()
	if st, recs := contact(bob); st.State != forcesync.StateDisabled || len(recs) != 1 || recs[0]["HasOptedOutOfEmail"] != true {
		t.Fatalf("bob after the deactivation: %+v %v, want disabled (HasOptedOutOfEmail) and kept", st, recs)
	}
	if st, _ := contact(carol); st.State != forcesync.StateDeleted {
		t.Fatalf("carol after the DELETE: %+v, want deleted", st)
	}
	if recs := bench.Query("SELECT Id FROM Contact WHERE Id = '" + ids[carol] + "'"); len(recs) != 0 {
		t.Fatalf("carol's Contact after the DELETE: %v, want gone", recs)
	}
}
