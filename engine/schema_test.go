package engine_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/emulator"
	"github.com/forcesync/forcesync/engine"
	"github.com/forcesync/forcesync/internal/testrig"
	"github.com/forcesync/forcesync/salesforce"
	"github.com/forcesync/forcesync/sqlite"
	"github.com/prometheus/client_golang/prometheus"
)

func schemaLeadMapping(name, field string, row forcesync.FieldRow) forcesync.Mapping {
	row.Target = field
	return forcesync.Mapping{Name: name, Source: name, Object: "Lead",
		Match: forcesync.MatchRule{Kind: forcesync.MatchExternalID, Field: "Forcesync_Key__c"},
		Fields: []forcesync.FieldRow{
			{Target: "LastName", SourceField: "last"},
			{Target: "Company", Constant: "Schema Co", HasConstant: true, On: forcesync.OnCreate},
			row,
		}}
}

// TestSchemaDriftWhileRunning changes the org's schema under a running
// engine: a shortened field recompiles its mapping and requeues the record
// Salesforce refused; a deleted field and a renamed picklist value pause
// the mappings that use them, naming the field and the change, and their
// records wait in the queue.
func TestSchemaDriftWhileRunning(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ms := []forcesync.Mapping{
		schemaLeadMapping("nick", "Nickname__c", forcesync.FieldRow{SourceField: "nickname"}),
		schemaLeadMapping("legacy", "Legacy__c", forcesync.FieldRow{SourceField: "legacy"}),
		schemaLeadMapping("tier", "Tier__c", forcesync.FieldRow{SourceField: "tier", ValueMap: map[string]string{"g": "Gold", "s": "Silver"}}),
	}
	tr := testrig.New(t, testrig.Options{Emulator: emulator.Config{Objects: []emulator.ObjectConfig{{Name: "Lead", Fields: []emulator.FieldConfig{
		{Name: "Nickname__c", Type: "string", Length: 40},
		{Name: "Legacy__c", Type: "string", Length: 40},
		{Name: "Tier__c", Type: "picklist", Picklist: []string{"Gold", "Silver"}, Restricted: true},
	}}}},
		Engine: engine.Config{BulkThreshold: -1, SchemaEvery: -1, Idle: 20 * time.Millisecond}}, ms...)
	emu, client, store, eng := tr.Emu, tr.Client, tr.Store, tr.Eng
	done := make(chan error, 1)
	go func() { done <- eng.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	accept := func(source, key string, fields map[string]any) {
		t.Helper()
		if _, err := store.Accept(ctx, eng.MappingsFor(source), []forcesync.Change{{Source: source, Key: key, Fields: fields}}); err != nil {
			t.Fatal(err)
		}
		eng.Notify()
	}
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	state := func(source, key string) forcesync.RecordStatus {
		sts, _ := store.Statuses(ctx, source, key)
		if len(sts) == 0 {
			return forcesync.RecordStatus{}
		}
		return sts[0]
	}
	accept("nick", "n1", map[string]any{"last": "N1", "nickname": "short"})
	accept("legacy", "l1", map[string]any{"last": "L1", "legacy": "old"})
	accept("tier", "t1", map[string]any{"last": "T1", "tier": "g"})
	for _, k := range [][2]string{{"nick", "n1"}, {"legacy", "l1"}, {"tier", "t1"}} {
		waitFor(k[1]+" synced", func() bool { return state(k[0], k[1]).State == forcesync.StateSynced })
	}

	// 1. Nickname__c shrinks to 5: Salesforce refuses the 10 characters
	// once; the mapping is recompiled and the record goes, truncated.
	if err := emu.SetFieldLength("Lead", "Nickname__c", 5); err != nil {
		t.Fatal(err)
	}
	accept("nick", "n2", map[string]any{"last": "N2", "nickname": "abcdefghij"})
	waitFor("n2 synced after the recompile", func() bool { return state("nick", "n2").State == forcesync.StateSynced })
	st := state("nick", "n2")
	recs, err := client.QueryRecords(ctx, "SELECT Nickname__c FROM Lead WHERE Id = '"+st.SalesforceID+"'")
	if err != nil || len(recs) != 1 || recs[0]["Nickname__c"] != "abcde" || len(st.Warnings) == 0 {
		t.Fatalf("n2: %+v in Salesforce, status %+v, %v; want abcde with a truncation warning", recs, st, err)
	}
	if why := eng.SchemaPaused()["nick"]; why != "" {
		t.Fatalf("nick paused: %s", why)
	}

	// 2. Legacy__c is deleted: the mapping pauses, naming the field.
	if err := emu.DeleteField("Lead", "Legacy__c"); err != nil {
		t.Fatal(err)
	}
	accept("legacy", "l2", map[string]any{"last": "L2", "legacy": "x"})
	waitFor("legacy paused", func() bool { return eng.SchemaPaused()["legacy"] != "" })
	if why := eng.SchemaPaused()["legacy"]; !strings.Contains(why, "field Legacy__c deleted") {
		t.Fatalf("legacy paused because %q; want the deleted field named", why)
	}
	accept("legacy", "l3", map[string]any{"last": "L3", "legacy": "y"})

	// 3. The picklist value Gold becomes Platinum: the value map no longer
	// fits a restricted picklist, the mapping pauses.
	if err := emu.RenamePicklistValue("Lead", "Tier__c", "Gold", "Platinum"); err != nil {
		t.Fatal(err)
	}
	accept("tier", "t2", map[string]any{"last": "T2", "tier": "g"})
	waitFor("tier paused", func() bool { return eng.SchemaPaused()["tier"] != "" })
	if why := eng.SchemaPaused()["tier"]; !strings.Contains(why, "Tier__c") || !strings.Contains(why, `removed ["Gold"]`) {
		t.Fatalf("tier paused because %q; want the renamed value named", why)
	}
	// Nothing was lost: the paused mappings' records wait.
	for _, k := range [][2]string{{"legacy", "l3"}, {"tier", "t2"}, {"legacy", "l2"}} {
		if s := state(k[0], k[1]); s.State == forcesync.StateSynced || s.State == "" {
			t.Errorf("%s: %+v; want it kept (pending or held)", k[1], s)
		}
	}
	if n, _ := store.Backlog(ctx, "legacy"); n == 0 {
		if held, _ := store.List(ctx, forcesync.StatusFilter{Mapping: "legacy", States: []forcesync.State{forcesync.StateHeld}}); len(held) == 0 {
			t.Fatal("legacy's records are neither queued nor held")
		}
	}

	// 4. An unchanged schema costs one call per object and no body.
	before := emu.Stats()[emulator.KindREST]
	if err := eng.CheckSchema(ctx); err != nil {
		t.Fatal(err)
	}
	if err := eng.CheckSchema(ctx); err != nil {
		t.Fatal(err)
	}
	if d := emu.Stats()[emulator.KindREST] - before; d > 2 {
		t.Fatalf("two checks of an unchanged schema cost %d calls; want one each", d)
	}
	// A later check keeps each pause's reason.
	if why := eng.SchemaPaused()["legacy"]; !strings.Contains(why, "field Legacy__c deleted") {
		t.Fatalf("after more checks legacy is paused because %q", why)
	}
}

// TestSchemaPauseSurvivesRestart pauses a mapping by renaming a picklist
// value it maps to (through the emulator's admin API), restarts the
// engine on the same store: it starts with the mapping paused (it used to
// fail to start), shows the reason in its metrics, keeps the records
// queued, and resumes when the schema is fixed, with nothing lost.
func TestSchemaPauseSurvivesRestart(t *testing.T) {
	ctx := context.Background()
	emu, err := emulator.New(emulator.Config{Objects: []emulator.ObjectConfig{{Name: "Lead", Fields: []emulator.FieldConfig{
		{Name: "Tier__c", Type: "picklist", Picklist: []string{"Gold", "Silver"}, Restricted: true},
	}}}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	connect := func() *engine.SalesforceAPI {
		api := &engine.SalesforceAPI{}
		client, err := salesforce.NewClient(ctx, salesforce.Config{LoginURL: srv.URL,
			Auth:  salesforce.Password{ClientID: "forcesync-demo", ClientSecret: "forcesync-demo-secret", Username: "admin@forcesync.local", Password: "forcesync"},
			Hooks: salesforce.Hooks{OnCall: api.CountCall}, Retry: salesforce.RetryPolicy{MaxAttempts: 1}})
		if err != nil {
			t.Fatal(err)
		}
		api.Client = client
		return api
	}
	rename := func(from, to string) {
		t.Helper()
		resp, err := http.Post(srv.URL+"/__emulator/schema/rename-picklist-value", "application/json",
			strings.NewReader(`{"object":"Lead","field":"Tier__c","from":"`+from+`","to":"`+to+`"}`))
		if err != nil || resp.StatusCode >= 300 {
			t.Fatalf("rename %s -> %s: %v %v", from, to, resp, err)
		}
		resp.Body.Close()
	}
	dbPath := filepath.Join(t.TempDir(), "fs.db")
	store, err := sqlite.Open(ctx, dbPath, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	ms := []forcesync.Mapping{schemaLeadMapping("tier", "Tier__c", forcesync.FieldRow{SourceField: "tier", ValueMap: map[string]string{"g": "Gold", "s": "Silver"}})}
	cfg := engine.Config{BulkThreshold: -1, SchemaEvery: -1}
	eng, err := engine.New(ctx, store, connect(), ms, cfg)
	if err != nil {
		t.Fatal(err)
	}
	accept := func(e *engine.Engine, key string) {
		t.Helper()
		if _, err := store.Accept(ctx, e.MappingsFor("tier"), []forcesync.Change{{Source: "tier", Key: key, Fields: map[string]any{"last": key, "tier": "g"}}}); err != nil {
			t.Fatal(err)
		}
	}
	accept(eng, "t1")
	if _, err := eng.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	rename("Gold", "Platinum")
	if err := eng.CheckSchema(ctx); err != nil {
		t.Fatal(err)
	}
	if eng.SchemaPaused()["tier"] == "" {
		t.Fatal("tier not paused by the renamed value")
	}

	// Restart: a new client and engine on the same store.
	eng2, err := engine.New(ctx, store, connect(), ms, cfg)
	if err != nil {
		t.Fatalf("restart while paused: %v", err)
	}
	why := eng2.SchemaPaused()["tier"]
	if !strings.Contains(why, `removed ["Gold"]`) {
		t.Fatalf("after the restart tier is paused because %q; want the renamed value named", why)
	}
	ps, err := store.SchemaPauses(ctx)
	if err != nil || len(ps) != 1 || ps[0].Mapping != "tier" {
		t.Fatalf("stored pauses %+v %v", ps, err)
	}
	reg := prometheus.NewRegistry()
	engine.NewMetrics(reg).Watch(eng2)
	if v, reason := gaugeOf(t, reg, "forcesync_mapping_schema_paused", "tier"); v != 1 || !strings.Contains(reason, "Tier__c") {
		t.Fatalf("forcesync_mapping_schema_paused{mapping=tier} = %v (reason %q); want 1 naming Tier__c", v, reason)
	}
	accept(eng2, "t2")
	if _, err := eng2.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	if sts, _ := store.Statuses(ctx, "tier", "t2"); len(sts) != 1 || sts[0].State != forcesync.StatePending {
		t.Fatalf("t2 while paused: %+v; want pending", sts)
	}

	// The administrator renames the value back: the next check resumes the
	// mapping, forgets the stored pause, and t2 goes.
	rename("Platinum", "Gold")
	if err := eng2.CheckSchema(ctx); err != nil {
		t.Fatal(err)
	}
	if why := eng2.SchemaPaused()["tier"]; why != "" {
		t.Fatalf("still paused after the fix: %s", why)
	}
	if ps, err := store.SchemaPauses(ctx); err != nil || len(ps) != 0 {
		t.Fatalf("stored pauses after the fix: %+v %v", ps, err)
	}
	if _, err := eng2.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	if sts, _ := store.Statuses(ctx, "tier", "t2"); len(sts) != 1 || sts[0].State != forcesync.StateSynced {
		t.Fatalf("t2 after the fix: %+v; want synced", sts)
	}
	if v, _ := gaugeOf(t, reg, "forcesync_mapping_schema_paused", "tier"); v != 0 {
		t.Fatalf("forcesync_mapping_schema_paused{mapping=tier} = %v after the fix; want 0", v)
	}
}

// gaugeOf returns the value and reason label of a gauge's series for a
// mapping.
func gaugeOf(t *testing.T, reg *prometheus.Registry, name, mapping string) (float64, string) {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["mapping"] == mapping {
				return m.GetGauge().GetValue(), labels["reason"]
			}
		}
	}
	t.Fatalf("no %s for mapping %s", name, mapping)
	return 0, ""
}

// TestSchemaResumeRequeuesWhatThePauseRefused: the record whose push
// revealed a deleted field is held (INVALID_FIELD) as the mapping pauses.
// When the field is created again the mapping compiles to the version it
// had, so nothing else would send the record again: the resume does, at
// run time (a schema check) and at a start (the stored pause is found
// fitting). Salesforce created the field again empty: the resume pushes
// the mapping's bound records again too, filling it. A record held for its
// own data stays held.
func TestSchemaResumeRequeuesWhatThePauseRefused(t *testing.T) {
	ctx := context.Background()
	legacy := emulator.FieldConfig{Name: "Legacy__c", Type: "string", Length: 40}
	ms := []forcesync.Mapping{schemaLeadMapping("legacy", "Legacy__c", forcesync.FieldRow{SourceField: "legacy"})}
	cfg := engine.Config{BulkThreshold: -1, SchemaEvery: -1}
	tr := testrig.New(t, testrig.Options{Emulator: emulator.Config{Objects: []emulator.ObjectConfig{{Name: "Lead",
		Fields: []emulator.FieldConfig{legacy}}}}, Engine: cfg}, ms...)
	state := func(key string) forcesync.RecordStatus {
		t.Helper()
		sts, err := tr.Store.Statuses(ctx, "legacy", key)
		if err != nil || len(sts) != 1 {
			t.Fatalf("status of %s: %+v %v", key, sts, err)
		}
		return sts[0]
	}
	accept := func(key, last string) {
		t.Helper()
		tr.Accept("legacy", forcesync.Change{Key: key, Fields: map[string]any{"last": last, "legacy": "v-" + key}})
	}
	accept("bad", "") // no LastName: held for its own data
	accept("l1", "L1")
	tr.Drain()
	if st := state("bad"); st.State != forcesync.StateHeld || st.Error == nil || st.Error.Code != "REQUIRED_FIELD_MISSING" {
		t.Fatalf("bad: %+v; want held with REQUIRED_FIELD_MISSING", st)
	}

	// Run time: the field goes, the push of l2 is refused and pauses the
	// mapping; the field comes back, and a schema check resumes it.
	if err := tr.Emu.DeleteField("Lead", "Legacy__c"); err != nil {
		t.Fatal(err)
	}
	accept("l2", "L2")
	tr.Drain()
	if tr.Eng.SchemaPaused()["legacy"] == "" {
		t.Fatal("legacy not paused by the refused push")
	}
	if st := state("l2"); st.State != forcesync.StateHeld || st.Error.Code != "INVALID_FIELD" {
		t.Fatalf("l2: %+v; want held with INVALID_FIELD", st)
	}
	if err := tr.Emu.AddField("Lead", legacy); err != nil {
		t.Fatal(err)
	}
	if err := tr.Eng.CheckSchema(ctx); err != nil {
		t.Fatal(err)
	}
	if why := tr.Eng.SchemaPaused()["legacy"]; why != "" {
		t.Fatalf("still paused after the field came back: %s", why)
	}
	tr.Drain()
	if st := state("l2"); st.State != forcesync.StateSynced {
		t.Fatalf("l2 after the resume: %+v; want synced", st)
	}
	// The field came back empty on every Lead: the resume pushes the
	// mapping's records again, so l1, synced before, has its value again.
	for _, k := range []string{"l1", "l2"} {
		if recs := tr.Query("SELECT Id FROM Lead WHERE Forcesync_Key__c = '" + k + "' AND Legacy__c = 'v-" + k + "'"); len(recs) != 1 {
			t.Fatalf("Salesforce holds %d Leads %s with Legacy__c, want 1", len(recs), k)
		}
	}

	// A start: paused again (l3 refused), the field comes back while
	// forcesync is stopped, and a new engine finds the stored pause fits.
	if err := tr.Emu.DeleteField("Lead", "Legacy__c"); err != nil {
		t.Fatal(err)
	}
	accept("l3", "L3")
	tr.Drain()
	if err := tr.Eng.CheckSchema(ctx); err != nil { // errors prompt a check at most every 10s
		t.Fatal(err)
	}
	if st := state("l3"); tr.Eng.SchemaPaused()["legacy"] == "" || st.State != forcesync.StateHeld {
		t.Fatalf("l3: %+v, paused %q; want held and the mapping paused", st, tr.Eng.SchemaPaused()["legacy"])
	}
	if err := tr.Emu.AddField("Lead", legacy); err != nil {
		t.Fatal(err)
	}
	tr.Client.ForgetDescribe("Lead") // a new process describes afresh
	eng, err := engine.New(ctx, tr.Store, tr.API, ms, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if why := eng.SchemaPaused()["legacy"]; why != "" {
		t.Fatalf("the new engine starts paused: %s", why)
	}
	if _, err := eng.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	if st := state("l3"); st.State != forcesync.StateSynced {
		t.Fatalf("l3 after the start: %+v; want synced", st)
	}
	for _, k := range []string{"l1", "l2", "l3"} {
		if recs := tr.Query("SELECT Id FROM Lead WHERE Forcesync_Key__c = '" + k + "' AND Legacy__c = 'v-" + k + "'"); len(recs) != 1 {
			t.Fatalf("after the start Salesforce holds %d Leads %s with Legacy__c, want 1 (filled again)", len(recs), k)
		}
	}
	if st := state("bad"); st.State != forcesync.StateHeld || st.Error.Code != "REQUIRED_FIELD_MISSING" {
		t.Fatalf("bad after the resumes: %+v; want still held for its own data", st)
	}
}

// redescribes counts an API's Redescribe calls and, when block is set,
// holds the next one until block is closed (entered says it began).
type redescribes struct {
	*engine.SalesforceAPI
	mu      sync.Mutex
	n       int
	block   chan struct{}
	entered chan struct{}
}

func (a *redescribes) Redescribe(ctx context.Context, obj string) (*salesforce.SObjectDescribe, bool, error) {
	a.mu.Lock()
	a.n++
	block, entered := a.block, a.entered
	a.block = nil
	a.mu.Unlock()
	if block != nil {
		entered <- struct{}{}
		<-block
	}
	return a.SalesforceAPI.Redescribe(ctx, obj)
}

func (a *redescribes) count() int { a.mu.Lock(); defer a.mu.Unlock(); return a.n }

// TestSuspectSchemaFromAFailedRead: a read of a mapping's object that
// Salesforce refused for the schema (a poll's INVALID_FIELD) checks the
// mapping's schema at once and pauses it, storing the pause; an outage, a
// lost login or a limit checks nothing. A second refusal within a minute
// checks nothing more, nor does one while a check of the mapping runs.
func TestSuspectSchemaFromAFailedRead(t *testing.T) {
	ctx := context.Background()
	legacy := emulator.FieldConfig{Name: "Legacy__c", Type: "string", Length: 40}
	ms := []forcesync.Mapping{schemaLeadMapping("legacy", "Legacy__c", forcesync.FieldRow{SourceField: "legacy"})}
	tr := testrig.New(t, testrig.Options{Emulator: emulator.Config{Objects: []emulator.ObjectConfig{{Name: "Lead",
		Fields: []emulator.FieldConfig{legacy}}}}, Engine: engine.Config{SchemaEvery: -1}}, ms...)
	var clockMu sync.Mutex
	now := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	advance := func(d time.Duration) { clockMu.Lock(); now = now.Add(d); clockMu.Unlock() }
	api := &redescribes{SalesforceAPI: tr.API}
	eng, err := engine.New(ctx, tr.Store, api, ms, engine.Config{SchemaEvery: -1,
		Now: func() time.Time { clockMu.Lock(); defer clockMu.Unlock(); return now }})
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Emu.DeleteField("Lead", "Legacy__c"); err != nil {
		t.Fatal(err)
	}

	for _, err := range []error{
		&salesforce.APIError{Status: 503, Code: "SERVER_UNAVAILABLE", Message: "down for maintenance"},
		&salesforce.APIError{Status: 403, Code: salesforce.CodeRequestLimitExceeded, Message: "TotalRequests Limit exceeded"},
		&salesforce.AuthError{Status: 400, Code: "invalid_grant", Description: "expired access/refresh token"},
		errors.New("dial tcp 127.0.0.1:1: connection refused"),
		context.DeadlineExceeded,
	} {
		if eng.SuspectSchema(ctx, "legacy", fmt.Errorf("pull Lead: %w", err)) {
			t.Errorf("%v prompted a schema check", err)
		}
	}
	if n := api.count(); n != 0 || eng.SchemaPaused()["legacy"] != "" {
		t.Fatalf("errors not of the schema: %d describes, paused %q; want none", n, eng.SchemaPaused()["legacy"])
	}

	refused := fmt.Errorf("query: %w", &salesforce.APIError{Status: 400, Code: "INVALID_FIELD", Message: "No such column 'Legacy__c' on entity 'Lead'"})
	if !eng.SuspectSchema(ctx, "legacy", refused) {
		t.Fatal("INVALID_FIELD prompted no schema check")
	}
	if why := eng.SchemaPaused()["legacy"]; !strings.Contains(why, "Legacy__c") || api.count() != 1 {
		t.Fatalf("after the refused read: paused %q, %d describes; want paused naming Legacy__c, 1 describe", why, api.count())
	}
	sp, _ := forcesync.StoreAs[forcesync.SchemaPauses](tr.Store)
	if stored, err := sp.SchemaPauses(ctx); err != nil || len(stored) != 1 || stored[0].Mapping != "legacy" {
		t.Fatalf("stored pauses %+v, %v; want legacy's", stored, err)
	}
	advance(59 * time.Second)
	if eng.SuspectSchema(ctx, "legacy", refused) || api.count() != 1 {
		t.Fatalf("a second refusal within the minute checked again: %d describes", api.count())
	}

	// The field comes back; a refusal a minute later checks, and while
	// that check runs another refusal checks nothing.
	if err := tr.Emu.AddField("Lead", legacy); err != nil {
		t.Fatal(err)
	}
	advance(2 * time.Second)
	api.mu.Lock()
	api.block, api.entered = make(chan struct{}), make(chan struct{}, 1)
	block, entered := api.block, api.entered
	api.mu.Unlock()
	checked := make(chan bool, 1)
	go func() { checked <- eng.SuspectSchema(ctx, "legacy", refused) }()
	<-entered
	advance(2 * time.Minute)
	if eng.SuspectSchema(ctx, "legacy", refused) {
		t.Error("a refusal during a running check checked again")
	}
	close(block)
	if !<-checked {
		t.Fatal("the refusal a minute later prompted no check")
	}
	if why := eng.SchemaPaused()["legacy"]; why != "" || api.count() != 2 {
		t.Fatalf("after the field came back: paused %q, %d describes; want resumed, 2 describes", why, api.count())
	}
}
