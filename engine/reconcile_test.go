package engine_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/emulator"
	"github.com/forcesync/forcesync/engine"
	"github.com/forcesync/forcesync/salesforce"
)

func driftKinds(fs []forcesync.Finding) map[string]forcesync.DriftKind {
	out := map[string]forcesync.DriftKind{}
	for _, f := range fs {
		out[f.Key+"/"+string(f.Kind)] = f.Kind
	}
	return out
}

// TestReconcileFindsAndHealsDrift injects every kind of drift through the
// emulator (an edit by someone else, a delete, a merge, a conversion, a
// purge, a twin, a record never synced), finds them all, through SOQL and
// through Bulk, then heals and finds Salesforce equal to the source.
func TestReconcileFindsAndHealsDrift(t *testing.T) {
	ctx := context.Background()
	leads := leadByExtID()
	leads.Guard.MaxRecords = 3
	people := planPeopleByEmail()
	r := newRig(t, engine.Config{BulkThreshold: -1}, leads, people)
	r.emu.SetFinishBulkJobsAtOnce(true)
	r.accept("person", planPerson("p1", "One", "one@example.com"), planPerson("p2", "Two", "two@example.com"))
	for i := 1; i <= 8; i++ {
		k := fmt.Sprintf("k%d", i)
		r.accept("contact", contact(k, "Last"+k, k+"@example.com", 60))
	}
	r.drain()
	id := func(k string) string {
		b, err := r.store.Binding(ctx, leads.Name, k)
		if err != nil || b == nil {
			t.Fatalf("binding of %s: %v", k, err)
		}
		return b.SalesforceID
	}
	// k1: someone edits it. k2: deleted. k3: merged into another Lead.
	// k4: converted. k6: purged. k5, k7: untouched. p1 gets a twin (the
	// External ID of the leads is unique, so they cannot).
	// k8: the source changed since (a push is on its way: not drift).
	if _, err := r.api.Update(ctx, "Lead", []salesforce.Record{{"attributes": map[string]any{"type": "Lead"}, "Id": id("k1"), "LastName": "DRIFTED"}}); err != nil {
		t.Fatal(err)
	}
	if res, err := r.api.Delete(ctx, []string{id("k2")}); err != nil || res[0].Err != nil {
		t.Fatalf("delete: %v %+v", err, res)
	}
	master, err := r.emu.Seed("Lead", []map[string]any{{"LastName": "Master", "Company": "M"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.emu.Merge("Lead", master[0], id("k3")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.emu.ConvertLead(id("k4")); err != nil {
		t.Fatal(err)
	}
	if _, err := r.emu.Seed("Contact", []map[string]any{{"LastName": "Twin", "Email": "ONE@example.com"}}); err != nil {
		t.Fatal(err)
	}
	if err := r.emu.Purge(id("k6")); err != nil {
		t.Fatal(err)
	}
	r.accept("contact", contact("k8", "Changed8", "k8@example.com", 60))
	// k9 is in the source but was never queued for this mapping.
	if _, err := r.store.Accept(ctx, nil, []forcesync.Change{{Source: "contact", Key: "k9", Fields: map[string]any{"last_name": "Nine", "score": 70.0}}}); err != nil {
		t.Fatal(err)
	}

	pipes, err := engine.Compile(ctx, r.api, []forcesync.Mapping{leads, people})
	if err != nil {
		t.Fatal(err)
	}
	rc, err := engine.NewReconciler(r.store, r.api, pipes)
	if err != nil {
		t.Fatal(err)
	}
	for _, threshold := range []int{-1, 1} {
		_, fs, err := rc.Reconcile(ctx, people.Name, engine.ReconcileOptions{BulkThreshold: threshold})
		if err != nil || len(fs) != 1 || fs[0].Key != "p1" || fs[0].Kind != forcesync.DriftTwins || !strings.Contains(fs[0].Detail, "2 records") {
			t.Fatalf("people, threshold %d: %+v %v; want p1's twins", threshold, fs, err)
		}
	}
	want := map[string]forcesync.DriftKind{
		"k1/field_changed": forcesync.DriftFieldChanged, "k2/deleted": forcesync.DriftDeleted, "k3/merged": forcesync.DriftMerged,
		"k4/converted": forcesync.DriftConverted, "k6/missing": forcesync.DriftMissing,
		"k9/never_synced": forcesync.DriftNeverSynced,
	}
	for _, threshold := range []int{-1, 1} {
		run, fs, err := rc.Reconcile(ctx, leads.Name, engine.ReconcileOptions{BulkThreshold: threshold})
		if err != nil {
			t.Fatal(err)
		}
		got := driftKinds(fs)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("threshold %d (%s): findings %v; want %v", threshold, run.API, got, want)
		}
		if wantAPI := map[int]string{-1: "query", 1: "bulk"}[threshold]; run.API != wantAPI || run.Checked != 8 {
			t.Errorf("threshold %d: run %+v; want API %s, 8 checked", threshold, run, wantAPI)
		}
		for _, f := range fs {
			switch f.Key {
			case "k1":
				if len(f.Fields) != 1 || f.Fields[0].Field != "LastName" || f.Fields[0].Salesforce != "DRIFTED" || f.Fields[0].Expected != "Lastk1" {
					t.Errorf("k1 finding %+v", f)
				}
			case "k3":
				if !strings.Contains(f.Detail, master[0]) {
					t.Errorf("k3 finding %+v does not name the master %s", f, master[0])
				}
			}
		}
	}

	// The runs are stored with their findings.
	runs, err := r.store.ReconcileRuns(ctx, leads.Name, 0)
	if err != nil || len(runs) != 2 || runs[0].API != "bulk" || runs[0].Counts[forcesync.DriftFieldChanged] != 1 {
		t.Fatalf("stored runs %+v %v", runs, err)
	}
	stored, err := r.store.Findings(ctx, runs[0].ID)
	if err != nil || len(stored) != len(want) {
		t.Fatalf("stored findings %+v %v", stored, err)
	}

	// A heal beyond the mapping's mass-change guard changes nothing and
	// pauses the mapping until it is approved.
	backlog0, _ := r.store.Backlog(ctx, leads.Name)
	calls0 := r.calls()
	_, _, err = rc.Reconcile(ctx, leads.Name, engine.ReconcileOptions{Heal: true})
	if !errors.Is(err, engine.ErrHealPaused) || !strings.Contains(err.Error(), "forcesync approve contacts_to_leads") {
		t.Fatalf("heal beyond the guard: %v", err)
	}
	if n, _ := r.store.Backlog(ctx, leads.Name); n != backlog0 {
		t.Fatalf("a paused heal queued %d records", n-backlog0)
	}
	if b, _ := r.store.Binding(ctx, leads.Name, "k2"); b == nil {
		t.Fatal("a paused heal unbound k2")
	}
	sts, err := r.store.GuardStates(ctx)
	if err != nil || len(sts) != 1 || !sts[0].Paused || sts[0].Limit != 3 {
		t.Fatalf("guard states after the paused heal: %+v %v", sts, err)
	}
	// Still paused: asking again changes nothing either.
	if _, _, err := rc.Reconcile(ctx, leads.Name, engine.ReconcileOptions{Heal: true}); !errors.Is(err, engine.ErrHealPaused) {
		t.Fatalf("heal while paused: %v", err)
	}
	if d := r.calls() - calls0; d > 6 {
		t.Fatalf("two paused heals made %d calls; only their reads were due", d)
	}
	if _, err := engine.Approve(ctx, r.store, leads, time.Now()); err != nil {
		t.Fatal(err)
	}
	// Approved: k1 re-pushed; k2, k3, k6 created again; k9 queued (not
	// healed until it syncs). k4 (converted) needs a Contact mapping of
	// the source, which this config has not.
	run, fs, err := rc.Reconcile(ctx, leads.Name, engine.ReconcileOptions{Heal: true})
	if err != nil {
		t.Fatal(err)
	}
	if run.Healed != 4 || run.Queued != 1 {
		t.Fatalf("healed %d, queued %d; want 4 and 1 (%+v)", run.Healed, run.Queued, fs)
	}
	for _, f := range fs {
		if f.Key == "k4" && (f.Healed || !strings.Contains(f.Detail, "left for a person: no mapping of source contact pushes to Contact")) {
			t.Errorf("k4 finding %+v", f)
		}
	}
	r.drain()
	_, fs, err = rc.Reconcile(ctx, leads.Name, engine.ReconcileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(driftKinds(fs)); got != fmt.Sprint(map[string]forcesync.DriftKind{"k4/converted": forcesync.DriftConverted}) {
		t.Fatalf("after healing: %v", got)
	}
	// Salesforce holds the source's values.
	for _, k := range []string{"k1", "k2", "k3", "k6", "k8", "k9"} {
		recs := r.query("SELECT Id, LastName, Email FROM Lead WHERE Id = '" + id(k) + "'")
		src, _ := r.store.SourceRecord(ctx, "contact", k)
		if len(recs) != 1 || recs[0]["LastName"] != src.Fields["last_name"] || recs[0]["Email"] != src.Fields["email"] {
			t.Errorf("%s in Salesforce %+v; source %v", k, recs, src.Fields)
		}
	}
}

// TestReconcileCallsDoNotGrow checks that reading through Bulk costs the
// same few calls for any number of bound records.
func TestReconcileCallsDoNotGrow(t *testing.T) {
	ctx := context.Background()
	leads := leadByExtID()
	r := newRig(t, engine.Config{BulkThreshold: -1}, leads)
	r.emu.SetFinishBulkJobsAtOnce(true)
	pipes, err := engine.Compile(ctx, r.api, []forcesync.Mapping{leads})
	if err != nil {
		t.Fatal(err)
	}
	rc, _ := engine.NewReconciler(r.store, r.api, pipes)
	// A governor that knows the org's usage and does not look again: the
	// runs' calls are their reads alone.
	gov, err := engine.NewGovernor(ctx, engine.GovernorConfig{Connection: "default", Ledger: r.store, Recheck: 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	gov.ObserveUsage(1, 1_000_000)
	rc.WithGovernor(gov)
	var calls []int
	n := 0
	for _, size := range []int{300, 1200} {
		var cs []forcesync.Change
		for ; n < size; n++ {
			k := fmt.Sprint(n)
			cs = append(cs, contact(k, "L"+k, "e"+k+"@example.com", 60))
		}
		r.accept("contact", cs...)
		r.drain()
		before := r.emu.Stats()
		run, fs, err := rc.Reconcile(ctx, leads.Name, engine.ReconcileOptions{BulkThreshold: 1})
		if err != nil || len(fs) != 0 || run.Checked != size {
			t.Fatalf("%d records: run %+v findings %d err %v", size, run, len(fs), err)
		}
		after := r.emu.Stats()
		var d int64
		for k, v := range after {
			if k != emulator.KindOAuth {
				d += v - before[k]
			}
		}
		if int(d) != run.APICalls {
			t.Errorf("run says %d calls; the emulator counted %d", run.APICalls, d)
		}
		calls = append(calls, run.APICalls)
	}
	if calls[0] != calls[1] || calls[1] > 10 {
		t.Fatalf("calls for 300 and 1200 records: %v; want equal and at most 10", calls)
	}
}

// TestPlanAndReconcileAskTheGovernor: plan and reconcile ask the budget
// governor before reading, in the backfill lane, and are charged what they
// spent. With the org at 85% of its allowance (the realtime lane would
// still run, the reserve is near) both are refused without a read; with
// room again they run and the ledger holds their calls.
func TestPlanAndReconcileAskTheGovernor(t *testing.T) {
	ctx := context.Background()
	leads := leadByExtID()
	r := newRig(t, engine.Config{BulkThreshold: -1}, leads)
	r.accept("contact", contact("k1", "L", "k1@example.com", 60))
	r.drain()
	r.accept("contact", contact("k2", "L2", "k2@example.com", 60)) // pending: something to plan
	pipes, err := engine.Compile(ctx, r.api, []forcesync.Mapping{leads})
	if err != nil {
		t.Fatal(err)
	}
	clock := time.Now()
	var mu sync.Mutex
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	gov, err := engine.NewGovernor(ctx, engine.GovernorConfig{Connection: "edge", Ledger: r.store, Limits: r.api.DailyAPIUsage, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	rc, _ := engine.NewReconciler(r.store, r.api, pipes)
	rc.WithGovernor(gov)
	pl, err := engine.NewPlanner(r.store, r.api, pipes, engine.Config{})
	if err != nil {
		t.Fatal(err)
	}
	pl.WithGovernor(gov)

	r.emu.SetAPIUsage(85_000, 100_000)
	before := r.emu.Stats()
	run, _, err := rc.Reconcile(ctx, leads.Name, engine.ReconcileOptions{})
	// Its one call is the governor's /limits read (it knew no usage yet).
	if !errors.Is(err, engine.ErrBudgetSpent) || run == nil || !strings.Contains(run.Error, "reserve") || run.APICalls > 1 {
		t.Fatalf("reconcile at the edge: %+v %v", run, err)
	}
	if _, err := pl.Plan(ctx, engine.PlanOptions{}); !errors.Is(err, engine.ErrBudgetSpent) {
		t.Fatalf("plan at the edge: %v", err)
	}
	after := r.emu.Stats()
	for _, k := range []emulator.Kind{emulator.KindQuery, emulator.KindBulk, emulator.KindCollections} {
		if after[k] != before[k] {
			t.Fatalf("refused plan and reconcile made %d %s calls", after[k]-before[k], k)
		}
	}
	if !gov.Paused(forcesync.LaneBackfill) || gov.Paused(forcesync.LaneRealtime) {
		t.Fatalf("governor state %+v; want the backfill lane paused, realtime running", gov.State())
	}

	r.emu.SetAPIUsage(1_000, 100_000)
	mu.Lock()
	clock = clock.Add(2 * time.Minute) // the governor reads /limits again
	mu.Unlock()
	own0 := gov.State().Own
	run, _, err = rc.Reconcile(ctx, leads.Name, engine.ReconcileOptions{})
	if err != nil || run.APICalls == 0 {
		t.Fatalf("reconcile with room: %+v %v", run, err)
	}
	p, err := pl.Plan(ctx, engine.PlanOptions{})
	if err != nil || p.Mappings[0].Counts.Create != 1 {
		t.Fatalf("plan with room: %+v %v", p, err)
	}
	if own := gov.State().Own - own0; own < run.APICalls+1 {
		t.Fatalf("the governor was charged %d calls; the reconcile alone made %d, the plan at least one", own, run.APICalls)
	}
	bs, err := r.store.APICalls(ctx, "edge", clock.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	backfill := 0
	for _, b := range bs {
		if b.Lane == forcesync.LaneBackfill {
			backfill += b.Calls
		}
	}
	// The reconcile's calls include the governor's /limits read (2 minutes
	// on, it looked again), which the governor charges itself.
	if backfill < run.APICalls-1+1 {
		t.Fatalf("the ledger holds %d backfill calls; want the reconcile's %d reads and the plan's", backfill, run.APICalls-1)
	}
}

// TestReconcileStoreCallsDoNotGrow checks that reconcile reads the store a
// page of records at a time: 300 or 1,200 bound records, beside records
// never synced (one held, the rest never queued) and one deleted in the
// source with its delete not yet pushed, cost the same store calls to
// compare and to heal, and the findings are the same as ever.
func TestReconcileStoreCallsDoNotGrow(t *testing.T) {
	ctx := context.Background()
	leads := leadByExtID()
	leads.Guard.Off = true
	r := newRig(t, engine.Config{BulkThreshold: -1}, leads)
	r.emu.SetFinishBulkJobsAtOnce(true)
	pipes, err := engine.Compile(ctx, r.api, []forcesync.Mapping{leads})
	if err != nil {
		t.Fatal(err)
	}
	cs := &countingStore{Store: r.store, Inspector: r.store}
	rc, err := engine.NewReconciler(cs, r.api, pipes)
	if err != nil {
		t.Fatal(err)
	}
	r.accept("contact", contact("bad", "Bad", "not-an-email", 60))
	var reads, heals []map[string]int
	n := 0
	for _, size := range []int{300, 1200} {
		var changes []forcesync.Change
		for ; n < size; n++ {
			k := fmt.Sprint(n)
			changes = append(changes, contact(k, "L"+k, "e"+k+"@example.com", 60))
		}
		r.accept("contact", changes...)
		r.drain()
		// Never queued for the mapping: accepted for no mapping.
		var never []forcesync.Change
		for i := range size / 10 {
			k := fmt.Sprintf("never%d-%d", size, i)
			never = append(never, forcesync.Change{Source: "contact", Key: k, Fields: map[string]any{"last_name": k, "score": 70.0}})
		}
		if _, err := r.store.Accept(ctx, nil, never); err != nil {
			t.Fatal(err)
		}
		gone := fmt.Sprint(size - 1)
		r.accept("contact", forcesync.Change{Key: gone, Op: forcesync.OpDelete})

		cs.reset()
		run, fs, err := rc.Reconcile(ctx, leads.Name, engine.ReconcileOptions{})
		if err != nil || run.Checked < size {
			t.Fatalf("%d records: run %+v, err %v", size, run, err)
		}
		reads = append(reads, cs.counts())
		if len(fs) != 1+len(never) {
			t.Fatalf("%d records: %d findings; want %d never synced: %+v", size, len(fs), 1+len(never), fs)
		}
		for _, f := range fs {
			want := "never queued for this mapping"
			if f.Key == "bad" {
				want = "held: INVALID_EMAIL_ADDRESS"
			}
			if f.Kind != forcesync.DriftNeverSynced || f.Detail != want {
				t.Fatalf("%d records: finding %+v; want never synced, %q", size, f, want)
			}
		}

		cs.reset()
		run, _, err = rc.Reconcile(ctx, leads.Name, engine.ReconcileOptions{Heal: true})
		if err != nil || run.Queued != 1+len(never) {
			t.Fatalf("%d records: heal %+v, err %v", size, run, err)
		}
		heals = append(heals, cs.counts())
		if backlog, _ := r.store.Backlog(ctx, leads.Name); backlog != 2+len(never) {
			t.Fatalf("%d records: backlog %d after the heal; want the delete, bad and the %d never queued", size, backlog, len(never))
		}
	}
	t.Logf("store calls for 300 and 1,200 records: reconcile %v, heal %v", reads, heals)
	if fmt.Sprint(reads[0]) != fmt.Sprint(reads[1]) || fmt.Sprint(heals[0]) != fmt.Sprint(heals[1]) {
		t.Fatalf("store calls for 300 and 1,200 records: reconcile %v, heal %v; want the same for both", reads, heals)
	}
}

// countingStore counts the calls reconcile makes to read records and
// statuses and to accept changes.
type countingStore struct {
	forcesync.Store
	forcesync.Inspector
	mu sync.Mutex
	n  map[string]int
}

func (s *countingStore) count(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.n == nil {
		s.n = map[string]int{}
	}
	s.n[name]++
}

func (s *countingStore) reset() { s.mu.Lock(); s.n = nil; s.mu.Unlock() }

func (s *countingStore) counts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for k, v := range s.n {
		out[k] = v
	}
	return out
}

func (s *countingStore) Unwrap() forcesync.Store { return s.Store }

func (s *countingStore) SourceRecord(ctx context.Context, source, key string) (*forcesync.SourceRecord, error) {
	s.count("SourceRecord")
	return s.Store.SourceRecord(ctx, source, key)
}

func (s *countingStore) SourceRecords(ctx context.Context, q forcesync.SourceQuery) ([]forcesync.SourceRecord, error) {
	s.count("SourceRecords")
	return s.Store.SourceRecords(ctx, q)
}

func (s *countingStore) Statuses(ctx context.Context, source, key string) ([]forcesync.RecordStatus, error) {
	s.count("Statuses")
	return s.Store.Statuses(ctx, source, key)
}

func (s *countingStore) Accept(ctx context.Context, mappings []string, changes []forcesync.Change) ([]forcesync.AcceptResult, error) {
	s.count("Accept")
	return s.Store.Accept(ctx, mappings, changes)
}

func (s *countingStore) Bindings(ctx context.Context, mapping, after string, limit int) ([]forcesync.Binding, error) {
	s.count("Bindings")
	return s.Inspector.Bindings(ctx, mapping, after, limit)
}

func (s *countingStore) Settled(ctx context.Context, source string, mappings, keys []string) (map[string]forcesync.Settled, error) {
	s.count("Settled")
	sr, _ := forcesync.StoreAs[forcesync.SettledReader](s.Store)
	return sr.Settled(ctx, source, mappings, keys)
}

// TestReconcileBindingWithoutSourceRecord: a binding whose source record
// the store no longer holds has nothing to compare and is passed over; it
// does not fail the whole reconcile.
func TestReconcileBindingWithoutSourceRecord(t *testing.T) {
	ctx := context.Background()
	leads := leadByExtID()
	r := newRig(t, engine.Config{BulkThreshold: -1}, leads)
	r.accept("contact", contact("a", "Ada", "ada@example.com", 60))
	r.drain()
	id := r.status("contact", "a").SalesforceID
	if err := r.store.Bind(ctx, forcesync.Binding{Mapping: leads.Name, Key: "orphan", SalesforceID: id, Fingerprint: "fp"}); err != nil {
		t.Fatal(err)
	}
	run, fs, err := r.reconciler(leads).Reconcile(ctx, leads.Name, engine.ReconcileOptions{})
	if err != nil {
		t.Fatalf("reconcile: %v", err)
	}
	if run.Checked != 2 {
		t.Fatalf("checked %d, want both bindings", run.Checked)
	}
	for _, f := range fs {
		if f.Key == "orphan" && f.Kind == forcesync.DriftFieldChanged {
			t.Fatalf("finding %+v for a record with no source to compare", f)
		}
	}
	if _, _, err := r.reconciler(leads).Reconcile(ctx, leads.Name, engine.ReconcileOptions{Heal: true}); err != nil {
		t.Fatalf("reconcile with heal: %v", err)
	}
}

// TestReconcileShortIDs: a binding holding a record's 15-character Id is
// found among the records Salesforce answers with 18-character Ids.
func TestReconcileShortIDs(t *testing.T) {
	ctx := context.Background()
	leads := leadByExtID()
	r := newRig(t, engine.Config{BulkThreshold: -1}, leads)
	r.accept("contact", contact("a", "Ada", "ada@example.com", 60))
	r.drain()
	b, err := r.store.Binding(ctx, leads.Name, "a")
	if err != nil || b == nil || len(b.SalesforceID) != 18 {
		t.Fatalf("binding %+v %v", b, err)
	}
	b.SalesforceID = b.SalesforceID[:15]
	if err := r.store.Bind(ctx, *b); err != nil {
		t.Fatal(err)
	}
	_, fs, err := r.reconciler(leads).Reconcile(ctx, leads.Name, engine.ReconcileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 0 {
		t.Fatalf("findings %+v, want none: the short Id is the record's", fs)
	}
}

// TestReconcileTwoWayFieldsAreNotDrift: under a both mapping, a rep's edit
// of a two-way field is a change the next poll brings to the application,
// not drift: reconcile does not report it (so --heal does not claim to
// have pushed the app's value over it), while a push-only field of the
// same mapping edited in Salesforce still is drift.
func TestReconcileTwoWayFieldsAreNotDrift(t *testing.T) {
	ctx := context.Background()
	m := forcesync.Mapping{Name: "leads", Source: "client", Object: "Lead", Direction: forcesync.Both,
		Match: forcesync.MatchRule{Kind: forcesync.MatchExternalID, Field: "Forcesync_Key__c"},
		Fields: []forcesync.FieldRow{
			{Target: "LastName", SourceField: "last"},
			{Target: "Company", SourceField: "company", Direction: forcesync.Push},
			{Target: "Phone", SourceField: "phone"},
			{Target: "Title", SourceField: "title", Direction: forcesync.Pull},
		}}
	r := newRig(t, engine.Config{}, m)
	r.accept("client", forcesync.Change{Key: "k1", Op: forcesync.OpUpsert,
		Fields: map[string]any{"last": "Ada", "company": "ACME", "phone": "555-APP", "title": "CFO"}})
	r.drain()
	b, err := r.store.Binding(ctx, m.Name, "k1")
	if err != nil || b == nil {
		t.Fatalf("binding of k1: %v", err)
	}
	if _, err := r.api.Update(ctx, "Lead", []salesforce.Record{{"attributes": map[string]any{"type": "Lead"}, "Id": b.SalesforceID,
		"Phone": "555-REP", "Title": "CEO", "Company": "Rep Inc"}}); err != nil {
		t.Fatal(err)
	}
	pipes, err := engine.Compile(ctx, r.api, []forcesync.Mapping{m})
	if err != nil {
		t.Fatal(err)
	}
	rc, err := engine.NewReconciler(r.store, r.api, pipes)
	if err != nil {
		t.Fatal(err)
	}
	for _, threshold := range []int{-1, 0} {
		_, fs, err := rc.Reconcile(ctx, m.Name, engine.ReconcileOptions{BulkThreshold: threshold})
		if err != nil {
			t.Fatal(err)
		}
		if len(fs) != 1 || fs[0].Kind != forcesync.DriftFieldChanged || len(fs[0].Fields) != 1 || fs[0].Fields[0].Field != "Company" {
			t.Fatalf("threshold %d: findings %+v; want only Company changed (Phone is two-way, Title pulled)", threshold, fs)
		}
	}
}
