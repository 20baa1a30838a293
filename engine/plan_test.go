package engine_test

import (
	"context"
	"encoding/json"
	"slices"
	"sync"
	"testing"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/emulator"
	"github.com/forcesync/forcesync/engine"
	"github.com/forcesync/forcesync/salesforce"
)

// planRecorder passes calls through and keeps every payload sent.
type planRecorder struct {
	*engine.SalesforceAPI
	mu   sync.Mutex
	sent map[string][]string // mapping object -> canonical JSON payloads
}

func (r *planRecorder) keep(obj string, recs []salesforce.Record) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rec := range recs {
		m := map[string]any{}
		for k, v := range rec {
			if k != "attributes" && k != "Id" {
				m[k] = v
			}
		}
		b, _ := json.Marshal(m)
		r.sent[obj] = append(r.sent[obj], string(b))
	}
}

func (r *planRecorder) Upsert(ctx context.Context, obj, ext string, recs []salesforce.Record) ([]engine.Result, error) {
	r.keep(obj, recs)
	return r.SalesforceAPI.Upsert(ctx, obj, ext, recs)
}

func (r *planRecorder) Create(ctx context.Context, obj string, recs []salesforce.Record) ([]engine.Result, error) {
	r.keep(obj, recs)
	return r.SalesforceAPI.Create(ctx, obj, recs)
}

func (r *planRecorder) Update(ctx context.Context, obj string, recs []salesforce.Record) ([]engine.Result, error) {
	r.keep(obj, recs)
	return r.SalesforceAPI.Update(ctx, obj, recs)
}

func (r *planRecorder) BulkUpsert(ctx context.Context, obj, ext string, fields []string, recs []salesforce.Record) (map[string]engine.Result, error) {
	r.keep(obj, recs)
	return r.SalesforceAPI.BulkUpsert(ctx, obj, ext, fields, recs)
}

func planPeopleByEmail() forcesync.Mapping {
	return forcesync.Mapping{
		Name: "people_to_contacts", Source: "person", Object: "Contact",
		Match: forcesync.MatchRule{Kind: forcesync.MatchFields, Fields: []string{"Email"}},
		Fields: []forcesync.FieldRow{
			{Target: "LastName", SourceField: "last_name"},
			{Target: "Email", SourceField: "email"},
		},
	}
}

func planPerson(key, last, email string) forcesync.Change {
	return forcesync.Change{Key: key, Fields: map[string]any{"last_name": last, "email": email}}
}

// TestPlanEqualsPush plans a mix of creates, updates, no-ops, held records,
// skips, deletes and a twin, then pushes, and checks the push did what the
// plan said: the same counts, the same per-record outcomes, the same
// payloads and the same Collections calls.
func TestPlanEqualsPush(t *testing.T) {
	t.Run("Collections", func(t *testing.T) { testPlanEqualsPush(t, -1) })
	t.Run("Bulk", func(t *testing.T) { testPlanEqualsPush(t, 3) })
}

