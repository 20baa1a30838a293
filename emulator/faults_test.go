package emulator

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

func mustFault(t *testing.T, e *Emulator, f Fault) string {
	t.Helper()
	id, err := e.AddFault(f)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func createOne(v *apiEnv) (int, []byte) {
	st, _, b := v.do("POST", "composite/sobjects", map[string]any{"records": []any{lead("A", "B")}})
	return st, b
}

func TestFaultErrorCountAndDefaults(t *testing.T) {
	v := newAPIEnv(t, Config{})
	mustFault(t, v.e, Fault{Status: 503, Method: "post", Path: "/services/data/*/composite/sobjects", Count: 2})
	for i := 0; i < 2; i++ {
		var errs []apiErr
		if st := v.doJSON("POST", "composite/sobjects", map[string]any{"records": []any{lead("A", "B")}}, &errs); st != 503 || errs[0].ErrorCode != "SERVER_UNAVAILABLE" {
			t.Fatalf("call %d: %d %+v", i, st, errs)
		}
	}
	if st, b := createOne(v); st != 200 {
		t.Fatalf("after count spent: %d %s", st, b)
	}
	if n := len(v.e.Faults()); n != 0 {
		t.Errorf("%d rules left, want 0", n)
	}
	if v.countLive("Lead") != 1 {
		t.Errorf("faulted calls wrote records")
	}
}

func TestFaultMatching(t *testing.T) {
	v := newAPIEnv(t, Config{})
	mustFault(t, v.e, Fault{Status: 500, ErrorCode: "CUSTOM", Message: "boom", Method: "DELETE"})
	mustFault(t, v.e, Fault{Status: 418, ErrorCode: "RE", Path: `re:/composite/sobjects/Lead$`})
	if st, b := createOne(v); st != 200 {
		t.Errorf("POST matched a DELETE rule: %d %s", st, b)
	}
	var errs []apiErr
	if st := v.doJSON("DELETE", "composite/sobjects?ids=x", nil, &errs); st != 500 || errs[0].ErrorCode != "CUSTOM" || errs[0].Message != "boom" {
		t.Errorf("DELETE: %d %+v", st, errs)
	}
	if st := v.doJSON("GET", "composite/sobjects/Lead?ids=x&fields=Id", nil, &errs); st != 418 || errs[0].ErrorCode != "RE" {
		t.Errorf("regexp rule: %d %+v", st, errs)
	}
	// Globs: * stays in a segment, ** crosses them; a trailing slash is ignored.
	for _, tc := range []struct {
		glob, path string
		want       bool
	}{
		{"/services/data/*/composite", "/services/data/v65.0/composite", true},
		{"/services/data/*/composite", "/services/data/v65.0/composite/sobjects", false},
		{"/services/data/**", "/services/data/v65.0/composite/sobjects", true},
		{"/services/data/v6?.0/query/", "/services/data/v65.0/query", true},
		{"/a.b", "/aXb", false},
	} {
		r, err := compileFault(Fault{Type: FaultLatency, Latency: time.Millisecond, Path: tc.glob})
		if err != nil {
			t.Fatal(err)
		}
		if got := r.path.MatchString(tc.path); got != tc.want {
			t.Errorf("glob %q on %q = %v", tc.glob, tc.path, got)
		}
	}
}

func TestFaultProbabilitySeeded(t *testing.T) {
	run := func() []bool {
		v := newAPIEnv(t, Config{})
		v.e.SeedFaults(42)
		mustFault(t, v.e, Fault{Status: 500, Probability: 0.5, Path: "/services/data/**"})
		var out []bool
		for i := 0; i < 40; i++ {
			st, _, _ := v.do("GET", "composite/sobjects/Lead?ids=x&fields=Id", nil)
			out = append(out, st == 500)
		}
		return out
	}
	a, b := run(), run()
	fired := 0
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("same seed, different outcomes at call %d", i)
		}
		if a[i] {
			fired++
		}
	}
	if fired == 0 || fired == len(a) {
		t.Errorf("probability 0.5 fired %d of %d", fired, len(a))
	}
}

func TestFaultLatency(t *testing.T) {
	v := newAPIEnv(t, Config{})
	mustFault(t, v.e, Fault{Latency: 20 * time.Millisecond, Count: 1})
	if st, b := createOne(v); st != 200 {
		t.Fatalf("delayed call: %d %s", st, b)
	}
	if v.countLive("Lead") != 1 {
		t.Errorf("delayed call not served")
	}
	// A client that gives up ends the wait: the server's Close (in Cleanup)
	// would otherwise block for the full hour.
	mustFault(t, v.e, Fault{Latency: time.Hour, Status: 500})
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "POST", v.srv.URL+"/services/data/v65.0/composite/sobjects", strings.NewReader(`{"records":[]}`))
	req.Header.Set("Authorization", "Bearer "+v.token)
	done := make(chan error, 1)
	go func() {
		resp, err := v.srv.Client().Do(req)
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	// Cancel once the rule has fired, i.e. the server is waiting.
	deadline := time.Now().Add(10 * time.Second)
	for v.e.Faults()[0].Fired == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the latency rule never fired")
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("client error = %v", err)
	}
	v.e.ClearFaults()
}

