package engine_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/emulator"
	"github.com/forcesync/forcesync/engine"
	"github.com/forcesync/forcesync/salesforce"
	"github.com/forcesync/forcesync/sqlite"
)

type rig struct {
	t     *testing.T
	emu   *emulator.Emulator
	store *sqlite.Store
	api   *engine.SalesforceAPI
	eng   *engine.Engine
}

// newRig starts an emulator on loopback, a client logged in through the
// password grant, a SQLite store in a temp dir and an engine for mappings.
func newRig(t *testing.T, cfg engine.Config, mappings ...forcesync.Mapping) *rig {
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
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "fs.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	eng, err := engine.New(ctx, store, api, mappings, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &rig{t: t, emu: emu, store: store, api: api, eng: eng}
}

func (r *rig) accept(source string, cs ...forcesync.Change) {
	r.t.Helper()
	for i := range cs {
		cs[i].Source = source
	}
	if _, err := r.store.Accept(context.Background(), r.eng.MappingsFor(source), cs); err != nil {
		r.t.Fatal(err)
	}
}

func (r *rig) drain() int {
	r.t.Helper()
	n, err := r.eng.Drain(context.Background())
	if err != nil {
		r.t.Fatalf("drain: %v", err)
	}
	return n
}

// calls returns the API calls the emulator counted, excluding OAuth.
func (r *rig) calls() int64 {
	var n int64
	for k, v := range r.emu.Stats() {
		if k != emulator.KindOAuth {
			n += v
		}
	}
	return n
}

func (r *rig) query(soql string) []salesforce.Record {
	r.t.Helper()
	recs, err := r.api.Client.QueryRecords(context.Background(), soql)
	if err != nil {
		r.t.Fatalf("query %q: %v", soql, err)
	}
	return recs
}

func (r *rig) status(source, key string) forcesync.RecordStatus {
	r.t.Helper()
	sts, err := r.store.Statuses(context.Background(), source, key)
	if err != nil || len(sts) != 1 {
		r.t.Fatalf("statuses %s/%s: %+v %v", source, key, sts, err)
	}
	return sts[0]
}

func leadByExtID() forcesync.Mapping {
	return forcesync.Mapping{
		Name: "contacts_to_leads", Source: "contact", Object: "Lead",
		Match: forcesync.MatchRule{Kind: forcesync.MatchExternalID, Field: "Forcesync_Key__c"},
		Fields: []forcesync.FieldRow{
			{Target: "LastName", SourceField: "last_name", Default: "Undefined"},
			{Target: "FirstName", SourceField: "first_name"},
			{Target: "Email", SourceField: "email"},
			{Target: "Company", FirstOf: []string{"company", "employer", "'Unknown'"}},
		},
		Filter: "score >= 50",
	}
}

func contact(key, last, email string, score float64) forcesync.Change {
	return forcesync.Change{Key: key, Op: forcesync.OpUpsert, Fields: map[string]any{
		"last_name": last, "first_name": "F" + key, "email": email, "score": score}}
}

func TestExternalIDUpsertBatchesAndSkipsNoOps(t *testing.T) {
	r := newRig(t, engine.Config{BulkThreshold: -1}, leadByExtID())
	var cs []forcesync.Change
	for i := 0; i < 450; i++ {
		cs = append(cs, contact(fmt.Sprint(i), "Last"+fmt.Sprint(i), fmt.Sprintf("p%d@example.com", i), 60))
	}
	cs = append(cs, contact("low", "Low", "low@example.com", 10)) // filtered out
	r.accept("contact", cs...)
	before := r.calls()
	r.drain()
	if got := r.calls() - before; got != 3 {
		t.Fatalf("450 upserts took %d calls, want 3 (200 per Collections call)", got)
	}
	leads := r.query("SELECT Id, LastName, Company, Forcesync_Key__c FROM Lead")
	if len(leads) != 450 {
		t.Fatalf("%d leads in Salesforce, want 450", len(leads))
	}
	for _, l := range leads {
		if l["Company"] != "Unknown" || !strings.HasPrefix(l["LastName"].(string), "Last") {
			t.Fatalf("lead %v", l)
		}
	}
	if st := r.status("contact", "low"); st.State != forcesync.StateSkipped {
		t.Fatalf("filtered contact %v, want skipped", st.State)
	}
	st := r.status("contact", "7")
	if st.State != forcesync.StateSynced || st.SalesforceID == "" {
		t.Fatalf("status %+v", st)
	}

	// The same data again: no call at all.
	r.accept("contact", contact("7", "Last7", "p7@example.com", 60))
	before = r.calls()
	r.drain()
	if got := r.calls() - before; got != 0 {
		t.Fatalf("unchanged record cost %d calls", got)
	}
	if runs, _ := r.store.Runs(context.Background(), 1); runs[0].Unchanged != 1 || runs[0].Updated != 0 || runs[0].APICalls != 0 {
		t.Fatalf("no-op run %+v", runs[0])
	}
	// A real edit is re-sent, once, as an update of the same record.
	r.accept("contact", contact("7", "Changed", "p7@example.com", 60))
	before = r.calls()
	r.drain()
	if got := r.calls() - before; got != 1 {
		t.Fatalf("one edit cost %d calls", got)
	}
	got := r.query("SELECT Id, LastName FROM Lead WHERE Forcesync_Key__c = '7'")
	if len(got) != 1 || got[0]["LastName"] != "Changed" || got[0].ID() != st.SalesforceID {
		t.Fatalf("edited lead %v (bound %s)", got, st.SalesforceID)
	}
	runs, _ := r.store.Runs(context.Background(), 10)
	if len(runs) == 0 || runs[0].APICalls != 1 || runs[0].Updated != 1 {
		t.Fatalf("last run %+v", runs[0])
	}
}