func testPlanEqualsPush(t *testing.T, bulkThreshold int) {
	ctx := context.Background()
	leads := leadByExtID()
	leads.Operations.Delete = forcesync.DeleteDelete
	cfg := engine.Config{BulkThreshold: bulkThreshold}
	r := newRig(t, engine.Config{BulkThreshold: -1}, leads, planPeopleByEmail())
	r.emu.SetFinishBulkJobsAtOnce(true)
	for _, k := range []string{"k1", "k2", "k3", "k4", "k5"} {
		r.accept("contact", contact(k, "Last"+k, k+"@example.com", 60))
	}
	r.accept("person", planPerson("p1", "One", "one@example.com"))
	r.drain()

	// Someone edits k5 in Salesforce; a Lead with k9's key exists unbound.
	b5, _ := r.store.Binding(ctx, leads.Name, "k5")
	if _, err := r.api.Update(ctx, "Lead", []salesforce.Record{{"attributes": map[string]any{"type": "Lead"}, "Id": b5.SalesforceID, "LastName": "DRIFTED"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.emu.Seed("Lead", []map[string]any{{"LastName": "Old9", "Company": "X", "Forcesync_Key__c": "k9"}}); err != nil {
		t.Fatal(err)
	}
	r.accept("contact",
		contact("k1", "New1", "k1@example.com", 60),         // update
		contact("k2", "Lastk2", "k2@example.com", 60),       // no-op
		forcesync.Change{Key: "k3", Op: forcesync.OpDelete}, // delete
		contact("k4", "Lastk4", "bad", 60),                  // held: INVALID_EMAIL_ADDRESS
		contact("k5", "Lastk5", "five@example.com", 60),     // update, LastName DRIFTED -> Lastk5
		contact("k7", "Seven", "k7@example.com", 60),        // create
		contact("k8", "Eight", "k8@example.com", 60),        // create
		contact("k9", "Nine", "k9@example.com", 60),         // upsert finds the Lead: update
		contact("k10", "Low", "k10@example.com", 10),        // skipped by the filter
	)
	r.accept("person",
		planPerson("p1", "Uno", "one@example.com"),   // update
		planPerson("p3", "Twin", "twin@example.com"), // create
		planPerson("p4", "Twin", "twin@example.com"), // finds p3's twin: update
	)

	pipes, err := engine.Compile(ctx, r.api, []forcesync.Mapping{leads, planPeopleByEmail()})
	if err != nil {
		t.Fatal(err)
	}
	pl, err := engine.NewPlanner(r.store, r.api, pipes, cfg)
	if err != nil {
		t.Fatal(err)
	}
	before := r.emu.Stats()
	plan, err := pl.Plan(ctx, engine.PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	after := r.emu.Stats()
	for _, k := range []emulator.Kind{emulator.KindCollections, emulator.KindBulk, emulator.KindComposite} {
		if after[k] != before[k] {
			t.Fatalf("plan made %d %s calls", after[k]-before[k], k)
		}
	}
	if n, _ := r.store.Backlog(ctx, leads.Name); n != 9 {
		t.Fatalf("backlog after plan %d; want 9 (plan writes nothing)", n)
	}
	lp, pp := plan.Mappings[0], plan.Mappings[1]
	want := engine.PlanCounts{Create: 2, Update: 3, Delete: 1, NoOp: 1, Held: 1, Skipped: 1}
	if lp.Counts != want || lp.Held["INVALID_EMAIL_ADDRESS"] != 1 {
		t.Fatalf("lead plan counts %+v held %v; want %+v", lp.Counts, lp.Held, want)
	}
	if want := (engine.PlanCounts{Create: 1, Update: 2}); pp.Counts != want {
		t.Fatalf("people plan counts %+v; want %+v", pp.Counts, want)
	}
	byKey := map[string]engine.PlannedRecord{}
	for _, m := range plan.Mappings {
		for _, rec := range m.Records {
			byKey[rec.Key] = rec
		}
	}
	k5 := byKey["k5"]
	if k5.Action != engine.ActionUpdate || !slices.ContainsFunc(k5.Changes, func(c engine.FieldChange) bool {
		return c.Field == "LastName" && c.Old == "DRIFTED" && c.New == "Lastk5"
	}) {
		t.Fatalf("k5 plan %+v; want an update of LastName DRIFTED -> Lastk5", k5)
	}
	if k9 := byKey["k9"]; k9.Action != engine.ActionUpdate || !slices.ContainsFunc(k9.Changes, func(c engine.FieldChange) bool {
		return c.Field == "LastName" && c.Old == "Old9" && c.New == "Nine"
	}) {
		t.Fatalf("k9 plan %+v; want an update of the unbound Lead", k9)
	}

	// Now push for real and compare.
	rec := &planRecorder{SalesforceAPI: r.api, sent: map[string][]string{}}
	eng, err := engine.New(ctx, r.store, rec, []forcesync.Mapping{leads, planPeopleByEmail()}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	runs0, _ := r.store.Runs(ctx, 1)
	stats0 := r.emu.Stats()
	if _, err := eng.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	stats1 := r.emu.Stats()
	runs, _ := r.store.Runs(ctx, 100)
	got := map[string]*forcesync.Run{leads.Name: {}, "people_to_contacts": {}}
	for _, run := range runs {
		if len(runs0) > 0 && run.ID <= runs0[0].ID {
			continue
		}
		g := got[run.Mapping]
		g.Created += run.Created
		g.Updated += run.Updated
		g.Unchanged += run.Unchanged
		g.Deleted += run.Deleted
		g.Skipped += run.Skipped
	}
	for _, mp := range plan.Mappings {
		g := got[mp.Mapping]
		if g.Created != mp.Counts.Create || g.Updated != mp.Counts.Update+mp.Counts.Disable || g.Unchanged != mp.Counts.NoOp ||
			g.Deleted != mp.Counts.Delete || g.Skipped != mp.Counts.Skipped {
			t.Errorf("%s: push did created %d updated %d unchanged %d deleted %d skipped %d; plan said %+v",
				mp.Mapping, g.Created, g.Updated, g.Unchanged, g.Deleted, g.Skipped, mp.Counts)
		}
		source := "contact"
		if mp.Object == "Contact" {
			source = "person"
		}
		var planned []string
		for _, pr := range mp.Records {
			st := r.status(source, pr.Key)
			wantState := map[string]forcesync.State{engine.ActionCreate: forcesync.StateSynced, engine.ActionUpdate: forcesync.StateSynced,
				engine.ActionNoOp: forcesync.StateSynced, engine.ActionDelete: forcesync.StateDeleted,
				engine.ActionHeld: forcesync.StateHeld, engine.ActionSkip: forcesync.StateSkipped}[pr.Action]
			if st.State != wantState {
				t.Errorf("%s: planned %s, push left it %s", pr.Key, pr.Action, st.State)
			}
			if pr.SalesforceID != "" && st.SalesforceID != pr.SalesforceID && pr.Action != engine.ActionDelete {
				t.Errorf("%s: planned on %s, pushed to %s", pr.Key, pr.SalesforceID, st.SalesforceID)
			}
			if pr.Payload != nil {
				b, _ := json.Marshal(pr.Payload)
				planned = append(planned, string(b))
			}
		}
		pushed := rec.sent[mp.Object]
		slices.Sort(planned)
		slices.Sort(pushed)
		if !slices.Equal(planned, pushed) {
			t.Errorf("%s payloads:\nplanned %v\npushed  %v", mp.Mapping, planned, pushed)
		}
	}
	var planColl, planQ, planBulk int
	for _, mp := range plan.Mappings {
		planColl += mp.Calls.Collections
		planQ += mp.Calls.Queries
		planBulk += mp.Calls.Bulk
	}
	if bulkThreshold > 0 && (lp.Calls.BulkJobs != 1 || k5.API != "bulk") {
		t.Errorf("lead plan: %d Bulk jobs, k5 by %q; want one job", lp.Calls.BulkJobs, k5.API)
	}
	// With jobs finishing at once, a job costs exactly what the plan says.
	if d := int(stats1[emulator.KindBulk] - stats0[emulator.KindBulk]); d != planBulk {
		t.Errorf("push made %d Bulk calls; plan said %d", d, planBulk)
	}
	if d := int(stats1[emulator.KindCollections] - stats0[emulator.KindCollections]); d != planColl {
		t.Errorf("push made %d Collections calls; plan said %d", d, planColl)
	}
	if d := int(stats1[emulator.KindQuery] - stats0[emulator.KindQuery]); d != planQ {
		t.Errorf("push made %d queries; plan said %d", d, planQ)
	}
}
