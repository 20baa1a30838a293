package emulator

import (
	"net/url"
	"testing"
	"time"
)

// TestReplicationKnobs: a frozen stamp gives many writes one
// SystemModstamp; sales-rep edits move it; merges leave MasterRecordId on
// the deleted loser, seen by queryAll and getDeleted; getUpdated lists
// changed Ids in its window.
func TestReplicationKnobs(t *testing.T) {
	v := newAPIEnv(t, Config{})
	stamp := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	if st := v.doJSON("POST", "/__emulator/clock", map[string]any{"freeze": stamp}, nil); st != 200 {
		t.Fatalf("freeze: %d", st)
	}
	var seeded struct{ IDs []string }
	v.doJSON("POST", "/__emulator/seed", map[string]any{"object": "Lead", "records": []any{
		map[string]any{"LastName": "A", "Company": "C"}, map[string]any{"LastName": "B", "Company": "C"},
		map[string]any{"LastName": "M", "Company": "C"},
	}}, &seeded)
	for _, id := range seeded.IDs {
		if got, _ := v.fieldOf(id, "SystemModstamp").(time.Time); !got.Equal(stamp) {
			t.Fatalf("frozen stamp not used: %v", got)
		}
	}
	v.doJSON("POST", "/__emulator/clock", map[string]any{"freeze": stamp.Add(90 * time.Second)}, nil)
	if st, _, b := v.do("PATCH", "/__emulator/sobjects/Lead/"+seeded.IDs[0], map[string]any{"Phone": "555"}); st != 204 {
		t.Fatalf("rep edit: %d %s", st, b)
	}
	if v.fieldOf(seeded.IDs[0], "Phone") != "555" || !v.fieldOf(seeded.IDs[0], "SystemModstamp").(time.Time).Equal(stamp.Add(90*time.Second)) {
		t.Fatalf("rep edit did not apply or move SystemModstamp")
	}
	if err := v.e.MergeRecords("Lead", seeded.IDs[2], []string{seeded.IDs[1]}, nil); err != nil {
		t.Fatalf("merge: %v", err)
	}
	var res struct {
		Records []map[string]any `json:"records"`
	}
	v.doJSON("GET", "/services/data/v65.0/queryAll?q="+url.QueryEscape("SELECT Id, IsDeleted, MasterRecordId FROM Lead WHERE Id = '"+seeded.IDs[1]+"'"), nil, &res)
	if len(res.Records) != 1 || res.Records[0]["IsDeleted"] != true || res.Records[0]["MasterRecordId"] != seeded.IDs[2] {
		t.Fatalf("merged loser: %+v", res.Records)
	}
	window := "?start=" + url.QueryEscape("2026-12-04T10:01:00Z") + "&end=" + url.QueryEscape("2026-12-04T10:05:00Z")
	var upd struct{ IDs []string }
	if st := v.doJSON("GET", "/services/data/v65.0/sobjects/Lead/updated/"+window, nil, &upd); st != 200 || len(upd.IDs) != 2 {
		t.Fatalf("getUpdated: %d %+v (want the edited record and the merge master)", st, upd)
	}
	var del struct {
		DeletedRecords []struct{ ID string }
	}
	if st := v.doJSON("GET", "/services/data/v65.0/sobjects/Lead/deleted/"+window, nil, &del); st != 200 || len(del.DeletedRecords) != 1 || del.DeletedRecords[0].ID != seeded.IDs[1] {
		t.Fatalf("getDeleted: %d %+v", st, del)
	}
	if st := v.doJSON("GET", "/services/data/v65.0/sobjects/Lead/deleted/?start=x&end=y", nil, nil); st != 400 {
		t.Fatalf("bad window: %d", st)
	}
}
