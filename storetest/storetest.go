// Package storetest is the conformance suite every forcesync.Store must pass.
// A store's own tests call Run with a function that opens a fresh, empty store.
package storetest

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/forcesync/forcesync"
)

// Clock is a settable time source shared by the suite and the store under test.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock starts a clock at a fixed instant.
func NewClock() *Clock { return &Clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// Opener opens a fresh empty store whose clock is clk.Now.
type Opener func(t *testing.T, clk *Clock) forcesync.Store

// Run runs every conformance test against stores made by open.
func Run(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(*testing.T, forcesync.Store, *Clock)
	}{
		{"AcceptAndClaim", testAcceptAndClaim},
		{"StatusesOfRecord", testStatusesOfRecord},
		{"OlderVersionIgnored", testOlderVersionIgnored},
		{"FieldsAsJSON", testFieldsJSON},
		{"Coalesce", testCoalesce},
		{"NewerChangeDuringLease", testNewerChangeDuringLease},
		{"LeaseExclusiveAndExpiry", testLeaseExpiry},
		{"RetryReschedules", testRetry},
		{"HeldAndRequeue", testHeldAndRequeue},
		{"Intents", testIntents},
		{"PriorityFirst", testPriority},
		{"MappingVersion", testMappingVersion},
		{"RunsAndCounts", testRunsAndCounts},
		{"APIUsage", testAPIUsage},
		{"ConcurrentNoLoss", testConcurrentNoLoss},
		{"MatchHolds", testMatchHolds},
		{"SourceRecords", testSourceRecords},
		{"MassGuard", testMassGuard}, // lifecycle: guard.go
		{"Bind", testBind},
		{"KeepBinding", testKeepBinding},     // a promotion's binding outlives a claim that read it before
		{"MappingMemory", testMappingMemory}, // lifecycle: memos.go
		{"PasswordMarks", testPasswordMarks},
		{"Settled", testSettled},             // file push (issue 15)
		{"SettledChunks", testSettledChunks}, // file push re-reads (storetest/settled.go)
		{"RecordPushed", testRecordPushed},   // file push's own Bulk jobs (issue 15)
		{"StageRecords", testStageRecords},   // a job's records written while Salesforce works
		{"RenewLeases", testRenewLeases},     // short leases, renewed in flight (issue 15)
		{"RenewOneLease", testRenewOneLease}, // a lease is one row per claim (storetest/lease.go)
		{"RenewOwnLease", testRenewOwnLease},
		{"RenewLatestClaim", testRenewLatestClaim},
		{"ClaimExpiredLease", testClaimExpiredLease},
		{"RenewAfterTakeover", testRenewAfterTakeover},
		{"Ready", testReady},                 // backfill holds (issue 15)
		{"Sessions", testSessions},           // console sign-in (issue 13)
		{"RecordHistory", testRecordHistory}, // console record page (issue 13): history.go
		{"Admins", testAdmins},               // console admins in the store (storetest/admins.go)
		{"Flows", testFlows},                 // pending OAuth flows (storetest/admins.go)
		// Ledger (issue 9): storetest/ledger.go.
		{"APICallLedger", testAPICallLedger},
		{"BudgetState", testBudgetState},
		{"OldestQueued", testOldestQueued},
		{"BulkJobsInFlight", testBulkJobsInFlight},
		{"FoldedBindings", testFoldedBindings}, // keyfold.go (issue 9, KEY_COLLISION)
		{"LiveSharers", testLiveSharers},       // sharedbinding.go (a record several keys share)
		// Leader leases and replays (issue 10, schedules): storetest/leader.go.
		{"LeaderLeases", testLeaderLeases},
		{"LeaderLeasesConcurrent", testLeaderLeasesConcurrent},
		{"Replay", testReplay},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clk := NewClock()
			s := open(t, clk)
			t.Cleanup(func() { s.Close() })
			tc.fn(t, s, clk)
		})
	}
}

var ctx = context.Background()

func accept(t *testing.T, s forcesync.Store, mappings []string, cs ...forcesync.Change) []forcesync.AcceptResult {
	t.Helper()
	for i := range cs {
		if cs[i].Source == "" {
			cs[i].Source = "contact"
		}
	}
	res, err := s.Accept(ctx, mappings, cs)
	if err != nil {
		t.Fatalf("Accept: %v", err)
	}
	return res
}

