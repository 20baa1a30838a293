package httpserver_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/engine"
	"github.com/forcesync/forcesync/httpserver"
	"github.com/forcesync/forcesync/pull"
	"github.com/forcesync/forcesync/sqlite"
	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
)

type stubEngine struct{}

func (stubEngine) MappingsFor(source string) []string {
	if source == "contact" {
		return []string{"leads"}
	}
	return nil
}
func (stubEngine) Notify()        {}
func (stubEngine) Paused() string { return "" }

// TestOpenAPIMatchesHandlers sends real requests through the real handlers
// (over a SQLite store) and validates each request and response against
// openapi.json with libopenapi-validator, so the description cannot drift
// from the API.
func TestOpenAPIMatchesHandlers(t *testing.T) {
	v := specValidator(t)
	if ok, verrs := v.ValidateDocument(); !ok {
		for _, e := range verrs {
			t.Errorf("openapi.json is not valid OpenAPI: %s", e.Error())
		}
		t.FailNow()
	}
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "api.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	srv := httpserver.New(httpserver.Config{Store: st, Engine: stubEngine{}, Sources: []string{"contact"}, APIToken: "tok"})

	// A held record and a run, so failures and runs have content.
	if _, err := st.Accept(ctx, []string{"leads"}, []forcesync.Change{{Source: "contact", Key: "h1", Op: forcesync.OpUpsert,
		Fields: map[string]any{"email": "bad"}}}); err != nil {
		t.Fatal(err)
	}
	items, err := st.Claim(ctx, forcesync.ClaimRequest{Mapping: "leads", Owner: "w", Lease: time.Minute, Limit: 10, Now: time.Now()})
	if err != nil || len(items) != 1 {
		t.Fatalf("claim: %v", err)
	}
	if err := st.Complete(ctx, "w", []forcesync.Outcome{{Item: items[0], State: forcesync.StateHeld, Fingerprint: "f",
		Error: &forcesync.RecordError{Code: "INVALID_EMAIL_ADDRESS", Message: "Email: invalid", Fields: []string{"Email"}}}},
		&forcesync.Run{Mapping: "leads", API: "collections", Started: time.Now(), Finished: time.Now(), Records: 1, Failed: 1, APICalls: 1}); err != nil {
		t.Fatal(err)
	}

	runOpenAPICases(t, v, srv, []apiCase{
		{"GET", "/healthz", "", "", false, 200, false},
		{"GET", "/api/v1/openapi.json", "", "", false, 200, false},
		{"POST", "/api/v1/sources/contact/records", `[{"key":"a1","fields":{"email":"a@example.com"}},{"key":7,"op":"upsert","version":3,"fields":{}}]`, "application/json", true, 202, false},
		{"POST", "/api/v1/sources/contact/records?priority=backfill", `[{"key":"a2","fields":{}},{"key":"a3","op":"nuke","fields":{}}]`, "application/json", true, 202, true},
		{"POST", "/api/v1/sources/contact/records", `[{"fields":{}}]`, "application/json", true, 400, true},
		// A priority other than backfill or realtime is refused, not
		// sent down the realtime lane.
		{"POST", "/api/v1/sources/contact/records?priority=urgent", `[{"key":"a4","fields":{}}]`, "application/json", true, 400, true},
		{"POST", "/api/v1/sources/contact/records?priority=realtime", `[{"key":"a4","fields":{}}]`, "application/json", true, 202, false},
		// curl -d sends a form type: refused (415) in the Error shape.
		{"POST", "/api/v1/sources/contact/records", `[{"key":"a1","fields":{}}]`, "application/x-www-form-urlencoded", true, 415, true},
		{"POST", "/api/v1/sources/contact/records", `[{"key":"a1","fields":{}}]`, "application/json", false, 401, true},
		{"POST", "/api/v1/sources/nope/records", `[{"key":"a1","fields":{}}]`, "application/json", true, 404, false},
		{"GET", "/api/v1/sources/contact/records/a1", "", "", true, 200, false},
		{"GET", "/api/v1/sources/contact/records/h1", "", "", true, 200, false},
		{"GET", "/api/v1/sources/contact/records/zz", "", "", true, 404, false},
		{"GET", "/api/v1/sources/contact/records/h1/history", "", "", true, 200, false},
		{"GET", "/api/v1/sources/contact/records/h1/history?mapping=leads&limit=5", "", "", true, 200, false},
		{"GET", "/api/v1/sources/contact/records/h1/history?limit=21", "", "", true, 400, true},
		{"GET", "/api/v1/sources/contact/records/zz/history", "", "", true, 404, false},
		{"GET", "/api/v1/runs?limit=5", "", "", true, 200, false},
		{"GET", "/api/v1/runs?limit=0", "", "", true, 400, true},
		{"GET", "/api/v1/failures", "", "", true, 200, false},
		{"GET", "/api/v1/failures?mapping=leads&limit=10", "", "", true, 200, false},
		{"POST", "/api/v1/mappings/leads/retry", `{"keys":["h1"]}`, "application/json", true, 202, false},
		{"POST", "/api/v1/mappings/nope/retry", `{"keys":["h1"]}`, "application/json", true, 404, false},
		// The pull side is off in this server (no Changes feed): the
		// handlers answer 404 in the documented Error shape.
		{"GET", "/api/v1/changes?after=0&limit=10&wait=1s", "", "", true, 404, false},
		{"GET", "/api/v1/changes", "", "", false, 401, true},
		{"GET", "/api/v1/mappings/leads/dead-letters", "", "", true, 404, false},
		// The mass-change guard: the store's real state; approving is
		// not wired here (503), and an unknown mapping is 404.
		{"GET", "/api/v1/guard", "", "", true, 200, false},
		{"POST", "/api/v1/mappings/leads/approve", "", "", true, 503, false},
		{"POST", "/api/v1/mappings/nope/approve", "", "", true, 404, false},
		// Inspect is not wired here: plan and reconcile answer 404.
		{"GET", "/api/v1/plan?mapping=leads&mapping=other", "", "", true, 404, false},
		{"POST", "/api/v1/mappings/leads/reconcile", `{"heal":true}`, "application/json", true, 404, false},
		{"POST", "/api/v1/mappings/leads/reconcile", "", "", true, 404, false},
		{"POST", "/api/v1/mappings/leads/reconcile", `{"heal":true,"max_changes":5}`, "application/json", true, 404, true},
		// Reconcile runs are the SQLite store's own.
		{"GET", "/api/v1/reconcile/runs", "", "", true, 200, false},
		{"GET", "/api/v1/reconcile/runs?mapping=leads&limit=5", "", "", true, 200, false},
		{"GET", "/api/v1/reconcile/runs?limit=0", "", "", true, 400, true},
		{"GET", "/api/v1/reconcile/runs/1", "", "", true, 200, false},
		{"GET", "/api/v1/reconcile/runs/x", "", "", true, 400, true},
	})
}

