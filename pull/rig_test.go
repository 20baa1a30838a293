package pull_test

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/emulator"
	"github.com/forcesync/forcesync/engine"
	"github.com/forcesync/forcesync/mapping"
	"github.com/forcesync/forcesync/pull"
	"github.com/forcesync/forcesync/salesforce"
	"github.com/forcesync/forcesync/sqlite"
)

// rig is an emulator on loopback, a client, a SQLite store, an engine
// pushing the mapping (when it pushes) and a puller pulling it.
type rig struct {
	t      *testing.T
	emu    *emulator.Emulator
	client *salesforce.Client
	store  *sqlite.Store
	eng    *engine.Engine
	m      forcesync.Mapping
	path   string
	pstore pull.Store // what the puller writes through (tests may wrap it)
}

func newRig(t *testing.T, m forcesync.Mapping) *rig {
	t.Helper()
	ctx := context.Background()
	emu, err := emulator.New(emulator.Config{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	api := &engine.SalesforceAPI{}
	client, err := salesforce.NewClient(ctx, salesforce.Config{
		LoginURL: srv.URL,
		Auth: salesforce.Password{ClientID: "forcesync-demo", ClientSecret: "forcesync-demo-secret",
			Username: "admin@forcesync.local", Password: "forcesync"},
		Hooks: salesforce.Hooks{OnCall: api.CountCall},
		Retry: salesforce.RetryPolicy{MaxAttempts: 1},
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
	eng, err := engine.New(ctx, store, api, []forcesync.Mapping{m}, engine.Config{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	return &rig{t: t, emu: emu, client: client, store: store, eng: eng, m: m, path: path, pstore: store}
}

// puller builds a puller as serve does (a restart builds a new one).
func (r *rig) puller(tune func(*pull.Config)) *pull.Puller {
	r.t.Helper()
	ctx := context.Background()
	d, err := r.client.Describe(ctx, r.m.Object)
	if err != nil {
		r.t.Fatal(err)
	}
	c, err := mapping.Compile(r.m, d)
	if err != nil {
		r.t.Fatal(err)
	}
	cfg := pull.Config{Mapping: r.m, Compiled: c, Store: r.pstore, Querier: r.client, Queue: r.eng.MappingsFor(r.m.Source)}
	if tune != nil {
		tune(&cfg)
	}
	p, err := pull.New(ctx, cfg)
	if err != nil {
		r.t.Fatal(err)
	}
	return p
}

func (r *rig) poll(p *pull.Puller) pull.Stats {
	r.t.Helper()
	st, err := p.Poll(context.Background())
	if err != nil {
		r.t.Fatalf("poll: %v", err)
	}
	return st
}

func (r *rig) accept(key string, fields map[string]any) {
	r.t.Helper()
	if _, err := r.store.Accept(context.Background(), r.eng.MappingsFor(r.m.Source),
		[]forcesync.Change{{Source: r.m.Source, Key: key, Op: forcesync.OpUpsert, Fields: fields}}); err != nil {
		r.t.Fatal(err)
	}
}

func (r *rig) drain() {
	r.t.Helper()
	if _, err := r.eng.Drain(context.Background()); err != nil {
		r.t.Fatalf("drain: %v", err)
	}
}

// calls counts the API calls the emulator served, OAuth aside.
func (r *rig) calls() int64 {
	var n int64
	for k, v := range r.emu.Stats() {
		if k != emulator.KindOAuth {
			n += v
		}
	}
	return n
}

func (r *rig) sfID(key string) string {
	r.t.Helper()
	b, err := r.store.Binding(context.Background(), r.m.Name, key)
	if err != nil || b == nil {
		r.t.Fatalf("binding of %s: %+v %v", key, b, err)
	}
	return b.SalesforceID
}

func (r *rig) sf(id, field string) any {
	r.t.Helper()
	recs, err := r.client.QueryRecords(context.Background(), "SELECT Id, "+field+" FROM "+r.m.Object+" WHERE Id = '"+id+"'")
	if err != nil || len(recs) != 1 {
		r.t.Fatalf("read %s: %v %v", id, recs, err)
	}
	return recs[0][field]
}

func (r *rig) src(key string) *forcesync.SourceRecord {
	r.t.Helper()
	rec, err := r.store.SourceRecord(context.Background(), r.m.Source, key)
	if err != nil {
		r.t.Fatalf("source record %s: %v", key, err)
	}
	return rec
}

func (r *rig) changes(after int64) []forcesync.PulledChange {
	r.t.Helper()
	evs, err := r.store.Changes(context.Background(), after, 10000, nil)
	if err != nil {
		r.t.Fatal(err)
	}
	return evs
}

func leadsBoth(policy forcesync.ConflictPolicy) forcesync.Mapping {
	return forcesync.Mapping{Name: "leads", Source: "client", Object: "Lead", Direction: forcesync.Both,
		Match: forcesync.MatchRule{Kind: forcesync.MatchExternalID, Field: "Forcesync_Key__c"},
		Pull:  &forcesync.PullConfig{Conflict: policy, Into: []string{"source", "changes"}},
		Fields: []forcesync.FieldRow{
			{Target: "LastName", SourceField: "last"},
			{Target: "Company", SourceField: "company"},
			{Target: "Phone", SourceField: "phone"},
			{Target: "Title", SourceField: "title", Direction: forcesync.Pull},
		}}
}