func claim(t *testing.T, s forcesync.Store, clk *Clock, mapping, owner string, n int) []forcesync.WorkItem {
	t.Helper()
	items, err := s.Claim(ctx, forcesync.ClaimRequest{Mapping: mapping, Owner: owner, Lease: time.Minute, Limit: n, Now: clk.Now()})
	if err != nil {
		t.Fatalf("Claim: %v", err)
	}
	return items
}

func complete(t *testing.T, s forcesync.Store, owner string, outs ...forcesync.Outcome) {
	t.Helper()
	if err := s.Complete(ctx, owner, outs, nil); err != nil {
		t.Fatalf("Complete: %v", err)
	}
}

func keys(items []forcesync.WorkItem) []string {
	var ks []string
	for _, it := range items {
		ks = append(ks, it.Key)
	}
	sort.Strings(ks)
	return ks
}

func status(t *testing.T, s forcesync.Store, key, mapping string) forcesync.RecordStatus {
	t.Helper()
	sts, err := s.Statuses(ctx, "contact", key)
	if err != nil {
		t.Fatalf("Statuses: %v", err)
	}
	for _, st := range sts {
		if st.Mapping == mapping {
			return st
		}
	}
	t.Fatalf("no status for %s under %s (have %v)", key, mapping, sts)
	return forcesync.RecordStatus{}
}

func testAcceptAndClaim(t *testing.T, s forcesync.Store, clk *Clock) {
	accept(t, s, []string{"m1", "m2"},
		forcesync.Change{Key: "a", Op: forcesync.OpUpsert, Fields: map[string]any{"email": "a@x.com", "score": 60.0}},
		forcesync.Change{Key: "b", Op: forcesync.OpUpsert, Fields: map[string]any{"email": "b@x.com"}})
	items := claim(t, s, clk, "m1", "w1", 10)
	if got := keys(items); fmt.Sprint(got) != "[a b]" {
		t.Fatalf("claimed %v, want [a b]", got)
	}
	for _, it := range items {
		if it.Op != forcesync.OpUpsert || it.Fields["email"] == nil || it.Version != 1 || it.Binding != nil {
			t.Fatalf("item %+v", it)
		}
	}
	// Each mapping has its own work.
	if got := keys(claim(t, s, clk, "m2", "w1", 10)); fmt.Sprint(got) != "[a b]" {
		t.Fatalf("m2 claimed %v", got)
	}
	if st := status(t, s, "a", "m1"); st.State != forcesync.StatePending {
		t.Fatalf("status %v, want pending", st.State)
	}
	complete(t, s, "w1", forcesync.Outcome{Item: items[0], State: forcesync.StateSynced, SalesforceID: "00Q000000000001AAA", Fingerprint: "fp1"})
	b, err := s.Binding(ctx, "m1", items[0].Key)
	if err != nil || b == nil || b.SalesforceID != "00Q000000000001AAA" || b.Fingerprint != "fp1" {
		t.Fatalf("binding %+v, %v", b, err)
	}
	if n, _ := s.Backlog(ctx, "m1"); n != 1 {
		t.Fatalf("backlog %d, want 1", n)
	}
	st := status(t, s, items[0].Key, "m1")
	if st.State != forcesync.StateSynced || st.SalesforceID != "00Q000000000001AAA" {
		t.Fatalf("status %+v", st)
	}
	rec, err := s.SourceRecord(ctx, "contact", "a")
	if err != nil || rec.Fields["email"] != "a@x.com" || rec.Fields["score"] != 60.0 {
		t.Fatalf("source record %+v %v", rec, err)
	}
	if _, err := s.SourceRecord(ctx, "contact", "zzz"); forcesync.ErrorCode(err) != forcesync.ENotFound {
		t.Fatalf("missing record error %v", err)
	}
	// A new change re-queues with the binding attached.
	accept(t, s, []string{"m1"}, forcesync.Change{Key: items[0].Key, Fields: map[string]any{"email": "new@x.com"}})
	again := claim(t, s, clk, "m1", "w1", 10)
	var found bool
	for _, it := range again {
		if it.Key == items[0].Key {
			found = true
			if it.Binding == nil || it.Binding.SalesforceID != "00Q000000000001AAA" || it.Fields["email"] != "new@x.com" || it.Version != 2 {
				t.Fatalf("re-queued item %+v", it)
			}
		}
	}
	if !found {
		t.Fatalf("changed record not re-queued")
	}
}