func TestFaultDropAfterCommit(t *testing.T) {
	v := newAPIEnv(t, Config{})
	mustFault(t, v.e, Fault{Type: FaultDropAfterCommit, Method: "POST", Count: 1})
	req, _ := http.NewRequest("POST", v.srv.URL+"/services/data/v65.0/composite/sobjects",
		strings.NewReader(`{"records":[{"attributes":{"type":"Lead"},"LastName":"Kept","Company":"C"}]}`))
	req.Header.Set("Authorization", "Bearer "+v.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := v.srv.Client().Do(req)
	if err == nil {
		resp.Body.Close()
		t.Fatalf("the client got an answer (%d); want a dropped connection", resp.StatusCode)
	}
	if v.countLive("Lead") != 1 {
		t.Errorf("the write did not commit before the drop")
	}
	// The connection is gone, the emulator is not.
	if st, b := createOne(v); st != 200 {
		t.Errorf("next call: %d %s", st, b)
	}
}

func TestFaultLockRow(t *testing.T) {
	v := newAPIEnv(t, Config{})
	mustFault(t, v.e, Fault{Type: FaultLockRow, Count: 2})
	var res []result
	if st := v.doJSON("POST", "composite/sobjects", map[string]any{"records": []any{lead("A", "B"), lead("C", "D")}}, &res); st != 200 || len(res) != 2 {
		t.Fatalf("collection: %d %+v", st, res)
	}
	for _, r := range res {
		if r.Success || r.code() != "UNABLE_TO_LOCK_ROW" {
			t.Errorf("result %+v", r)
		}
	}
	var errs []apiErr
	if st := v.doJSON("GET", "composite/sobjects/Lead?ids=x&fields=Id", nil, &errs); st != 400 || errs[0].ErrorCode != "UNABLE_TO_LOCK_ROW" {
		t.Errorf("other resource: %d %+v", st, errs)
	}
	if v.countLive("Lead") != 0 {
		t.Errorf("a lock fault wrote records")
	}
}

func TestFaultExpireSessions(t *testing.T) {
	v := newAPIEnv(t, Config{})
	mustFault(t, v.e, Fault{Type: FaultExpireSessions, Count: 1})
	for i := 0; i < 2; i++ { // the token stays dead after the rule is spent
		var errs []apiErr
		if st := v.doJSON("GET", "composite/sobjects/Lead?ids=x&fields=Id", nil, &errs); st != 401 || errs[0].ErrorCode != "INVALID_SESSION_ID" {
			t.Errorf("call %d: %d %+v", i, st, errs)
		}
	}
}

func TestFaultsNeverTouchAdminAPI(t *testing.T) {
	v := newAPIEnv(t, Config{})
	mustFault(t, v.e, Fault{Status: 500})
	if st, _, b := v.do("GET", "/__emulator/stats", nil); st != 200 {
		t.Errorf("admin call faulted: %d %s", st, b)
	}
	if f := v.e.Faults(); f[0].Fired != 0 {
		t.Errorf("rule fired on the admin API")
	}
}

func TestFaultsHTTPAPI(t *testing.T) {
	v := newAPIEnv(t, Config{})
	var added struct{ ID string }
	if st := v.doJSON("POST", "/__emulator/faults", `{"type":"latency","latency":"5ms","path":"/services/data/**","count":3}`, &added); st != 201 || added.ID == "" {
		t.Fatalf("add: %d %+v", st, added)
	}
	var many struct{ IDs []string }
	if st := v.doJSON("POST", "/__emulator/faults", `[{"status":500},{"type":"unable_to_lock_row","latency":2}]`, &many); st != 201 || len(many.IDs) != 2 {
		t.Fatalf("add many: %d %+v", st, many)
	}
	var list []Fault
	v.doJSON("GET", "/__emulator/faults", nil, &list)
	if len(list) != 3 || list[0].Latency != 5*time.Millisecond || list[2].Latency != 2*time.Millisecond || list[1].ErrorCode != "UNKNOWN_EXCEPTION" {
		t.Fatalf("list %+v", list)
	}
	if st, _, _ := v.do("DELETE", "/__emulator/faults/"+added.ID, nil); st != 204 {
		t.Errorf("delete one: %d", st)
	}
	if st, _, _ := v.do("DELETE", "/__emulator/faults/"+added.ID, nil); st != 404 {
		t.Errorf("delete again: %d", st)
	}
	if st, _, _ := v.do("DELETE", "/__emulator/faults", nil); st != 204 || len(v.e.Faults()) != 0 {
		t.Errorf("clear: %d %v", st, v.e.Faults())
	}
	for _, bad := range []string{`{}`, `{"status":200}`, `{"type":"nope"}`, `{"status":500,"probability":2}`,
		`{"status":500,"path":"re:("}`, `{"latency":"soon"}`, `{"type":"latency"}`, `{"status":500,"count":-1}`, `[`} {
		if st, _, b := v.do("POST", "/__emulator/faults", bad); st != 400 {
			t.Errorf("%s: %d %s", bad, st, b)
		}
	}
}
