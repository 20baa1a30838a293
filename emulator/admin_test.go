package emulator

import (
	"testing"
	"time"
)

func TestAdminStats(t *testing.T) {
	v := newAPIEnv(t, Config{})
	createOne(v)
	v.do("POST", "composite", map[string]any{"compositeRequest": []any{sub("GET", coll+"/Lead?ids=x&fields=Id", "a", nil)}})
	var st map[string]int64
	v.doJSON("GET", "/__emulator/stats", nil, &st)
	want := map[string]int64{"rest": 0, "collections": 1, "composite": 1, "query": 0, "bulk": 0, "oauth": 0, "total": 2}
	for k, n := range want {
		if st[k] != n {
			t.Errorf("%s = %d, want %d (%v)", k, st[k], n, st)
		}
	}
	if code, _, _ := v.do("POST", "/__emulator/stats/reset", nil); code != 204 {
		t.Errorf("stats/reset: %d", code)
	}
	v.doJSON("GET", "/__emulator/stats", nil, &st)
	if st["total"] != 0 {
		t.Errorf("after reset %v", st)
	}
}

func TestAdminSeedResetConvert(t *testing.T) {
	v := newAPIEnv(t, Config{})
	var seeded struct{ IDs []string }
	if st := v.doJSON("POST", "/__emulator/seed", map[string]any{"object": "Lead", "records": []any{
		map[string]any{"LastName": "Lovelace", "Company": "Analytical", "Email": "ada@example.com"},
		map[string]any{"LastName": "Hopper", "Company": "Navy"},
	}}, &seeded); st != 200 || len(seeded.IDs) != 2 {
		t.Fatalf("seed: %d %+v", st, seeded)
	}
	var bad struct {
		Index  int
		Errors []struct{ StatusCode string }
	}
	if st := v.doJSON("POST", "/__emulator/seed", map[string]any{"object": "Lead", "records": []any{
		map[string]any{"LastName": "Ok", "Company": "C"}, map[string]any{"Company": "C"},
	}}, &bad); st != 400 || bad.Index != 1 || bad.Errors[0].StatusCode != "REQUIRED_FIELD_MISSING" {
		t.Errorf("bad seed: %d %+v", st, bad)
	}
	if v.countLive("Lead") != 2 {
		t.Errorf("a failed seed left records: %d leads", v.countLive("Lead"))
	}

	var conv struct{ LeadID, AccountID, ContactID string }
	if st := v.doJSON("POST", "/__emulator/leads/"+seeded.IDs[0]+"/convert", nil, &conv); st != 200 || conv.LeadID != seeded.IDs[0] {
		t.Fatalf("convert: %d %+v", st, conv)
	}
	if v.fieldOf(conv.AccountID, "Name") != "Analytical" || v.fieldOf(conv.ContactID, "Email") != "ada@example.com" ||
		v.fieldOf(seeded.IDs[0], "IsConverted") != true {
		t.Errorf("conversion not applied")
	}
	var errs []apiErr
	if st := v.doJSON("POST", "/__emulator/leads/"+seeded.IDs[0]+"/convert", nil, &errs); st != 400 || errs[0].ErrorCode != "CANNOT_UPDATE_CONVERTED_LEAD" {
		t.Errorf("second convert: %d %+v", st, errs)
	}
	if st := v.doJSON("POST", "/__emulator/leads/00Q5e0000000009/convert", nil, &errs); st != 404 {
		t.Errorf("unknown lead: %d %+v", st, errs)
	}

	before := v.countLive("User")
	if st, _, b := v.do("POST", "/__emulator/reset", nil); st != 204 {
		t.Fatalf("reset: %d %s", st, b)
	}
	if v.countLive("Lead") != 0 || v.countLive("Account") != 0 || v.countLive("User") != before {
		t.Errorf("after reset: leads %d accounts %d users %d", v.countLive("Lead"), v.countLive("Account"), v.countLive("User"))
	}
	// The session survives a reset, and new Ids never repeat old ones.
	var res []result
	if st := v.doJSON("POST", "composite/sobjects", map[string]any{"records": []any{lead("New", "C")}}, &res); st != 200 || !res[0].Success {
		t.Fatalf("create after reset: %d %+v", st, res)
	}
	for _, old := range append(seeded.IDs, conv.AccountID, conv.ContactID) {
		if res[0].ID == old {
			t.Errorf("Id %s reused after reset", old)
		}
	}
}