// apiCase is a request sent through the real handlers and validated
// against openapi.json.
type apiCase struct {
	method, path, body, ctype string
	auth                      bool
	want                      int
	// bad marks a request that breaks the description on purpose:
	// the validator must refuse it, and the response must still match.
	bad bool
}

func runOpenAPICases(t *testing.T, v validator.Validator, srv http.Handler, cases []apiCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body))
			if tc.ctype != "" {
				req.Header.Set("Content-Type", tc.ctype)
			}
			if tc.auth {
				req.Header.Set("Authorization", "Bearer tok")
			}
			w := httptest.NewRecorder()
			srv.ServeHTTP(w, req)
			res := w.Result()
			if res.StatusCode != tc.want {
				t.Fatalf("status %d, want %d: %s", res.StatusCode, tc.want, w.Body.String())
			}
			// The validator reads the bodies: give it fresh copies.
			vreq := httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body))
			vreq.Header = req.Header.Clone()
			res.Body = readCloser{bytes.NewReader(w.Body.Bytes())}
			if tc.bad {
				if ok, _ := v.ValidateHttpRequest(vreq); ok {
					t.Errorf("the description accepts a request the handler refuses")
				}
				vreq = httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body))
				vreq.Header = req.Header.Clone()
				if ok, verrs := v.ValidateHttpResponse(vreq, res); !ok {
					for _, e := range verrs {
						t.Errorf("%s (%s)", e.Error(), e.Reason)
					}
				}
				return
			}
			if ok, verrs := v.ValidateHttpRequestResponse(vreq, res); !ok {
				for _, e := range verrs {
					t.Errorf("%s (%s)", e.Error(), e.Reason)
				}
				t.Logf("body: %s", w.Body.String())
			}
		})
	}
}

