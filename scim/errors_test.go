package scim_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/scim"
	"github.com/forcesync/forcesync/sqlite"
)

// failingStore answers reads and writes with a coded error, as a store
// that lost its database does.
type failingStore struct {
	forcesync.Store
	err error
}

func (f failingStore) SourceRecord(context.Context, string, string) (*forcesync.SourceRecord, error) {
	return nil, f.err
}

// TestStoreErrorsMapOnce checks SCIM answers each store error code with the
// table's status: an unavailable store is a 503 with Retry-After (not a 500),
// a conflict a 409, an internal error a 500 that leaks nothing.
func TestStoreErrorsMapOnce(t *testing.T) {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "fs.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, tc := range []struct {
		err    error
		status int
		detail string
	}{
		{forcesync.Errorf(forcesync.EUnavailable, "database is locked"), 503, "database is locked"},
		{forcesync.Errorf(forcesync.EConflict, "busy"), 409, "busy"},
		{forcesync.Errorf(forcesync.EForbidden, "not yours"), 403, "not yours"},
		{forcesync.Errorf(forcesync.EInvalid, "bad"), 400, "bad"},
		{&json.SyntaxError{}, 500, "internal error"},
	} {
		srv := httptest.NewServer(scim.New(scim.Config{Store: failingStore{st, tc.err}, Engine: &fakeEngine{}, Source: "idp_user", Token: token}))
		req, _ := http.NewRequest("GET", srv.URL+"/scim/v2/Users/0b6f1f3e-1a2b-4c3d-8e9f-000000000001", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body map[string]any
		json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		srv.Close()
		if resp.StatusCode != tc.status || body["status"] != strconv.Itoa(tc.status) {
			t.Errorf("%v: status %d %v, want %d", tc.err, resp.StatusCode, body, tc.status)
		}
		if d, _ := body["detail"].(string); !strings.Contains(d, tc.detail) {
			t.Errorf("%v: detail %q, want it to contain %q", tc.err, d, tc.detail)
		}
		if tc.status == 503 && resp.Header.Get("Retry-After") == "" {
			t.Errorf("%v: 503 without Retry-After", tc.err)
		}
	}
}
