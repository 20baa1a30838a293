package engine_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/emulator"
	"github.com/forcesync/forcesync/engine"
	"github.com/forcesync/forcesync/internal/testrig"
	"github.com/forcesync/forcesync/salesforce"
	"github.com/forcesync/forcesync/sqlite"
)

type rig struct {
	*testrig.Rig
	t     testing.TB
	emu   *emulator.Emulator
	store *sqlite.Store
	api   *engine.SalesforceAPI
	url   string // the emulator's base URL (its admin API is under /__emulator/)
}

// newRig starts the shared bench (internal/testrig) for mappings.
func newRig(t testing.TB, cfg engine.Config, mappings ...forcesync.Mapping) *rig {
	t.Helper()
	return wrapRig(testrig.New(t, testrig.Options{Engine: cfg}, mappings...))
}

func wrapRig(tr *testrig.Rig) *rig {
	return &rig{Rig: tr, t: tr.T, emu: tr.Emu, store: tr.Store, api: tr.API, url: tr.URL}
}

func (r *rig) accept(source string, cs ...forcesync.Change) { r.t.Helper(); r.Accept(source, cs...) }

func (r *rig) drain() int { r.t.Helper(); return r.Drain() }

// calls returns the API calls the emulator counted, excluding OAuth.
func (r *rig) calls() int64 { return r.Calls() }

func (r *rig) query(soql string) []salesforce.Record { r.t.Helper(); return r.Query(soql) }

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

// contactsByEmail maps idp_user records to Contacts matched by Email, in
// batches of batch records (0: the default).
func contactsByEmail(batch int) forcesync.Mapping {
	return forcesync.Mapping{
		Name: "idp_to_contacts", Source: "idp_user", Object: "Contact", BatchSize: batch,
		Match: forcesync.MatchRule{Kind: forcesync.MatchFields, Fields: []string{"Email"}},
		Fields: []forcesync.FieldRow{
			{Target: "LastName", SourceField: "last"},
			{Target: "Email", SourceField: "email"},
		},
	}
}

