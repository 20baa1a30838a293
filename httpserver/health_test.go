package httpserver

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

type fakeEngine struct{ paused string }

func (fakeEngine) MappingsFor(string) []string { return nil }
func (fakeEngine) Notify()                     {}
func (f fakeEngine) Paused() string            { return f.paused }

func get(t *testing.T, h http.Handler, path, token string) (int, map[string]any) {
	t.Helper()
	req := httptest.NewRequest("GET", path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	var body map[string]any
	if strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	}
	return w.Code, body
}

// TestHealthzReportsConnections: 503 with the reason when an org cannot be
// reached or logged in to; 200 "paused" with the reason and the expected
// resume time while the budget governor holds work back (main answered
// "ok" whatever happened).
func TestHealthzReportsConnections(t *testing.T) {
	conns := []ConnectionHealth{{Name: "org", OK: true}}
	s := New(Config{Engine: fakeEngine{}, APIToken: "tok", Health: func() []ConnectionHealth { return conns }})
	if code, body := get(t, s, "/healthz", ""); code != 200 || body["status"] != "ok" {
		t.Fatalf("healthy: %d %v", code, body)
	}
	resume := time.Date(2026, 12, 4, 15, 0, 0, 0, time.UTC)
	conns = []ConnectionHealth{{Name: "org", OK: true, Budget: BudgetHealth{Paused: []string{"backfill"}, Reason: "share spent", ResumeAt: resume}}}
	code, body := get(t, s, "/healthz", "")
	if code != 200 || body["status"] != "paused" || body["reason"] != "org: share spent" {
		t.Fatalf("paused: %d %v", code, body)
	}
	b := body["connections"].([]any)[0].(map[string]any)["budget"].(map[string]any)
	if b["resume_at"] != "2026-12-04T15:00:00Z" {
		t.Fatalf("resume time %v", b)
	}
	// A mapping paused by a schema change: paused (200), naming it.
	conns = []ConnectionHealth{{Name: "org", OK: true, PausedMappings: []MappingPause{{Mapping: "tier", Reason: `picklist Tier__c values removed ["Gold"]`}}}}
	code, body = get(t, s, "/healthz", "")
	if code != 200 || body["status"] != "paused" || !strings.Contains(body["reason"].(string), "mapping tier: picklist Tier__c") {
		t.Fatalf("schema pause: %d %v", code, body)
	}
	if pm := body["connections"].([]any)[0].(map[string]any)["paused_mappings"].([]any); len(pm) != 1 {
		t.Fatalf("paused_mappings %v", pm)
	}
	conns = []ConnectionHealth{{Name: "org", OK: false, Reason: "Salesforce unreachable: connection refused"}}
	if code, body := get(t, s, "/healthz", ""); code != http.StatusServiceUnavailable || body["status"] != "unhealthy" ||
		!strings.Contains(body["reason"].(string), "unreachable") {
		t.Fatalf("unreachable: %d %v", code, body)
	}
}

// TestEndpointAuth: /metrics and /healthz open or behind the token by config.
func TestEndpointAuth(t *testing.T) {
	s := New(Config{Engine: fakeEngine{}, APIToken: "tok", MetricsNeedsToken: true, HealthzNeedsToken: true})
	for _, p := range []string{"/metrics", "/healthz"} {
		if code, _ := get(t, s, p, ""); code != http.StatusUnauthorized {
			t.Fatalf("%s without the token: %d", p, code)
		}
		if code, _ := get(t, s, p, "tok"); code != 200 {
			t.Fatalf("%s with the token: %d", p, code)
		}
	}
	// The scheme is case-insensitive; another scheme or no token is refused.
	for header, want := range map[string]int{"bearer tok": 200, "BEARER  tok": 200, "Basic tok": 401, "Bearer": 401, "Bearer ": 401, "tok": 401} {
		req := httptest.NewRequest("GET", "/healthz", nil)
		req.Header.Set("Authorization", header)
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		if w.Code != want {
			t.Errorf("Authorization %q: %d, want %d", header, w.Code, want)
		}
	}
	open := New(Config{Engine: fakeEngine{}, APIToken: "tok"})
	for _, p := range []string{"/metrics", "/healthz"} {
		if code, _ := get(t, open, p, ""); code != 200 {
			t.Fatalf("open %s: %d", p, code)
		}
	}
}