// testStatusesOfRecord checks Statuses: one status per mapping of the
// record's source, in mapping order, none of another source's record with
// the same key (a mapping has one source), and none of a key that differs
// only in case.
func testStatusesOfRecord(t *testing.T, s forcesync.Store, clk *Clock) {
	accept(t, s, []string{"m3", "m1", "m2"}, forcesync.Change{Key: "k", Fields: map[string]any{"n": "contact"}})
	accept(t, s, []string{"m5", "m0"}, forcesync.Change{Source: "lead", Key: "k", Fields: map[string]any{"n": "lead"}})
	accept(t, s, []string{"m1", "m4"}, forcesync.Change{Key: "K", Fields: map[string]any{"n": "other"}},
		forcesync.Change{Key: "j", Fields: map[string]any{"n": "other"}})
	got := func(source, key string) []string {
		t.Helper()
		sts, err := s.Statuses(ctx, source, key)
		if err != nil {
			t.Fatalf("Statuses(%s, %s): %v", source, key, err)
		}
		var out []string
		for _, st := range sts {
			if st.Source != source || st.Key != key {
				t.Fatalf("Statuses(%s, %s) returned %s/%s", source, key, st.Source, st.Key)
			}
			out = append(out, st.Mapping)
		}
		return out
	}
	for _, c := range []struct {
		source, key string
		want        []string
	}{
		{"contact", "k", []string{"m1", "m2", "m3"}},
		{"lead", "k", []string{"m0", "m5"}},
		{"contact", "K", []string{"m1", "m4"}},
		{"contact", "x", nil},
		{"nobody", "k", nil},
	} {
		if g := got(c.source, c.key); !slices.Equal(g, c.want) {
			t.Errorf("Statuses(%s, %s) mappings = %v, want %v", c.source, c.key, g, c.want)
		}
	}
}

func testOlderVersionIgnored(t *testing.T, s forcesync.Store, clk *Clock) {
	res := accept(t, s, []string{"m"}, forcesync.Change{Key: "k", Version: 10, Fields: map[string]any{"n": "ten"}})
	if res[0].Ignored || res[0].Version != 10 {
		t.Fatalf("first %+v", res[0])
	}
	res = accept(t, s, []string{"m"}, forcesync.Change{Key: "k", Version: 5, Fields: map[string]any{"n": "five"}},
		forcesync.Change{Key: "k", Version: 10, Fields: map[string]any{"n": "ten again"}})
	if !res[0].Ignored || !res[1].Ignored {
		t.Fatalf("older and equal versions must be ignored: %+v", res)
	}
	rec, _ := s.SourceRecord(ctx, "contact", "k")
	if rec.Fields["n"] != "ten" || rec.Version != 10 {
		t.Fatalf("record %+v", rec)
	}
	res = accept(t, s, []string{"m"}, forcesync.Change{Key: "k", Fields: map[string]any{"n": "auto"}})
	if res[0].Ignored || res[0].Version != 11 {
		t.Fatalf("unversioned change must follow the stored version: %+v", res[0])
	}
}

// testFieldsJSON: fields handed over already encoded read back like
// fields handed over as a map; encoded fields that are not a JSON object
// are refused.
func testFieldsJSON(t *testing.T, s forcesync.Store, clk *Clock) {
	accept(t, s, []string{"m"}, forcesync.Change{Key: "j", FieldsJSON: []byte(`{"name":"Ada","score":61,"tags":["a"]}`)})
	items := claim(t, s, clk, "m", "w", 10)
	if len(items) != 1 || items[0].Fields["name"] != "Ada" || items[0].Fields["score"] != 61.0 {
		t.Fatalf("claimed %+v", items)
	}
	rec, err := s.SourceRecord(ctx, "contact", "j")
	if err != nil || rec.Fields["name"] != "Ada" {
		t.Fatalf("record %+v, %v", rec, err)
	}
	for _, bad := range []string{`[1]`, `{"a":`, `"x"`} {
		_, err := s.Accept(ctx, []string{"m"}, []forcesync.Change{{Source: "contact", Key: "bad", FieldsJSON: []byte(bad)}})
		if forcesync.ErrorCode(err) != forcesync.EInvalid {
			t.Fatalf("fields %s: got %v, want an invalid-input error", bad, err)
		}
	}
}