type readCloser struct{ *bytes.Reader }

func (readCloser) Close() error { return nil }

// TestOpenAPIDescribesEveryRoute fails when routes.go registers an /api/v1
// route (method and pattern) that openapi.json does not describe, or the
// document describes one routes.go does not register.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	src, err := os.ReadFile("routes.go")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(httpserver.OpenAPI(), &doc); err != nil {
		t.Fatal(err)
	}
	// Every string literal that is a mux pattern: "METHOD /path".
	re := regexp.MustCompile(`"([A-Z]+) (/[^"]*)"`)
	registered := map[string]bool{}
	for _, m := range re.FindAllStringSubmatch(string(src), -1) {
		method, path := strings.ToLower(m[1]), m[2]
		registered[method+" "+path] = true
		if !strings.HasPrefix(path, "/api/") {
			continue
		}
		if _, ok := doc.Paths[path][method]; !ok {
			t.Errorf("routes.go registers %s %s; openapi.json does not describe it", m[1], path)
		}
	}
	if len(registered) < 10 {
		t.Fatalf("found only %d route patterns in routes.go: has its form changed?", len(registered))
	}
	for path, ops := range doc.Paths {
		for method := range ops {
			switch method {
			case "get", "put", "post", "delete", "options", "head", "patch", "trace":
				if !registered[method+" "+path] {
					t.Errorf("openapi.json describes %s %s; routes.go does not register it", strings.ToUpper(method), path)
				}
			}
		}
	}
}