func TestMatchByEmailNeverDuplicates(t *testing.T) {
	m := forcesync.Mapping{
		Name: "idp_to_contacts", Source: "idp_user", Object: "Contact",
		Match: forcesync.MatchRule{Kind: forcesync.MatchFields, Fields: []string{"Email"}},
		Fields: []forcesync.FieldRow{
			{Target: "LastName", SourceField: "last"},
			{Target: "Email", SourceField: "email"},
		},
	}
	r := newRig(t, engine.Config{BulkThreshold: -1, MaxBackoff: 1}, m)
	pre, err := r.emu.Seed("Contact", []map[string]any{{"LastName": "Existing", "Email": "known@example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	r.accept("idp_user",
		forcesync.Change{Key: "u1", Fields: map[string]any{"last": "Known", "email": "KNOWN@example.com"}},
		forcesync.Change{Key: "u2", Fields: map[string]any{"last": "New", "email": "new@example.com"}},
		forcesync.Change{Key: "u3", Fields: map[string]any{"last": "Twin", "email": "new@example.com"}},
	)
	// The first create reaches Salesforce but the answer is lost.
	if _, err := r.emu.AddFault(emulator.Fault{Type: emulator.FaultDropAfterCommit, Method: "POST", Path: "/services/data/*/composite/sobjects", Count: 1}); err != nil {
		t.Fatal(err)
	}
	r.drain()
	contacts := r.query("SELECT Id, LastName, Email FROM Contact ORDER BY Email")
	if len(contacts) != 2 {
		t.Fatalf("contacts %v: want exactly the known one and one new", contacts)
	}
	if st := r.status("idp_user", "u1"); st.SalesforceID != pre[0] || st.State != forcesync.StateSynced {
		t.Fatalf("u1 not bound to the existing contact: %+v", st)
	}
	u2, u3 := r.status("idp_user", "u2"), r.status("idp_user", "u3")
	if u2.SalesforceID == "" || u2.SalesforceID != u3.SalesforceID {
		t.Fatalf("records sharing an email bound to different contacts: %+v %+v", u2, u3)
	}
}

func TestPermanentErrorHeldUntilDataChanges(t *testing.T) {
	r := newRig(t, engine.Config{BulkThreshold: -1}, leadByExtID())
	r.accept("contact", contact("bad", "Bad", "not-an-email", 99))
	before := r.calls()
	r.drain()
	st := r.status("contact", "bad")
	if st.State != forcesync.StateHeld || st.Error == nil || st.Error.Code != "INVALID_EMAIL_ADDRESS" {
		t.Fatalf("status %+v", st)
	}
	if got := r.calls() - before; got != 0 {
		t.Fatalf("a locally invalid email spent %d calls", got)
	}
	r.accept("contact", contact("bad", "Bad", "fixed@example.com", 99))
	r.drain()
	if st := r.status("contact", "bad"); st.State != forcesync.StateSynced {
		t.Fatalf("after fix: %+v", st)
	}
}

func TestTransientErrorRetried(t *testing.T) {
	r := newRig(t, engine.Config{BulkThreshold: -1, MaxBackoff: 1}, leadByExtID())
	if _, err := r.emu.AddFault(emulator.Fault{Type: emulator.FaultLockRow, Method: "PATCH", Path: "/services/data/*/composite/sobjects/**", Count: 1}); err != nil {
		t.Fatal(err)
	}
	r.accept("contact", contact("a", "A", "a@example.com", 70))
	// MaxBackoff of 1ns makes the retry due at once, so one drain sees both
	// the failed attempt and the retry.
	r.drain()
	if st := r.status("contact", "a"); st.State != forcesync.StateSynced {
		t.Fatalf("after retry: %+v", st)
	}
	runs, _ := r.store.Runs(context.Background(), 10)
	if len(runs) != 2 || runs[1].Failed != 1 || runs[0].Created != 1 {
		t.Fatalf("runs %+v: want a failed attempt, then the create", runs)
	}
	if n := r.emu.Stats()[emulator.KindCollections]; n != 2 {
		t.Fatalf("%d collections calls, want 2", n)
	}
}

func TestBulkAboveThreshold(t *testing.T) {
	r := newRig(t, engine.Config{BulkThreshold: 100}, leadByExtID())
	r.emu.SetFinishBulkJobsAtOnce(true)
	var cs []forcesync.Change
	for i := 0; i < 300; i++ {
		cs = append(cs, contact(fmt.Sprint(i), "B"+fmt.Sprint(i), fmt.Sprintf("b%d@example.com", i), 80))
	}
	r.accept("contact", cs...)
	r.drain()
	if n := len(r.query("SELECT Id FROM Lead")); n != 300 {
		t.Fatalf("%d leads, want 300", n)
	}
	runs, _ := r.store.Runs(context.Background(), 10)
	if runs[len(runs)-1].API != "bulk" {
		t.Fatalf("first run used %s, want bulk", runs[len(runs)-1].API)
	}
	if r.emu.Stats()[emulator.KindCollections] != 0 {
		t.Fatalf("collections used for a bulk backlog")
	}
	// One job: create, upload, close, one poll, successful results. With no
	// failed record the failed-results file is not fetched.
	if n := r.emu.Stats()[emulator.KindBulk]; n != 5 {
		t.Fatalf("%d Bulk calls for one job without failures, want 5", n)
	}
}

func TestDeleteAndBudget(t *testing.T) {
	m := leadByExtID()
	m.Operations.Delete = forcesync.DeleteDelete
	r := newRig(t, engine.Config{BulkThreshold: -1}, m)
	r.accept("contact", contact("d", "D", "d@example.com", 70))
	r.drain()
	r.accept("contact", forcesync.Change{Key: "d", Op: forcesync.OpDelete})
	r.drain()
	if st := r.status("contact", "d"); st.State != forcesync.StateDeleted {
		t.Fatalf("status %+v", st)
	}
	if n := len(r.query("SELECT Id FROM Lead")); n != 0 {
		t.Fatalf("lead not deleted")
	}
	// Over half the daily allowance used: the governor pauses pushing.
	r.emu.SetAPIUsage(60, 100)
	r.query("SELECT Id FROM Lead") // a call, so the client sees the usage
	r.accept("contact", contact("e", "E", "e@example.com", 70))
	before := r.calls()
	r.drain()
	if got := r.calls() - before; got != 0 {
		t.Fatalf("paused engine spent %d calls", got)
	}
	if r.eng.Paused() == "" {
		t.Fatalf("engine does not say it is paused")
	}
	if st := r.status("contact", "e"); st.State != forcesync.StatePending {
		t.Fatalf("status %+v", st)
	}
}

// TestBindingOnlyCreateAfterCrashIsHeld: a binding-only mapping cannot look
// a record up, so a create interrupted by a crash is held, not repeated,
// until an operator retries it.
func TestBindingOnlyCreateAfterCrashIsHeld(t *testing.T) {
	m := forcesync.Mapping{
		Name: "notes", Source: "note", Object: "Account",
		Match:  forcesync.MatchRule{Kind: forcesync.MatchBinding},
		Fields: []forcesync.FieldRow{{Target: "Name", SourceField: "name"}},
	}
	r := newRig(t, engine.Config{BulkThreshold: -1}, m)
	r.accept("note", forcesync.Change{Key: "n1", Fields: map[string]any{"name": "Acme"}},
		forcesync.Change{Key: "n2", Fields: map[string]any{"name": "Globex"}})
	// As if a previous process recorded its intent for n1, then died.
	if err := r.store.RecordIntents(context.Background(), "notes", []forcesync.Intent{{Key: "n1"}}); err != nil {
		t.Fatal(err)
	}
	r.drain()
	if st := r.status("note", "n1"); st.State != forcesync.StateHeld || st.Error.Code != "CREATE_UNCERTAIN" {
		t.Fatalf("n1 %+v", st)
	}
	if st := r.status("note", "n2"); st.State != forcesync.StateSynced {
		t.Fatalf("n2 %+v", st)
	}
	if n, err := r.store.Requeue(context.Background(), "notes", []string{"n1"}); err != nil || n != 1 {
		t.Fatalf("requeue %d %v", n, err)
	}
	r.drain()
	if st := r.status("note", "n1"); st.State != forcesync.StateSynced {
		t.Fatalf("n1 after retry %+v", st)
	}
	if n := len(r.query("SELECT Id FROM Account")); n != 2 {
		t.Fatalf("%d accounts, want 2", n)
	}
}