func testCoalesce(t *testing.T, s forcesync.Store, clk *Clock) {
	for i := 1; i <= 5; i++ {
		accept(t, s, []string{"m"}, forcesync.Change{Key: "k", Version: int64(i), Fields: map[string]any{"i": float64(i)}})
	}
	items := claim(t, s, clk, "m", "w", 10)
	if len(items) != 1 || items[0].Fields["i"] != 5.0 || items[0].Version != 5 {
		t.Fatalf("coalesced items %+v", items)
	}
	// Several changes to one key in one call coalesce the same way.
	res := accept(t, s, []string{"m"},
		forcesync.Change{Key: "same", Version: 1, Fields: map[string]any{"v": "a"}},
		forcesync.Change{Key: "same", Version: 2, Fields: map[string]any{"v": "b"}, Priority: forcesync.PriorityBackfill},
		forcesync.Change{Key: "same", Version: 1, Fields: map[string]any{"v": "c"}},
		forcesync.Change{Key: "same", Fields: map[string]any{"v": "d"}, Priority: forcesync.PriorityBackfill})
	if res[0].Ignored || res[1].Ignored || !res[2].Ignored || res[2].Version != 2 || res[3].Version != 3 {
		t.Fatalf("one-call coalescing results %+v", res)
	}
	if rec, _ := s.SourceRecord(ctx, "contact", "same"); rec.Fields["v"] != "d" || rec.Version != 3 {
		t.Fatalf("record %+v", rec)
	}
	clk.Advance(2 * time.Minute)
	got := claim(t, s, clk, "m", "w", 10)
	var same []forcesync.WorkItem
	for _, it := range got {
		if it.Key == "same" {
			same = append(same, it)
		}
	}
	if len(same) != 1 || same[0].Fields["v"] != "d" || same[0].Priority != forcesync.PriorityRealtime {
		t.Fatalf("claimed %+v: want one item with the newest data at the most urgent priority", same)
	}
	accept(t, s, []string{"m"}, forcesync.Change{Key: "d", Op: forcesync.OpDelete})
	clk.Advance(2 * time.Minute)
	items = claim(t, s, clk, "m", "w", 10)
	var del bool
	for _, it := range items {
		if it.Key == "d" && it.Op == forcesync.OpDelete {
			del = true
		}
	}
	if !del {
		t.Fatalf("delete not queued: %+v", items)
	}
}

func testNewerChangeDuringLease(t *testing.T, s forcesync.Store, clk *Clock) {
	accept(t, s, []string{"m"}, forcesync.Change{Key: "k", Fields: map[string]any{"v": "old"}})
	items := claim(t, s, clk, "m", "w", 10)
	accept(t, s, []string{"m"}, forcesync.Change{Key: "k", Fields: map[string]any{"v": "new"}})
	// Leased: not claimable by others until released.
	if got := claim(t, s, clk, "m", "other", 10); len(got) != 0 {
		t.Fatalf("leased row claimed again: %+v", got)
	}
	complete(t, s, "w", forcesync.Outcome{Item: items[0], State: forcesync.StateSynced, SalesforceID: "003000000000001AAA", Fingerprint: "old"})
	if st := status(t, s, "k", "m"); st.State != forcesync.StatePending {
		t.Fatalf("status %v: a newer change is waiting, want pending", st.State)
	}
	again := claim(t, s, clk, "m", "w", 10)
	if len(again) != 1 || again[0].Fields["v"] != "new" || again[0].Binding == nil {
		t.Fatalf("newer change lost: %+v", again)
	}
}

func testLeaseExpiry(t *testing.T, s forcesync.Store, clk *Clock) {
	accept(t, s, []string{"m"}, forcesync.Change{Key: "k", Fields: map[string]any{}})
	first := claim(t, s, clk, "m", "dead", 10)
	if len(first) != 1 {
		t.Fatalf("claim %+v", first)
	}
	if got := claim(t, s, clk, "m", "w2", 10); len(got) != 0 {
		t.Fatalf("double claim %+v", got)
	}
	clk.Advance(61 * time.Second)
	second := claim(t, s, clk, "m", "w2", 10)
	if len(second) != 1 {
		t.Fatalf("expired lease not reclaimed: %+v", second)
	}
	// The dead owner's late outcome does not override the live owner's lease.
	complete(t, s, "dead", forcesync.Outcome{Item: first[0], State: forcesync.StateSynced, SalesforceID: "003000000000009AAA"})
	if b, _ := s.Binding(ctx, "m", "k"); b != nil {
		t.Fatalf("stale owner wrote a binding: %+v", b)
	}
	complete(t, s, "w2", forcesync.Outcome{Item: second[0], State: forcesync.StateSynced, SalesforceID: "003000000000002AAA"})
	if n, _ := s.Backlog(ctx, "m"); n != 0 {
		t.Fatalf("backlog %d", n)
	}
}

