package httpserver_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/httpserver"
	"github.com/forcesync/forcesync/sqlite"
)

// TestRecordUnreadableFields: a record stored with a number the store
// cannot read back (1e400, accepted before ingest refused it) answers 200
// with its statuses and what is wrong, as openapi.json describes, rather
// than a bare 500 "internal error".
func TestRecordUnreadableFields(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "api.db")
	st, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Accept(ctx, []string{"leads"}, []forcesync.Change{{Source: "contact", Key: "u1", Op: forcesync.OpUpsert,
		Fields: map[string]any{"email": "u@example.com"}}}); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`UPDATE source_records SET fields = '{"email":"u@example.com","amount":1e400}' WHERE key = 'u1'`); err != nil {
		t.Fatal(err)
	}
	srv := httpserver.New(httpserver.Config{Store: st, Engine: stubEngine{}, Sources: []string{"contact"}, APIToken: "tok"})
	req := httptest.NewRequest("GET", "/api/v1/sources/contact/records/u1", nil)
	req.Header.Set("Authorization", "Bearer tok")
	w := httptest.NewRecorder()
	srv.ServeHTTP(w, req)
	var rec struct {
		Version    int64                  `json:"version"`
		Fields     map[string]any         `json:"fields"`
		Unreadable *forcesync.RecordError `json:"unreadable"`
		Mappings   []map[string]any       `json:"mappings"`
	}
	if w.Code != http.StatusOK || json.Unmarshal(w.Body.Bytes(), &rec) != nil || rec.Version != 1 || rec.Fields != nil ||
		rec.Unreadable == nil || rec.Unreadable.Code != forcesync.CodeUnreadableRecord || len(rec.Unreadable.Fields) != 1 ||
		rec.Unreadable.Fields[0] != "amount" || len(rec.Mappings) != 1 {
		t.Fatalf("GET of the unreadable record: %d %s", w.Code, w.Body.String())
	}
	v := specValidator(t)
	runOpenAPICases(t, v, srv, []apiCase{{"GET", "/api/v1/sources/contact/records/u1", "", "", true, 200, false}})
}