func TestMatchByEmailNeverDuplicates(t *testing.T) {
	m := contactsByEmail(0)
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

// TestMatchByEmailTwinsAcrossWorkers: two records with the same email in
// two batches that two workers push at the same moment. Both look the
// email up while the query is slow; without a guard both would find
// nothing and both would create. One Contact must come out, bound to both.
func TestMatchByEmailTwinsAcrossWorkers(t *testing.T) {
	m := contactsByEmail(1)
	r := newRig(t, engine.Config{BulkThreshold: -1, Workers: 2, Idle: 10 * time.Millisecond}, m)
	if _, err := r.emu.AddFault(emulator.Fault{Type: emulator.FaultLatency, Method: "GET", Path: "/services/data/*/query", Latency: 300 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	r.accept("idp_user",
		forcesync.Change{Key: "a", Fields: map[string]any{"last": "Twin A", "email": "twin@example.com"}},
		forcesync.Change{Key: "b", Fields: map[string]any{"last": "Twin B", "email": "Twin@example.com"}},
	)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.Eng.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	r.waitOneTwin()
}

// TestMatchByEmailTwinsAcrossEngines: the same race between two engines
// sharing one store, as two replicas (or serve and push) would: the hold
// on the email lives in the store, so the second engine waits for the
// first's Contact instead of creating another.
func TestMatchByEmailTwinsAcrossEngines(t *testing.T) {
	m := contactsByEmail(1)
	cfg := engine.Config{BulkThreshold: -1, Workers: 1, Idle: 10 * time.Millisecond}
	r := newRig(t, cfg, m)
	other, err := engine.New(context.Background(), r.store, r.api, []forcesync.Mapping{m}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.emu.AddFault(emulator.Fault{Type: emulator.FaultLatency, Method: "GET", Path: "/services/data/*/query", Latency: 300 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	r.accept("idp_user",
		forcesync.Change{Key: "a", Fields: map[string]any{"last": "Twin A", "email": "twin@example.com"}},
		forcesync.Change{Key: "b", Fields: map[string]any{"last": "Twin B", "email": "TWIN@example.com"}},
	)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, e := range []*engine.Engine{r.Eng, other} {
		wg.Add(1)
		go func() { defer wg.Done(); e.Run(ctx) }()
	}
	defer func() { cancel(); wg.Wait() }()
	r.waitOneTwin()
}

// waitOneTwin waits until twins "a" and "b" are synced, and checks they
// are bound to the one Contact of their email.
func (r *rig) waitOneTwin() {
	t := r.t
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		a, b := r.status("idp_user", "a"), r.status("idp_user", "b")
		if a.State == forcesync.StateSynced && b.State == forcesync.StateSynced {
			if a.SalesforceID == "" || a.SalesforceID != b.SalesforceID {
				t.Fatalf("twins bound to different contacts: %s and %s", a.SalesforceID, b.SalesforceID)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not synced: %+v %+v", a, b)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got := r.query("SELECT Id FROM Contact WHERE Email = 'twin@example.com'"); len(got) != 1 {
		t.Fatalf("%d contacts for one email, want 1", len(got))
	}
}

// TestDrainWaitsForDeferredTwin: Drain runs several workers; a twin one of
// them put off for the other is pushed before Drain returns, so a push from
// the CLI leaves nothing behind.
func TestDrainWaitsForDeferredTwin(t *testing.T) {
	m := contactsByEmail(1)
	r := newRig(t, engine.Config{BulkThreshold: -1, Workers: 2}, m)
	if _, err := r.emu.AddFault(emulator.Fault{Type: emulator.FaultLatency, Method: "GET", Path: "/services/data/*/query", Latency: 200 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	r.accept("idp_user",
		forcesync.Change{Key: "a", Fields: map[string]any{"last": "Twin A", "email": "twin@example.com"}},
		forcesync.Change{Key: "b", Fields: map[string]any{"last": "Twin B", "email": "twin@example.com"}},
	)
	if n := r.drain(); n < 2 {
		t.Fatalf("drained %d records, want both", n)
	}
	a, b := r.status("idp_user", "a"), r.status("idp_user", "b")
	if a.State != forcesync.StateSynced || b.State != forcesync.StateSynced || a.SalesforceID != b.SalesforceID {
		t.Fatalf("after one drain: %+v %+v", a, b)
	}
	if got := r.query("SELECT Id FROM Contact WHERE Email = 'twin@example.com'"); len(got) != 1 {
		t.Fatalf("%d contacts for one email, want 1", len(got))
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

// claimCounter counts the claims an engine makes.
type claimCounter struct {
	forcesync.Store
	claims atomic.Int64
}

func (s *claimCounter) Claim(ctx context.Context, req forcesync.ClaimRequest) ([]forcesync.WorkItem, error) {
	s.claims.Add(1)
	return s.Store.Claim(ctx, req)
}

// TestIdleWorkerWaits: while one worker spends half a second on a slow
// call, the other, woken once and finding nothing, waits for the next
// Notify instead of looking again and again.
func TestIdleWorkerWaits(t *testing.T) {
	r := newRig(t, engine.Config{BulkThreshold: -1}, leadByExtID())
	store := &claimCounter{Store: r.store}
	eng, err := engine.New(context.Background(), store, r.api, []forcesync.Mapping{leadByExtID()},
		engine.Config{BulkThreshold: -1, Workers: 2, Idle: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.emu.AddFault(emulator.Fault{Type: emulator.FaultLatency, Method: "PATCH", Path: "/services/data/**", Latency: 500 * time.Millisecond, Count: 1}); err != nil {
		t.Fatal(err)
	}
	r.accept("contact", contact("slow", "Slow", "slow@example.com", 70))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { eng.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	eng.Notify()
	deadline := time.Now().Add(time.Minute)
	for r.status("contact", "slow").State != forcesync.StateSynced {
		if time.Now().After(deadline) {
			t.Fatal("not synced")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Each worker looks at start, the busy one once more after its batch,
	// and a Notify may add one look each: a handful, not hundreds.
	if n := store.claims.Load(); n > 10 {
		t.Fatalf("%d claims while one record was pushed: an idle worker spun", n)
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
	// The org's usage inside the 10% reserve kept for its other users: the
	// governor pauses pushing.
	r.emu.SetAPIUsage(95, 100)
	r.query("SELECT Id FROM Lead") // a call, so the client sees the usage
	r.accept("contact", contact("e", "E", "e@example.com", 70))
	before := r.calls()
	r.drain()
	if got := r.calls() - before; got != 0 {
		t.Fatalf("paused engine spent %d calls", got)
	}
	if r.Eng.Paused() == "" {
		t.Fatalf("engine does not say it is paused")
	}
	if st := r.status("contact", "e"); st.State != forcesync.StatePending {
		t.Fatalf("status %+v", st)
	}
}

// notesRig pushes a binding-only mapping of notes to Accounts, with two
// notes accepted: n1 (Acme) and n2 (Globex).
func notesRig(t *testing.T) *rig {
	t.Helper()
	m := forcesync.Mapping{
		Name: "notes", Source: "note", Object: "Account",
		Match:  forcesync.MatchRule{Kind: forcesync.MatchBinding},
		Fields: []forcesync.FieldRow{{Target: "Name", SourceField: "name"}},
	}
	r := newRig(t, engine.Config{BulkThreshold: -1}, m)
	r.accept("note", forcesync.Change{Key: "n1", Fields: map[string]any{"name": "Acme"}},
		forcesync.Change{Key: "n2", Fields: map[string]any{"name": "Globex"}})
	return r
}

// TestBindingOnlyCreateAfterCrashIsHeld: a binding-only mapping cannot look
// a record up, so a create interrupted by a crash is held, not repeated,
// until an operator retries it.
func TestBindingOnlyCreateAfterCrashIsHeld(t *testing.T) {
	r := notesRig(t)
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

// A push cut short by its own context (Ctrl-C, shutdown) is not Salesforce's
// verdict: the records are due again at once, not held, and the next drain
// settles them without duplicates.
func TestInterruptedCallRetriedAtOnce(t *testing.T) {
	r := newRig(t, engine.Config{BulkThreshold: -1, Workers: 1}, leadByExtID())
	if _, err := r.emu.AddFault(emulator.Fault{Type: emulator.FaultLatency, Latency: 300 * time.Millisecond,
		Method: "PATCH", Path: "/services/data/*/composite/sobjects/**", Count: 1}); err != nil {
		t.Fatal(err)
	}
	r.accept("contact", contact("a", "A", "a@example.com", 70), contact("b", "B", "b@example.com", 70))
	// Cancel once the Collections call is in flight (the emulator counts it
	// before the fault's latency), not after a fixed time: on a loaded
	// machine a timer could fire before the call starts.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		deadline := time.Now().Add(10 * time.Second)
		for r.emu.Stats()[emulator.KindCollections] == 0 && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		time.Sleep(20 * time.Millisecond) // the request is inside the fault's 300 ms wait
		cancel()
	}()
	if _, err := r.Eng.Drain(ctx); err == nil {
		t.Fatal("drain outlived its context")
	}
	for _, k := range []string{"a", "b"} {
		st := r.status("contact", k)
		if st.State != forcesync.StateRetrying || st.Error == nil || st.Error.Code != "INTERRUPTED" {
			t.Fatalf("%s after the interrupted call: %+v", k, st)
		}
	}
	// Due at once: a drain right away pushes them (the emulator may have
	// applied the first call; the upsert makes that harmless).
	r.drain()
	for _, k := range []string{"a", "b"} {
		if st := r.status("contact", k); st.State != forcesync.StateSynced {
			t.Fatalf("%s after the next drain: %+v", k, st)
		}
	}
	if got := r.query("SELECT Id FROM Lead"); len(got) != 2 {
		t.Fatalf("%d leads, want 2", len(got))
	}
}

// When Salesforce created records but its answer was lost, the retry is an
// upsert built for a create that finds them. The binding must then hold the
// update-time fingerprint, or the same data again costs a needless update.
func TestLostAnswerRetryThenUnchanged(t *testing.T) {
	m := leadByExtID()
	m.Fields = append(m.Fields, forcesync.FieldRow{Target: "LeadSource", Constant: "Web", HasConstant: true, On: forcesync.OnCreate})
	r := newRig(t, engine.Config{BulkThreshold: -1, Workers: 1, MaxBackoff: 1}, m)
	if _, err := r.emu.AddFault(emulator.Fault{Type: emulator.FaultDropAfterCommit,
		Method: "PATCH", Path: "/services/data/*/composite/sobjects/**", Count: 1}); err != nil {
		t.Fatal(err)
	}
	r.accept("contact", contact("a", "A", "a@example.com", 70))
	r.drain()
	st := r.status("contact", "a")
	if st.State != forcesync.StateSynced {
		t.Fatalf("after the retry: %+v", st)
	}
	runs, _ := r.store.Runs(context.Background(), 10)
	if len(runs) != 2 || runs[0].Updated != 1 {
		t.Fatalf("runs %+v: want the lost call, then an upsert that found the lead", runs)
	}
	before := r.calls()
	r.accept("contact", contact("a", "A", "a@example.com", 70))
	r.drain()
	if n := r.calls() - before; n != 0 {
		t.Fatalf("unchanged record cost %d calls after the retry", n)
	}
}

// TestFilterErrorHolds: a record the mapping's filter (or disable_when)
// cannot evaluate is held with FILTER_ERROR (DISABLE_WHEN_ERROR) and the
// expression's own message, not the expression's code repeated in it.
func TestFilterErrorHolds(t *testing.T) {
	for _, tc := range []struct{ code, prefix, disableWhen string }{
		{"FILTER_ERROR", "filter: ", ""},
		{"DISABLE_WHEN_ERROR", "disable_when: ", "level > 3"},
	} {
		t.Run(tc.code, func(t *testing.T) {
			m := leadByExtID()
			if tc.disableWhen != "" {
				m.Filter, m.Operations.DisableWhen = "", tc.disableWhen
			}
			r := newRig(t, engine.Config{Workers: 1, BulkThreshold: -1}, m)
			ok := contact("ok", "Ok", "ok@example.com", 60)
			ok.Fields["level"] = 1
			r.accept("contact", ok,
				forcesync.Change{Key: "bad", Op: forcesync.OpUpsert, Fields: map[string]any{"last_name": "Bad", "score": "high", "level": "x"}})
			r.drain()
			st := r.status("contact", "bad")
			if st.State != forcesync.StateHeld || st.Error == nil || st.Error.Code != tc.code ||
				!strings.HasPrefix(st.Error.Message, tc.prefix) || strings.Contains(st.Error.Message, "EXPRESSION_ERROR") {
				t.Fatalf("bad: %+v; want held %s with the expression's message", st, tc.code)
			}
			if st := r.status("contact", "ok"); st.State != forcesync.StateSynced {
				t.Fatalf("ok: %+v", st)
			}
		})
	}
}

// A bound record deleted in Salesforce (a rep deleted the Account) refuses
// the next update with ENTITY_IS_DELETED: the record is held, and its
// binding to the deleted Id goes with it, so a retry or the application's
// next change creates it again instead of failing on the same Id forever.
// A record purged from the recycle bin answers NOT_FOUND: the same.
func TestUpdateOfARecordDeletedInSalesforce(t *testing.T) {
	r := notesRig(t)
	r.drain()
	first1, first2 := r.status("note", "n1").SalesforceID, r.status("note", "n2").SalesforceID
	if first1 == "" || first2 == "" {
		t.Fatal("not created")
	}
	if err := r.emu.DeleteAs("Account", first1); err != nil {
		t.Fatal(err)
	}
	if err := r.emu.DeleteAs("Account", first2); err != nil {
		t.Fatal(err)
	}
	if err := r.emu.Purge(first2); err != nil {
		t.Fatal(err)
	}
	r.accept("note", forcesync.Change{Key: "n1", Fields: map[string]any{"name": "Acme Inc"}},
		forcesync.Change{Key: "n2", Fields: map[string]any{"name": "Globex Inc"}})
	r.drain()
	for _, k := range []string{"n1", "n2"} {
		st := r.status("note", k)
		if st.State != forcesync.StateHeld || st.Error == nil || st.SalesforceID != "" {
			t.Fatalf("%s after its Account was deleted: %+v", k, st)
		}
		if b, err := r.store.Binding(context.Background(), "notes", k); err != nil || b != nil {
			t.Fatalf("%s still bound to the deleted Account: %+v %v", k, b, err)
		}
	}
	// Retry: created again, bound to the new Account.
	if n, err := r.store.Requeue(context.Background(), "notes", []string{"n1"}); err != nil || n != 1 {
		t.Fatalf("requeue %d %v", n, err)
	}
	r.drain()
	st := r.status("note", "n1")
	if st.State != forcesync.StateSynced || st.SalesforceID == "" || st.SalesforceID == first1 {
		t.Fatalf("n1 after retry: %+v (deleted Id %s)", st, first1)
	}
	if got := r.query("SELECT Name FROM Account WHERE Id = '" + st.SalesforceID + "'"); len(got) != 1 || got[0]["Name"] != "Acme Inc" {
		t.Fatalf("n1's new Account: %v", got)
	}
	// The application's next change does the same for n2.
	r.accept("note", forcesync.Change{Key: "n2", Fields: map[string]any{"name": "Globex Ltd"}})
	r.drain()
	if st := r.status("note", "n2"); st.State != forcesync.StateSynced || st.SalesforceID == "" || st.SalesforceID == first2 {
		t.Fatalf("n2 after its next change: %+v", st)
	}
}
