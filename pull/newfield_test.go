package pull_test

import (
	"testing"

	"github.com/forcesync/forcesync"
)

// TestFieldAddedToATwoWayMapping: a two-way row added to a mapping whose
// records are synced has no sync base yet. A value only Salesforce has
// (the app never had one) is taken without a conflict; a value only the
// app has stands and goes to Salesforce, without a conflict either; a
// field both sides hold with different values is still a conflict.
func TestFieldAddedToATwoWayMapping(t *testing.T) {
	before := leadsBoth(forcesync.NewestWins)
	before.Fields = before.Fields[:2] // LastName, Company: no Phone row yet
	r := newRig(t, before)
	p := r.puller(nil)
	r.accept("sfonly", map[string]any{"last": "A", "company": "C"})
	r.accept("apponly", map[string]any{"last": "B", "company": "C", "phone": "111"})
	r.accept("both", map[string]any{"last": "D", "company": "C", "phone": "333"})
	r.drain()
	r.poll(p)

	after := leadsBoth(forcesync.NewestWins)
	after.Fields = append(after.Fields[:2:2], forcesync.FieldRow{Target: "Phone", SourceField: "phone"})
	r.useMapping(after)
	p = r.puller(nil)
	for key, fields := range map[string]map[string]any{
		"sfonly":  {"Phone": "222"},
		"apponly": {"Company": "C2"},
		"both":    {"Phone": "444"},
	} {
		if err := r.emu.UpdateAs("Lead", r.sfID(key), fields); err != nil {
			t.Fatal(err)
		}
	}
	st := r.poll(p)
	if st.Conflicts != 1 {
		t.Fatalf("poll %+v: want the one conflict (both)", st)
	}
	for _, key := range []string{"sfonly", "apponly"} {
		if cfs, err := r.pstore.Conflicts(t.Context(), after.Name, key); err != nil || len(cfs) != 0 {
			t.Fatalf("%s: conflicts recorded for a field only one side has: %+v %v", key, cfs, err)
		}
	}
	if cfs, _ := r.pstore.Conflicts(t.Context(), after.Name, "both"); len(cfs) != 1 || cfs[0].Field != "Phone" {
		t.Fatalf("both: conflicts %+v", cfs)
	}
	if got := r.src("sfonly").Fields["phone"]; got != "222" {
		t.Fatalf("sfonly: phone %v, want Salesforce's 222", got)
	}
	if rec := r.src("apponly"); rec.Fields["phone"] != "111" || rec.Fields["company"] != "C2" {
		t.Fatalf("apponly: source record %+v, want the app's phone and Salesforce's company", rec.Fields)
	}
	r.drain()
	if got := r.sf(r.sfID("apponly"), "Phone"); got != "111" {
		t.Fatalf("apponly: the app's phone did not reach Salesforce: %v", got)
	}
	if got := r.sf(r.sfID("apponly"), "Company"); got != "C2" {
		t.Fatalf("apponly: the rep's company was overwritten: %v", got)
	}
	if st := r.poll(p); st.Conflicts != 0 {
		t.Fatalf("the next poll: %+v", st)
	}
}