func testRetry(t *testing.T, s forcesync.Store, clk *Clock) {
	accept(t, s, []string{"m"}, forcesync.Change{Key: "k", Fields: map[string]any{}})
	items := claim(t, s, clk, "m", "w", 10)
	next := clk.Now().Add(30 * time.Second)
	complete(t, s, "w", forcesync.Outcome{Item: items[0], State: forcesync.StateRetrying, NextAttempt: next,
		Error: &forcesync.RecordError{Code: "UNABLE_TO_LOCK_ROW", Message: "unable to obtain exclusive access"}})
	st := status(t, s, "k", "m")
	if st.State != forcesync.StateRetrying || st.Error == nil || st.Error.Code != "UNABLE_TO_LOCK_ROW" || st.Attempts != 1 {
		t.Fatalf("status %+v", st)
	}
	if got := claim(t, s, clk, "m", "w", 10); len(got) != 0 {
		t.Fatalf("claimed before its next attempt: %+v", got)
	}
	clk.Advance(31 * time.Second)
	got := claim(t, s, clk, "m", "w", 10)
	if len(got) != 1 || got[0].Attempts != 1 {
		t.Fatalf("retry claim %+v", got)
	}
}

func testHeldAndRequeue(t *testing.T, s forcesync.Store, clk *Clock) {
	accept(t, s, []string{"m"}, forcesync.Change{Key: "k", Fields: map[string]any{"email": "bad"}})
	items := claim(t, s, clk, "m", "w", 10)
	complete(t, s, "w", forcesync.Outcome{Item: items[0], State: forcesync.StateHeld, Fingerprint: "fpbad",
		Error: &forcesync.RecordError{Code: "INVALID_EMAIL_ADDRESS", Message: "Email: invalid email address: bad", Fields: []string{"Email"}}})
	st := status(t, s, "k", "m")
	if st.State != forcesync.StateHeld || st.Error.Fields[0] != "Email" {
		t.Fatalf("status %+v", st)
	}
	if n, _ := s.Backlog(ctx, "m"); n != 0 {
		t.Fatalf("held record still queued")
	}
	fails, err := s.List(ctx, forcesync.StatusFilter{Mapping: "m", States: []forcesync.State{forcesync.StateHeld}})
	if err != nil || len(fails) != 1 || fails[0].Key != "k" {
		t.Fatalf("List held %+v %v", fails, err)
	}
	// The same data again carries the held fingerprint so the engine keeps it held.
	accept(t, s, []string{"m"}, forcesync.Change{Key: "k", Fields: map[string]any{"email": "bad"}})
	again := claim(t, s, clk, "m", "w", 10)
	if len(again) != 1 || again[0].HeldFingerprint != "fpbad" || again[0].Forced {
		t.Fatalf("re-sent held item %+v", again)
	}
	complete(t, s, "w", forcesync.Outcome{Item: again[0], State: forcesync.StateHeld, Fingerprint: "fpbad", Error: st.Error})
	n, err := s.Requeue(ctx, "m", nil)
	if err != nil || n != 1 {
		t.Fatalf("Requeue %d %v", n, err)
	}
	forced := claim(t, s, clk, "m", "w", 10)
	if len(forced) != 1 || !forced[0].Forced {
		t.Fatalf("requeued item %+v", forced)
	}
	if n, err := s.Requeue(ctx, "m", []string{"k", "unknown"}); err != nil || n != 1 {
		t.Fatalf("Requeue keys %d %v", n, err)
	}
}

func testIntents(t *testing.T, s forcesync.Store, clk *Clock) {
	accept(t, s, []string{"m"}, forcesync.Change{Key: "k", Fields: map[string]any{"email": "a@x.com"}})
	items := claim(t, s, clk, "m", "w", 10)
	if items[0].Intent != nil {
		t.Fatalf("intent before recording")
	}
	if err := s.RecordIntents(ctx, "m", []forcesync.Intent{{Key: "k", Match: map[string]string{"Email": "a@x.com"}}}); err != nil {
		t.Fatal(err)
	}
	// Crash: the lease expires, the item comes back with its intent.
	clk.Advance(2 * time.Minute)
	again := claim(t, s, clk, "m", "w2", 10)
	if len(again) != 1 || again[0].Intent == nil || again[0].Intent.Match["Email"] != "a@x.com" {
		t.Fatalf("intent lost: %+v", again)
	}
	complete(t, s, "w2", forcesync.Outcome{Item: again[0], State: forcesync.StateSynced, SalesforceID: "00Q000000000003AAA"})
	accept(t, s, []string{"m"}, forcesync.Change{Key: "k", Fields: map[string]any{"email": "b@x.com"}})
	third := claim(t, s, clk, "m", "w2", 10)
	if len(third) != 1 || third[0].Intent != nil {
		t.Fatalf("intent not cleared: %+v", third)
	}
}

