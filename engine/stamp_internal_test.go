package engine

import (
	"context"
	"fmt"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/emulator"
	"github.com/forcesync/forcesync/salesforce"
)

// updateSizes passes Update calls through and keeps how many records each
// took.
type updateSizes struct {
	*SalesforceAPI
	sizes []int
}

func (u *updateSizes) Update(ctx context.Context, obj string, recs []salesforce.Record) ([]Result, error) {
	u.sizes = append(u.sizes, len(recs))
	return u.SalesforceAPI.Update(ctx, obj, recs)
}

// TestStampExternalIDs: stamps go 200 to a call, in order; a Contact
// stamped twice goes in a later call, so the later value wins as it did
// one call each; a malformed Id fails its own stamp without a call (the
// client would refuse the whole call for it), the others go out together;
// an outage fails every stamp of its call without a call per record.
func TestStampExternalIDs(t *testing.T) {
	ctx := context.Background()
	emu, err := emulator.New(emulator.Config{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	client, err := salesforce.NewClient(ctx, salesforce.Config{LoginURL: srv.URL,
		Auth: salesforce.Password{ClientID: emulator.DemoClientID, ClientSecret: emulator.DemoClientSecret,
			Username: emulator.DefaultUsername, Password: emulator.DefaultPassword}})
	if err != nil {
		t.Fatal(err)
	}
	api := &updateSizes{SalesforceAPI: &SalesforceAPI{Client: client}}
	pipes, err := Compile(ctx, api, []forcesync.Mapping{{Name: "contacts", Source: "person", Object: "Contact",
		Match:  forcesync.MatchRule{Kind: forcesync.MatchExternalID, Field: "Forcesync_Key__c"},
		Fields: []forcesync.FieldRow{{Target: "LastName", SourceField: "last"}}}})
	if err != nil {
		t.Fatal(err)
	}
	cp := pipes[0]
	recs := make([]salesforce.Record, 401)
	for i := range recs {
		recs[i] = salesforce.Record{"LastName": fmt.Sprint("C", i)}
	}
	res, err := client.CreateMany(ctx, "Contact", recs, nil)
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]string, len(res))
	for i, r := range res {
		ids[i] = r.ID
	}
	stampOf := func(key, id string) *stamp {
		return &stamp{rec: &forcesync.SourceRecord{Source: "person", Key: key, Fields: map[string]any{"last": "L"}}, id: id}
	}
	keyOf := func(id string) any {
		t.Helper()
		got, err := client.Get(ctx, "Contact", id, "Forcesync_Key__c")
		if err != nil {
			t.Fatal(err)
		}
		return got["Forcesync_Key__c"]
	}
	check := func(name string, stamps []*stamp, sizes []int, failed ...int) {
		t.Helper()
		api.sizes = nil
		stampExternalIDs(ctx, api, cp, stamps)
		if !slices.Equal(api.sizes, sizes) {
			t.Fatalf("%s: Update calls of %v records, want %v", name, api.sizes, sizes)
		}
		for i, s := range stamps {
			if fails := slices.Contains(failed, i); fails != (s.err != nil) {
				t.Fatalf("%s: stamp %d (%s on %s): err %v, want failure %v", name, i, s.rec.Key, s.id, s.err, fails)
			}
		}
	}

	var wave []*stamp
	for i, id := range ids {
		wave = append(wave, stampOf(fmt.Sprint("w", i), id))
	}
	check("wave", wave, []int{200, 200, 1})
	if got := keyOf(ids[400]); got != "w400" {
		t.Fatalf("Contact %s keyed %v, want w400", ids[400], got)
	}

	check("twice", []*stamp{stampOf("a", ids[0]), stampOf("b", ids[1]), stampOf("c", ids[0])}, []int{2, 1})
	if got := keyOf(ids[0]); got != "c" {
		t.Fatalf("Contact stamped twice keyed %v, want the later value c", got)
	}

	check("malformed", []*stamp{stampOf("d", ids[2]), stampOf("e", "not-an-id"), stampOf("f", ids[3])}, []int{2}, 1)
	if d, f := keyOf(ids[2]), keyOf(ids[3]); d != "d" || f != "f" {
		t.Fatalf("Contacts keyed %v and %v, want d and f: the well-formed stamps beside the malformed one sent", d, f)
	}

	// An outage refuses the call, not its content: every stamp fails with
	// it, and no call per record follows (the client's own retries aside).
	if _, err := emu.AddFault(emulator.Fault{Type: emulator.FaultError, Status: 503, Method: "PATCH", Path: "/services/data/*/composite/sobjects"}); err != nil {
		t.Fatal(err)
	}
	check("outage", []*stamp{stampOf("g", ids[4]), stampOf("h", ids[5]), stampOf("i", ids[6])}, []int{3}, 0, 1, 2)
	emu.ClearFaults()
}
