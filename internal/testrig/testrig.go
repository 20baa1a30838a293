// Package testrig is the test bench the engine's and the puller's tests
// share: an emulator on loopback, a client logged in through the password
// grant (its calls counted by an engine.SalesforceAPI), a SQLite store in
// a temp dir and an engine for the mappings under test. Tests only.
package testrig

import (
	"context"
	"database/sql"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/emulator"
	"github.com/forcesync/forcesync/engine"
	"github.com/forcesync/forcesync/salesforce"
	"github.com/forcesync/forcesync/sqlite"
)

// Rig is one bench; everything is closed by t.Cleanup.
type Rig struct {
	T      testing.TB
	Emu    *emulator.Emulator
	URL    string // the emulator's base URL
	Client *salesforce.Client
	API    *engine.SalesforceAPI
	Store  *sqlite.Store
	Path   string // the SQLite file
	Eng    *engine.Engine
}

// Options tunes New; the zero value is the default emulator and engine.
type Options struct {
	Emulator emulator.Config
	Engine   engine.Config
	// Retry is the client's retry policy; MaxAttempts 0 tries each call
	// once, so that a test's fault fails at once.
	Retry salesforce.RetryPolicy
}

// New starts a bench for mappings.
func New(t testing.TB, opt Options, mappings ...forcesync.Mapping) *Rig {
	t.Helper()
	ctx := context.Background()
	emu, err := emulator.New(opt.Emulator)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	api := &engine.SalesforceAPI{}
	retry := opt.Retry
	if retry.MaxAttempts == 0 {
		retry.MaxAttempts = 1
	}
	client, err := salesforce.NewClient(ctx, salesforce.Config{
		LoginURL: srv.URL,
		Auth: salesforce.Password{ClientID: "forcesync-demo", ClientSecret: "forcesync-demo-secret",
			Username: "admin@forcesync.local", Password: "forcesync"},
		Hooks: salesforce.Hooks{OnCall: api.CountCall},
		Retry: retry,
	})
	if err != nil {
		t.Fatal(err)
	}
	api.Client = client
	path := filepath.Join(t.TempDir(), "fs.db")
	store, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	eng, err := engine.New(ctx, store, api, mappings, opt.Engine)
	if err != nil {
		t.Fatal(err)
	}
	return &Rig{T: t, Emu: emu, URL: srv.URL, Client: client, API: api, Store: store, Path: path, Eng: eng}
}

// Accept stores changes of source and queues them for its mappings.
func (r *Rig) Accept(source string, cs ...forcesync.Change) {
	r.T.Helper()
	for i := range cs {
		cs[i].Source = source
	}
	if _, err := r.Store.Accept(context.Background(), r.Eng.MappingsFor(source), cs); err != nil {
		r.T.Fatal(err)
	}
}

// Drain pushes until nothing is due; it returns the records settled.
func (r *Rig) Drain() int {
	r.T.Helper()
	n, err := r.Eng.Drain(context.Background())
	if err != nil {
		r.T.Fatalf("drain: %v", err)
	}
	return n
}

// Calls counts the API calls the emulator served, OAuth aside.
func (r *Rig) Calls() int64 {
	var n int64
	for k, v := range r.Emu.Stats() {
		if k != emulator.KindOAuth {
			n += v
		}
	}
	return n
}

// Query reads Salesforce through the client.
func (r *Rig) Query(soql string) []salesforce.Record {
	r.T.Helper()
	recs, err := r.Client.QueryRecords(context.Background(), soql)
	if err != nil {
		r.T.Fatalf("query %q: %v", soql, err)
	}
	return recs
}

// EmulatorConnection is the connections block of a test config: one
// connection, "org", that logs in to the emulator at %s (its base URL,
// for fmt.Sprintf) with the password flow as the emulator's admin. The
// client secret and password come from the env vars TEST_SF_SECRET
// (forcesync-demo-secret) and TEST_SF_PASSWORD (forcesync). It ends
// without a newline.
const EmulatorConnection = `connections:
  - name: org
    login_url: %s
    auth: password
    client_id: forcesync-demo
    client_secret: ${TEST_SF_SECRET}
    username: admin@forcesync.local
    password_env: TEST_SF_PASSWORD`

// Spoil adds a number past float64's range (1e400) as field "n" to the
// stored record source/key of the SQLite file at path, past every door, as
// data stored by an older release: the store then reads it as unreadable
// (forcesync.CodeUnreadableRecord).
func Spoil(t testing.TB, path, source, key string) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	res, err := db.Exec(`UPDATE source_records SET fields = '{"n":1e400,' || substr(fields, 2) WHERE source = ? AND key = ?`, source, key)
	if err != nil {
		t.Fatalf("spoil %s/%s: %v", source, key, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		t.Fatalf("spoil %s/%s: %d rows", source, key, n)
	}
}