func testPriority(t *testing.T, s forcesync.Store, clk *Clock) {
	for i := 0; i < 5; i++ {
		accept(t, s, []string{"m"}, forcesync.Change{Key: fmt.Sprintf("bulk%d", i), Priority: forcesync.PriorityBackfill, Fields: map[string]any{}})
	}
	clk.Advance(time.Second)
	accept(t, s, []string{"m"}, forcesync.Change{Key: "rt", Priority: forcesync.PriorityRealtime, Fields: map[string]any{}})
	items := claim(t, s, clk, "m", "w", 2)
	if len(items) != 2 || items[0].Key != "rt" {
		t.Fatalf("realtime not first: %v", keys(items))
	}
}

func testMappingVersion(t *testing.T, s forcesync.Store, clk *Clock) {
	for i, tc := range []struct {
		fp   string
		want bool
	}{{"a", false}, {"a", false}, {"b", true}, {"b", false}} {
		got, err := s.MappingVersion(ctx, "m", tc.fp)
		if err != nil || got != tc.want {
			t.Fatalf("step %d: changed=%v err=%v, want %v", i, got, err, tc.want)
		}
	}
}

func testRunsAndCounts(t *testing.T, s forcesync.Store, clk *Clock) {
	accept(t, s, []string{"m"}, forcesync.Change{Key: "a", Fields: map[string]any{}}, forcesync.Change{Key: "b", Fields: map[string]any{}},
		forcesync.Change{Key: "c", Fields: map[string]any{}})
	items := claim(t, s, clk, "m", "w", 10)
	run := &forcesync.Run{Mapping: "m", API: "collections", Started: clk.Now(), Finished: clk.Now(), Records: 3, Created: 1, Unchanged: 2, Failed: 1, Skipped: 1, APICalls: 1}
	err := s.Complete(ctx, "w", []forcesync.Outcome{
		{Item: items[0], State: forcesync.StateSynced, SalesforceID: "00Q000000000001AAA"},
		{Item: items[1], State: forcesync.StateHeld, Error: &forcesync.RecordError{Code: "X", Message: "y"}},
		{Item: items[2], State: forcesync.StateSkipped},
	}, run)
	if err != nil {
		t.Fatal(err)
	}
	if run.ID == 0 {
		t.Fatalf("run id not set")
	}
	runs, err := s.Runs(ctx, 10)
	if err != nil || len(runs) != 1 || runs[0].Created != 1 || runs[0].Unchanged != 2 || runs[0].APICalls != 1 || runs[0].API != "collections" {
		t.Fatalf("runs %+v %v", runs, err)
	}
	counts, err := s.Counts(ctx, "m")
	if err != nil || counts[forcesync.StateSynced] != 1 || counts[forcesync.StateHeld] != 1 || counts[forcesync.StateSkipped] != 1 {
		t.Fatalf("counts %v %v", counts, err)
	}
}

func testAPIUsage(t *testing.T, s forcesync.Store, clk *Clock) {
	u, err := s.APIUsage(ctx, "org")
	if err != nil || u.Used != 0 || u.Max != 0 {
		t.Fatalf("empty usage %+v %v", u, err)
	}
	if err := s.RecordAPIUsage(ctx, forcesync.APIUsage{Connection: "org", Used: 10, Max: 1000, Calls: map[string]int{"collections": 2}}); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordAPIUsage(ctx, forcesync.APIUsage{Connection: "org", Used: 12, Max: 1000, Calls: map[string]int{"collections": 1, "query": 1}}); err != nil {
		t.Fatal(err)
	}
	u, _ = s.APIUsage(ctx, "org")
	if u.Used != 12 || u.Max != 1000 || u.Calls["collections"] != 3 || u.Calls["query"] != 1 {
		t.Fatalf("usage %+v", u)
	}
	clk.Advance(25 * time.Hour)
	u, _ = s.APIUsage(ctx, "org")
	if len(u.Calls) != 0 {
		t.Fatalf("yesterday's calls counted today: %+v", u)
	}
}

