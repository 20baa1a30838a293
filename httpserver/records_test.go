package httpserver_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/httpserver"
	"github.com/forcesync/forcesync/sqlite"
)

// TestRecordsList pages through a source's live records with
// GET /api/v1/sources/{source}/records, the read webhooks.md sends an
// application to when the changes feed answers 410: every live record
// once, in key order, deleted ones left out, and each answer as
// openapi.json describes it.
func TestRecordsList(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "api.db")
	st, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var changes []forcesync.Change
	for _, k := range []string{"c", "a", "d", "b"} {
		changes = append(changes, forcesync.Change{Source: "contact", Key: k, Op: forcesync.OpUpsert,
			Fields: map[string]any{"email": k + "@example.com"}})
	}
	if _, err := st.Accept(ctx, []string{"leads"}, changes); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Accept(ctx, []string{"leads"}, []forcesync.Change{{Source: "contact", Key: "b", Op: forcesync.OpDelete}}); err != nil {
		t.Fatal(err)
	}
	// c holds a number the store cannot read back (stored before ingest
	// refused it): listed as unreadable, not failing the page.
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`UPDATE source_records SET fields = '{"email":"c@example.com","n":1e400}' WHERE key = 'c'`); err != nil {
		t.Fatal(err)
	}
	srv := httpserver.New(httpserver.Config{Store: st, Engine: stubEngine{}, Sources: []string{"contact"}, APIToken: "tok"})
	get := func(path string) (int, []byte) {
		req := httptest.NewRequest("GET", path, nil)
		req.Header.Set("Authorization", "Bearer tok")
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, req)
		return w.Code, w.Body.Bytes()
	}
	var keys []string
	after, pages := "", 0
	for {
		code, body := get("/api/v1/sources/contact/records?limit=2&after=" + after)
		var page struct {
			Records []struct {
				Key     string                 `json:"key"`
				Version int64                  `json:"version"`
				Fields  map[string]any         `json:"fields"`
				Unread  *forcesync.RecordError `json:"unreadable"`
			} `json:"records"`
			Next string `json:"next"`
		}
		if code != http.StatusOK || json.Unmarshal(body, &page) != nil {
			t.Fatalf("page after %q: %d %s", after, code, body)
		}
		for _, r := range page.Records {
			if r.Key == "c" {
				if r.Fields != nil || r.Unread == nil || r.Unread.Code != forcesync.CodeUnreadableRecord {
					t.Fatalf("unreadable record c: %+v", r)
				}
			} else if r.Fields["email"] != r.Key+"@example.com" || r.Version != 1 || r.Unread != nil {
				t.Fatalf("record %s: %+v", r.Key, r)
			}
			keys = append(keys, r.Key)
		}
		if pages++; page.Next == "" || pages > 5 {
			break
		}
		after = page.Next
	}
	if got := strings.Join(keys, " "); got != "a c d" || pages != 2 {
		t.Fatalf("listed %q in %d pages, want \"a c d\" in 2", got, pages)
	}

	v := specValidator(t)
	runOpenAPICases(t, v, srv, []apiCase{
		{"GET", "/api/v1/sources/contact/records", "", "", true, 200, false},
		{"GET", "/api/v1/sources/contact/records?after=a&limit=1", "", "", true, 200, false}, // c, unreadable
		{"GET", "/api/v1/sources/contact/records?limit=1001", "", "", true, 400, true},
		{"GET", "/api/v1/sources/nope/records", "", "", true, 404, false},
		{"GET", "/api/v1/sources/contact/records", "", "", false, 401, true},
	})
}

// TestAPIUnknownRouteJSON: with the console serving every other path, a
// request no /api/v1 route takes (a method the path does not serve, an
// unknown path) is answered 404 in the API's JSON error shape, naming the
// method and path, and not by the console's HTML page; the console keeps
// its own /api page.
func TestAPIUnknownRouteJSON(t *testing.T) {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "api.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	console := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte("<html>console " + r.URL.Path + "</html>"))
	})
	srv := httpserver.New(httpserver.Config{Store: st, Engine: stubEngine{}, Sources: []string{"contact"}, APIToken: "tok", Console: console})
	for _, tc := range []struct{ method, path string }{
		{"DELETE", "/api/v1/sources/contact/records/a1"},
		{"GET", "/api/v1/sources/contact/nothing"},
		{"PUT", "/api/v1/runs"},
	} {
		req := httptest.NewRequest(tc.method, tc.path, nil)
		req.Header.Set("Authorization", "Bearer tok")
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, req)
		var body struct{ Error, Code string }
		if w.Code != http.StatusNotFound || w.Header().Get("Content-Type") != "application/json" ||
			json.Unmarshal(w.Body.Bytes(), &body) != nil || body.Code != "not_found" ||
			!strings.Contains(body.Error, tc.method+" "+tc.path) {
			t.Errorf("%s %s: %d %s %s", tc.method, tc.path, w.Code, w.Header().Get("Content-Type"), w.Body.String())
		}
	}
	req := httptest.NewRequest("GET", "/api", nil)
	w := httptest.NewRecorder()
	srv.ServeHTTP(w, req)
	if !strings.Contains(w.Body.String(), "console /api") {
		t.Errorf("GET /api did not reach the console: %d %s", w.Code, w.Body.String())
	}
}
