package engine_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/forcesync/forcesync/internal/testrig"
	"github.com/forcesync/forcesync/salesforce"
)

// Reading records back by many Ids once went out as one query: 1,500 Ids
// make a URL of about 40 KB, which Salesforce (and the emulator) refuse
// with 414. A Lead mapping and a Contact mapping of one source hit it on a
// first push of a large file: the Contact mapping looks up every Lead the
// records became, and the whole push failed. Lookup and ReadWhere now
// split the values by URL length.
func TestReadByManyIDsFitsTheURL(t *testing.T) {
	r := testrig.New(t, testrig.Options{})
	ctx := context.Background()
	const n = 1500
	seed := make([]map[string]any, n)
	for i := range seed {
		seed[i] = map[string]any{"LastName": fmt.Sprint("L", i), "Company": "C"}
	}
	ids, err := r.Emu.Seed("Lead", seed)
	if err != nil {
		t.Fatal(err)
	}
	got := func(what string, recs []salesforce.Record) {
		t.Helper()
		seen := map[string]bool{}
		for _, rec := range recs {
			seen[rec.ID()] = true
		}
		for _, id := range ids {
			if !seen[id] {
				t.Fatalf("%s: Lead %s missing (%d of %d read)", what, id, len(seen), n)
			}
		}
	}
	before := r.Calls()
	recs, err := r.API.Lookup(ctx, "Lead", []string{"IsConverted", "ConvertedContactId"}, "Id", ids)
	if err != nil {
		t.Fatal(err)
	}
	got("Lookup", recs)
	if c := r.Calls() - before; c < 2 || c > 6 {
		t.Errorf("Lookup of %d Ids took %d calls, want a few queries", n, c)
	}
	recs, err = r.API.ReadWhere(ctx, "Lead", "Id", ids, []string{"LastName", "Company", "Email", "FirstName"}, true)
	if err != nil {
		t.Fatal(err)
	}
	got("ReadWhere", recs)
}