// testConcurrentNoLoss accepts changes from several goroutines while workers
// claim and complete; every key must end synced with its newest version.
func testConcurrentNoLoss(t *testing.T, s forcesync.Store, clk *Clock) {
	const writers, perWriter = 4, 50
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < perWriter; i++ {
				k := fmt.Sprintf("k%d", i%20)
				if _, err := s.Accept(ctx, []string{"m"}, []forcesync.Change{{Source: "contact", Key: k, Fields: map[string]any{"w": float64(w), "i": float64(i)}}}); err != nil {
					t.Errorf("accept: %v", err)
					return
				}
			}
		}(w)
	}
	done := make(chan struct{})
	var workers sync.WaitGroup
	for w := 0; w < 2; w++ {
		workers.Add(1)
		go func(w int) {
			defer workers.Done()
			owner := fmt.Sprintf("w%d", w)
			for {
				items, err := s.Claim(ctx, forcesync.ClaimRequest{Mapping: "m", Owner: owner, Lease: time.Hour, Limit: 7, Now: clk.Now()})
				if err != nil {
					t.Errorf("claim: %v", err)
					return
				}
				var outs []forcesync.Outcome
				for _, it := range items {
					outs = append(outs, forcesync.Outcome{Item: it, State: forcesync.StateSynced, SalesforceID: "003000000000001AAA"})
				}
				if len(outs) > 0 {
					if err := s.Complete(ctx, owner, outs, nil); err != nil {
						t.Errorf("complete: %v", err)
						return
					}
				}
				select {
				case <-done:
					if len(items) == 0 {
						return
					}
				default:
				}
			}
		}(w)
	}
	wg.Wait()
	close(done)
	workers.Wait()
	if n, _ := s.Backlog(ctx, "m"); n != 0 {
		t.Fatalf("backlog %d after drain", n)
	}
	for i := 0; i < 20; i++ {
		k := fmt.Sprintf("k%d", i)
		st := status(t, s, k, "m")
		rec, _ := s.SourceRecord(ctx, "contact", k)
		if st.State != forcesync.StateSynced || st.Version != rec.Version {
			t.Fatalf("%s: status %+v, record version %d", k, st, rec.Version)
		}
	}
}

// testMatchHolds: a value is held by one owner at a time until released or
// run out; an owner renews its own holds; mappings do not share holds.
func testMatchHolds(t *testing.T, s forcesync.Store, clk *Clock) {
	hold := func(owner string, values ...string) []string {
		t.Helper()
		got, err := s.HoldMatches(ctx, "m", owner, values, clk.Now(), clk.Now().Add(time.Minute))
		if err != nil {
			t.Fatalf("hold %s %v: %v", owner, values, err)
		}
		sort.Strings(got)
		return got
	}
	if got := hold("a", "x@example.com", "y@example.com", "x@example.com"); fmt.Sprint(got) != "[x@example.com y@example.com]" {
		t.Fatalf("a holds %v", got)
	}
	if got := hold("b", "y@example.com", "z@example.com"); fmt.Sprint(got) != "[z@example.com]" {
		t.Fatalf("b got %v: y is a's", got)
	}
	if got := hold("a", "y@example.com"); fmt.Sprint(got) != "[y@example.com]" {
		t.Fatalf("a could not renew its own hold: %v", got)
	}
	other, err := s.HoldMatches(ctx, "other", "b", []string{"y@example.com"}, clk.Now(), clk.Now().Add(time.Minute))
	if err != nil || len(other) != 1 {
		t.Fatalf("another mapping's value: %v %v", other, err)
	}
	if err := s.ReleaseMatches(ctx, "m", "b", []string{"y@example.com"}); err != nil {
		t.Fatal(err)
	}
	if got := hold("b", "y@example.com"); len(got) != 0 {
		t.Fatalf("b released a hold it did not own: now holds %v", got)
	}
	if err := s.ReleaseMatches(ctx, "m", "a", []string{"y@example.com"}); err != nil {
		t.Fatal(err)
	}
	if got := hold("b", "y@example.com"); fmt.Sprint(got) != "[y@example.com]" {
		t.Fatalf("after a's release b got %v", got)
	}
	// a dies holding x: once its hold runs out, c takes it.
	if got := hold("c", "x@example.com"); len(got) != 0 {
		t.Fatalf("c took a live hold: %v", got)
	}
	clk.Advance(time.Minute)
	if got := hold("c", "x@example.com"); fmt.Sprint(got) != "[x@example.com]" {
		t.Fatalf("c could not take a run-out hold: %v", got)
	}
	if got, err := s.HoldMatches(ctx, "m", "c", nil, clk.Now(), clk.Now()); err != nil || len(got) != 0 {
		t.Fatalf("no values: %v %v", got, err)
	}
}

