package httpserver_test

import (
	"bytes"
	"context"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/httpserver"
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
	doc, err := libopenapi.NewDocument(httpserver.OpenAPI())
	if err != nil {
		t.Fatal(err)
	}
	v, errs := validator.NewValidator(doc)
	if len(errs) > 0 {
		t.Fatalf("validator: %v", errs)
	}
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

	for _, tc := range []struct {
		method, path, body, ctype string
		auth                      bool
		want                      int
		// bad marks a request that breaks the description on purpose:
		// the validator must refuse it, and the response must still match.
		bad bool
	}{
		{"GET", "/healthz", "", "", false, 200, false},
		{"GET", "/api/v1/openapi.json", "", "", false, 200, false},
		{"POST", "/api/v1/sources/contact/records", `[{"key":"a1","fields":{"email":"a@example.com"}},{"key":7,"op":"upsert","version":3,"fields":{}}]`, "application/json", true, 202, false},
		{"POST", "/api/v1/sources/contact/records?priority=backfill", `[{"key":"a2","fields":{}},{"key":"a3","op":"nuke","fields":{}}]`, "application/json", true, 202, true},
		{"POST", "/api/v1/sources/contact/records", `[{"fields":{}}]`, "application/json", true, 400, true},
		{"POST", "/api/v1/sources/contact/records", `[{"key":"a1","fields":{}}]`, "application/json", false, 401, true},
		{"POST", "/api/v1/sources/nope/records", `[{"key":"a1","fields":{}}]`, "application/json", true, 404, false},
		{"GET", "/api/v1/sources/contact/records/a1", "", "", true, 200, false},
		{"GET", "/api/v1/sources/contact/records/h1", "", "", true, 200, false},
		{"GET", "/api/v1/sources/contact/records/zz", "", "", true, 404, false},
		{"GET", "/api/v1/runs?limit=5", "", "", true, 200, false},
		{"GET", "/api/v1/runs?limit=0", "", "", true, 400, true},
		{"GET", "/api/v1/failures", "", "", true, 200, false},
		{"GET", "/api/v1/failures?mapping=leads&limit=10", "", "", true, 200, false},
		{"POST", "/api/v1/mappings/leads/retry", `{"keys":["h1"]}`, "application/json", true, 202, false},
		{"POST", "/api/v1/mappings/nope/retry", `{"keys":["h1"]}`, "application/json", true, 404, false},
	} {
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