// TestOpenAPIPullAndGuard wires the pull side's real changes feed
// (pull.NewFeed over the SQLite store, as cmd/forcesync/serve.go does)
// and the real mass-change approval (engine.Approve), and validates the
// changes feed, dead letters, a record's conflicts and approve.
func TestOpenAPIPullAndGuard(t *testing.T) {
	v := specValidator(t)
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "pull.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	inbound := forcesync.Mapping{Name: "inbound", Source: "contact", Direction: forcesync.Pull,
		Pull: &forcesync.PullConfig{Into: []string{"source", "changes", "webhook"}, Webhook: &forcesync.Webhook{URL: "http://127.0.0.1:1/hook"}}}
	quiet := forcesync.Mapping{Name: "quiet", Source: "contact", Direction: forcesync.Pull}
	outbound := forcesync.Mapping{Name: "outbound", Source: "contact"}
	feed := pull.NewFeed(st, []forcesync.Mapping{inbound, quiet, outbound})
	srv := httpserver.New(httpserver.Config{Store: st, Engine: stubEngine{}, Sources: []string{"contact"}, APIToken: "tok",
		Changes: feed,
		Approve: func(ctx context.Context, m string) (int, error) {
			return engine.Approve(ctx, st, forcesync.Mapping{Name: m, Source: "contact"}, time.Now())
		}})

	// One pulled record with its event and a conflict.
	now := time.Now().UTC().Truncate(time.Second)
	if err := st.CommitPull(ctx, &forcesync.PullCommit{Mapping: "inbound", Source: "contact", Now: now,
		Watermark: forcesync.Watermark{},
		Records: []forcesync.PulledRecord{{Key: "p1", SalesforceID: "003000000000001AAA", Bind: true, Fingerprint: "fp",
			Modstamp: now, SourceFields: map[string]any{"email": "p@example.com"},
			Event: &forcesync.PulledChange{EventID: "e1", Mapping: "inbound", Source: "contact", Key: "p1", Op: forcesync.PulledUpsert,
				SalesforceID: "003000000000001AAA", Fields: map[string]any{"email": "p@example.com"}, Changed: []string{"email"}, Modstamp: now, At: now},
			Conflicts: []forcesync.Conflict{{Mapping: "inbound", Key: "p1", Field: "Email", App: "a@example.com", Remote: "p@example.com",
				Policy: forcesync.SalesforceWins, Winner: "salesforce", Modstamp: now, At: now}}}}}); err != nil {
		t.Fatal(err)
	}
	cs, err := feed.Changes(ctx, 0, 10)
	if err != nil || len(cs) == 0 {
		t.Fatalf("the feed has no changes (%v): the test would check nothing", err)
	}

	runOpenAPICases(t, v, srv, []apiCase{
		{"GET", "/api/v1/changes", "", "", true, 200, false},
		{"GET", "/api/v1/changes?after=0&limit=10", "", "", true, 200, false},
		// At the newest change: waits, then answers none.
		{"GET", "/api/v1/changes?after=" + strconv.FormatInt(cs[len(cs)-1].Seq, 10) + "&wait=10ms", "", "", true, 200, false},
		// Past it: not a cursor of this feed.
		{"GET", "/api/v1/changes?after=999999&wait=10ms", "", "", true, 410, false},
		{"GET", "/api/v1/changes?after=-1", "", "", true, 400, true},
		{"GET", "/api/v1/changes?wait=2m", "", "", true, 400, false},
		{"GET", "/api/v1/changes?limit=0", "", "", true, 400, true},
		{"GET", "/api/v1/mappings/inbound/dead-letters", "", "", true, 200, false},
		{"GET", "/api/v1/mappings/inbound/dead-letters?limit=0", "", "", true, 400, true},
		// A typo, a push mapping, a pull without webhook: 404 saying which,
		// not an empty list.
		{"GET", "/api/v1/mappings/nope/dead-letters", "", "", true, 404, false},
		{"GET", "/api/v1/mappings/outbound/dead-letters", "", "", true, 404, false},
		{"GET", "/api/v1/mappings/quiet/dead-letters", "", "", true, 404, false},
		{"GET", "/api/v1/sources/contact/records/p1", "", "", true, 200, false},
		{"POST", "/api/v1/mappings/leads/approve", "", "", true, 200, false},
		{"POST", "/api/v1/mappings/nope/approve", "", "", true, 404, false},
		{"GET", "/api/v1/guard", "", "", true, 200, false},
	})
	// The record really carries its conflict.
	req := httptest.NewRequest("GET", "/api/v1/sources/contact/records/p1", nil)
	req.Header.Set("Authorization", "Bearer tok")
	w := httptest.NewRecorder()
	srv.ServeHTTP(w, req)
	if !strings.Contains(w.Body.String(), `"conflicts":[{`) {
		t.Errorf("record p1 lists no conflicts: %s", w.Body.String())
	}

	// Past the retention: a second change, then both pruned. A cursor
	// below what was pruned is gone (410); after=0 reads what is kept.
	if err := st.CommitPull(ctx, &forcesync.PullCommit{Mapping: "inbound", Source: "contact", Now: now,
		Watermark: forcesync.Watermark{Gen: 1},
		Records: []forcesync.PulledRecord{{Key: "p1", SalesforceID: "003000000000001AAA", ExpectFingerprint: "fp", ExpectVersion: 1, ExpectPullRev: 1, Modstamp: now,
			Event: &forcesync.PulledChange{Key: "p1", Op: forcesync.PulledConvert, SalesforceID: "003000000000001AAA", ConvertedTo: "003000000000002AAA", Modstamp: now}}}}); err != nil {
		t.Fatal(err)
	}
	if n, err := st.PrunePulled(ctx, "inbound", now.Add(time.Hour)); err != nil || n != 2 {
		t.Fatalf("pruned %d %v, want 2", n, err)
	}
	runOpenAPICases(t, v, srv, []apiCase{
		{"GET", "/api/v1/changes?after=" + strconv.FormatInt(cs[0].Seq, 10), "", "", true, 410, false},
		{"GET", "/api/v1/changes?after=0", "", "", true, 200, false},
	})
}

// specValidator checks requests and responses against openapi.json.
func specValidator(t *testing.T) validator.Validator {
	t.Helper()
	doc, err := libopenapi.NewDocument(httpserver.OpenAPI())
	if err != nil {
		t.Fatal(err)
	}
	v, errs := validator.NewValidator(doc)
	if len(errs) > 0 {
		t.Fatalf("validator: %v", errs)
	}
	return v
}