// testSourceRecords: live records of one source in key order, pages (by
// offset and after a key), case-insensitive lookups by a top-level field,
// and counts.
func testSourceRecords(t *testing.T, s forcesync.Store, clk *Clock) {
	var cs []forcesync.Change
	for i := range 5 {
		cs = append(cs, forcesync.Change{Source: "idp", Key: fmt.Sprintf("u%d", i),
			Fields: map[string]any{"userName": fmt.Sprintf("User%d@Example.com", i), "n": float64(i)}})
	}
	cs = append(cs, forcesync.Change{Source: "other", Key: "u9", Fields: map[string]any{"userName": "user1@example.com"}})
	accept(t, s, []string{"m"}, cs...)
	accept(t, s, []string{"m"}, forcesync.Change{Source: "idp", Key: "u3", Op: forcesync.OpDelete, Fields: map[string]any{"userName": "user3@example.com"}})
	keysOf := func(q forcesync.SourceQuery) string {
		t.Helper()
		recs, err := s.SourceRecords(ctx, q)
		if err != nil {
			t.Fatalf("source records %+v: %v", q, err)
		}
		var ks []string
		for _, r := range recs {
			if r.Source != q.Source || r.Fields["userName"] == nil || r.Version < 1 {
				t.Fatalf("record %+v", r)
			}
			ks = append(ks, r.Key)
		}
		return fmt.Sprint(ks)
	}
	if got := keysOf(forcesync.SourceQuery{Source: "idp"}); got != "[u0 u1 u2 u4]" {
		t.Fatalf("live records %s (deleted u3 and the other source left out)", got)
	}
	if got := keysOf(forcesync.SourceQuery{Source: "idp", Offset: 1, Limit: 2}); got != "[u1 u2]" {
		t.Fatalf("page %s", got)
	}
	// Paging by the last key seen: the deleted u3 is passed over, and a
	// key that is not stored pages from where it would sort.
	if got := keysOf(forcesync.SourceQuery{Source: "idp", After: "u1", Limit: 2}); got != "[u2 u4]" {
		t.Fatalf("page after u1: %s", got)
	}
	if got := keysOf(forcesync.SourceQuery{Source: "idp", After: "u10", Limit: 1}); got != "[u2]" {
		t.Fatalf("page after u10: %s", got)
	}
	if got := keysOf(forcesync.SourceQuery{Source: "idp", After: "u4"}); got != "[]" {
		t.Fatalf("page after the last key: %s", got)
	}
	if got := keysOf(forcesync.SourceQuery{Source: "idp", After: "u0", Field: "userName", Value: "user2@EXAMPLE.com"}); got != "[u2]" {
		t.Fatalf("lookup after u0: %s", got)
	}
	if n, err := s.CountSourceRecords(ctx, forcesync.SourceQuery{Source: "idp", After: "u1"}); err != nil || n != 2 {
		t.Fatalf("count after u1: %d %v", n, err)
	}
	if got := keysOf(forcesync.SourceQuery{Source: "idp", Field: "userName", Value: "USER1@example.COM"}); got != "[u1]" {
		t.Fatalf("lookup %s", got)
	}
	if got := keysOf(forcesync.SourceQuery{Source: "idp", Field: "userName", Value: "user3@example.com"}); got != "[]" {
		t.Fatalf("a deleted record found: %s", got)
	}
	if n, err := s.CountSourceRecords(ctx, forcesync.SourceQuery{Source: "idp", Limit: 1}); err != nil || n != 4 {
		t.Fatalf("count %d %v", n, err)
	}
	if n, err := s.CountSourceRecords(ctx, forcesync.SourceQuery{Source: "idp", Field: "userName", Value: "user2@example.com"}); err != nil || n != 1 {
		t.Fatalf("count by field %d %v", n, err)
	}
	if _, err := s.SourceRecords(ctx, forcesync.SourceQuery{Source: "idp", Field: "a'b", Value: "x"}); forcesync.ErrorCode(err) != forcesync.EInvalid {
		t.Fatalf("bad field name: %v", err)
	}
	if _, err := s.SourceRecords(ctx, forcesync.SourceQuery{Source: "idp", Offset: -1}); forcesync.ErrorCode(err) != forcesync.EInvalid {
		t.Fatalf("negative offset: %v", err)
	}
}
