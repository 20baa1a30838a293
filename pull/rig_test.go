package pull_test

import (
	"context"
	"testing"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/emulator"
	"github.com/forcesync/forcesync/engine"
	"github.com/forcesync/forcesync/internal/testrig"
	"github.com/forcesync/forcesync/mapping"
	"github.com/forcesync/forcesync/pull"
	"github.com/forcesync/forcesync/salesforce"
	"github.com/forcesync/forcesync/sqlite"
)

// rig is the shared bench (internal/testrig) with a puller pulling the
// mapping and the engine pushing it (when it pushes).
type rig struct {
	*testrig.Rig
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
	tr := testrig.New(t, testrig.Options{Engine: engine.Config{Workers: 1}}, m)
	return &rig{Rig: tr, t: t, emu: tr.Emu, client: tr.Client, store: tr.Store, eng: tr.Eng, m: m, path: tr.Path, pstore: tr.Store}
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
	r.Accept(r.m.Source, forcesync.Change{Key: key, Op: forcesync.OpUpsert, Fields: fields})
}

func (r *rig) drain() { r.t.Helper(); r.Drain() }

// calls counts the API calls the emulator served, OAuth aside.
func (r *rig) calls() int64 { return r.Calls() }

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

// useMapping changes the rig's mapping as a config reload does: a new
// engine pushes m from the same store, and later pullers pull it.
func (r *rig) useMapping(m forcesync.Mapping) {
	r.t.Helper()
	eng, err := engine.New(context.Background(), r.store, r.API, []forcesync.Mapping{m}, engine.Config{Workers: 1})
	if err != nil {
		r.t.Fatal(err)
	}
	r.Eng, r.eng, r.m = eng, eng, m
}