func TestAdminKnobs(t *testing.T) {
	v := newAPIEnv(t, Config{})
	if st, _, _ := v.do("POST", "/__emulator/bulk/finish", nil); st != 200 || !v.e.FinishBulkJobsAtOnce() {
		t.Errorf("bulk/finish: %d %v", st, v.e.FinishBulkJobsAtOnce())
	}
	if st, _, _ := v.do("POST", "/__emulator/bulk/finish", `{"enabled":false}`); st != 200 || v.e.FinishBulkJobsAtOnce() {
		t.Errorf("bulk/finish off: %d", st)
	}
	var lim struct{ Used, Max int }
	if st := v.doJSON("POST", "/__emulator/limits", `{"used":99,"max":100}`, &lim); st != 200 || lim.Used != 99 || lim.Max != 100 {
		t.Fatalf("limits: %d %+v", st, lim)
	}
	if st, h, _ := v.do("POST", "composite/sobjects", map[string]any{"records": []any{lead("A", "B")}}); st != 200 || h.Get("Sforce-Limit-Info") != "api-usage=100/100" {
		t.Errorf("last allowed call: %d %q", st, h.Get("Sforce-Limit-Info"))
	}
	var errs []apiErr
	if st := v.doJSON("POST", "composite/sobjects", map[string]any{"records": []any{lead("A", "B")}}, &errs); st != 403 || errs[0].ErrorCode != "REQUEST_LIMIT_EXCEEDED" {
		t.Errorf("over the limit: %d %+v", st, errs)
	}
	if st, _, _ := v.do("POST", "/__emulator/limits", `{"max":0}`); st != 400 {
		t.Errorf("max 0 accepted: %d", st)
	}
	v.e.SetAPIUsage(0, 1000)
	if st, _, _ := v.do("POST", "/__emulator/expire-sessions", nil); st != 204 {
		t.Errorf("expire-sessions: %d", st)
	}
	if st := v.doJSON("GET", "composite/sobjects/Lead?ids=x&fields=Id", nil, &errs); st != 401 || errs[0].ErrorCode != "INVALID_SESSION_ID" {
		t.Errorf("after expire: %d %+v", st, errs)
	}
	// The admin API itself needs no session and is never counted.
	if st, _, _ := v.do("GET", "/__emulator/stats", nil); st != 200 {
		t.Errorf("stats without session: %d", st)
	}
	if used, _ := v.e.APIUsage(); used != 0 {
		t.Errorf("admin calls spent %d API calls", used)
	}
}

// TestAdminUndelete: a record deleted (to the recycle bin) comes back
// live with its fields and a later SystemModstamp, so queries and readers
// by SystemModstamp see it again; a live record is refused with
// UNDELETE_FAILED and nothing is restored.
func TestAdminUndelete(t *testing.T) {
	v := newAPIEnv(t, Config{})
	var seeded struct{ IDs []string }
	if st := v.doJSON("POST", "/__emulator/seed", map[string]any{"object": "Lead", "records": []any{
		map[string]any{"LastName": "Lovelace", "Company": "Analytical"}, map[string]any{"LastName": "Hopper", "Company": "Navy"},
	}}, &seeded); st != 200 {
		t.Fatalf("seed: %d", st)
	}
	id := seeded.IDs[0]
	before := v.fieldOf(id, "SystemModstamp")
	if st, _, b := v.do("DELETE", "sobjects/Lead/"+id, nil); st != 204 {
		t.Fatalf("delete: %d %s", st, b)
	}
	if v.countLive("Lead") != 1 {
		t.Fatalf("delete left %d leads", v.countLive("Lead"))
	}
	var errs []apiErr
	if st := v.doJSON("POST", "/__emulator/undelete", map[string]any{"ids": []string{id, seeded.IDs[1]}}, &errs); st != 400 || errs[0].ErrorCode != "UNDELETE_FAILED" {
		t.Fatalf("undelete of a live record: %d %+v", st, errs)
	}
	if v.countLive("Lead") != 1 {
		t.Fatalf("a refused undelete restored records: %d leads", v.countLive("Lead"))
	}
	if st, _, b := v.do("POST", "/__emulator/undelete", map[string]any{"ids": []string{id}}); st != 204 {
		t.Fatalf("undelete: %d %s", st, b)
	}
	if v.countLive("Lead") != 2 || v.fieldOf(id, "LastName") != "Lovelace" {
		t.Fatalf("after undelete: %d leads, LastName %v", v.countLive("Lead"), v.fieldOf(id, "LastName"))
	}
	b, _ := before.(time.Time)
	if a, _ := v.fieldOf(id, "SystemModstamp").(time.Time); !a.After(b) {
		t.Fatalf("SystemModstamp did not move: %v then %v", before, v.fieldOf(id, "SystemModstamp"))
	}
}
