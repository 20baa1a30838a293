package httpserver_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/httpserver"
	"github.com/forcesync/forcesync/sqlite"
)

// TestRunsAndFailuresKeys: GET /api/v1/runs and GET /api/v1/failures
// write the API's snake_case names, as the rest of the API does (not the
// Go field names of forcesync.Run), with the run's figures under them.
func TestRunsAndFailuresKeys(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "api.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Accept(ctx, []string{"leads"}, []forcesync.Change{{Source: "contact", Key: "h1", Op: forcesync.OpUpsert,
		Fields: map[string]any{"email": "bad"}}}); err != nil {
		t.Fatal(err)
	}
	items, err := st.Claim(ctx, forcesync.ClaimRequest{Mapping: "leads", Owner: "w", Lease: time.Minute, Limit: 10, Now: time.Now()})
	if err != nil || len(items) != 1 {
		t.Fatalf("claim: %v", err)
	}
	started := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	if err := st.Complete(ctx, "w", []forcesync.Outcome{{Item: items[0], State: forcesync.StateHeld, Fingerprint: "f",
		Error: &forcesync.RecordError{Code: "INVALID_EMAIL_ADDRESS", Message: "Email: invalid", Fields: []string{"Email"}}}},
		&forcesync.Run{Mapping: "leads", API: "collections", Started: started, Finished: started.Add(time.Second), Records: 1,
			Failed: 1, APICalls: 2}); err != nil {
		t.Fatal(err)
	}
	srv := httpserver.New(httpserver.Config{Store: st, Engine: stubEngine{}, Sources: []string{"contact"}, APIToken: "tok"})
	get := func(path string) map[string][]map[string]any {
		t.Helper()
		req := httptest.NewRequest("GET", path, nil)
		req.Header.Set("Authorization", "Bearer tok")
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, req)
		var body map[string][]map[string]any
		if w.Code != http.StatusOK || json.Unmarshal(w.Body.Bytes(), &body) != nil {
			t.Fatalf("GET %s: %d %s", path, w.Code, w.Body.String())
		}
		return body
	}
	runs := get("/api/v1/runs")["runs"]
	if len(runs) != 1 {
		t.Fatalf("runs %v, want 1", runs)
	}
	want := []string{"api", "api_calls", "created", "deleted", "failed", "finished", "id", "mapping", "records", "skipped",
		"started", "unchanged", "updated"}
	if got := keysOf(runs[0]); !slices.Equal(got, want) {
		t.Fatalf("run keys %v, want %v", got, want)
	}
	r := runs[0]
	if r["mapping"] != "leads" || r["api"] != "collections" || r["api_calls"] != 2.0 || r["failed"] != 1.0 ||
		r["started"] != "2026-12-05T10:00:00Z" || r["finished"] != "2026-12-05T10:00:01Z" {
		t.Fatalf("run %v", r)
	}
	fs := get("/api/v1/failures")["failures"]
	if len(fs) != 1 || fs[0]["source"] != "contact" || fs[0]["key"] != "h1" || fs[0]["mapping"] != "leads" || fs[0]["state"] != "held" {
		t.Fatalf("failures %v, want h1 of source contact, held under leads", fs)
	}
}

func keysOf(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
