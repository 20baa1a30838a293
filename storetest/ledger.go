package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/forcesync/forcesync"
)

// testAPICallLedger: calls add up per minute and lane, are read back from
// a point in time, and minutes past the window are dropped.
func testAPICallLedger(t *testing.T, s forcesync.Store, clk *Clock) {
	t0 := clk.Now()
	add := func(conn, lane string, at time.Time, n int) {
		t.Helper()
		if err := s.AddAPICalls(ctx, conn, lane, at, n); err != nil {
			t.Fatal(err)
		}
	}
	add("org", forcesync.LaneRealtime, t0, 3)
	add("org", forcesync.LaneRealtime, t0.Add(10*time.Second), 2) // same minute
	add("org", forcesync.LaneBackfill, t0.Add(20*time.Second), 7)
	add("org", forcesync.LaneRealtime, t0.Add(2*time.Minute), 1)
	add("other", forcesync.LaneRealtime, t0, 100)
	add("org", forcesync.LaneRealtime, t0, 0) // nothing
	got, err := s.APICalls(ctx, "org", t0.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	m := t0.UTC().Truncate(time.Minute)
	want := []forcesync.CallBucket{
		{Minute: m, Lane: forcesync.LaneBackfill, Calls: 7},
		{Minute: m, Lane: forcesync.LaneRealtime, Calls: 5},
		{Minute: m.Add(2 * time.Minute), Lane: forcesync.LaneRealtime, Calls: 1},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("ledger\n got %v\nwant %v", got, want)
	}
	if got, _ := s.APICalls(ctx, "org", t0.Add(time.Minute)); len(got) != 1 || got[0].Calls != 1 {
		t.Fatalf("since a minute later: %v", got)
	}
	// A day and more later, a new call drops the minutes past the window.
	add("org", forcesync.LaneRealtime, t0.Add(26*time.Hour), 4)
	got, _ = s.APICalls(ctx, "org", time.Time{})
	if len(got) != 1 || got[0].Calls != 4 {
		t.Fatalf("old minutes kept: %v", got)
	}
	if got, _ := s.APICalls(ctx, "other", time.Time{}); len(got) != 1 || got[0].Calls != 100 {
		t.Fatalf("another connection's calls: %v", got)
	}
}

// testBudgetState: the governor's state is stored per connection and
// replaced by the next.
func testBudgetState(t *testing.T, s forcesync.Store, clk *Clock) {
	if b, err := s.BudgetState(ctx, "org"); err != nil || b != nil {
		t.Fatalf("no state yet: %v %v", b, err)
	}
	now := clk.Now()
	st := forcesync.BudgetState{Connection: "org", Paused: []string{forcesync.LaneBackfill, forcesync.LaneRealtime},
		Reason: "share spent", Since: now, ResumeAt: now.Add(time.Hour), Own: 50, Budget: 50, OrgUsed: 70, OrgMax: 100, Updated: now}
	if err := s.SetBudgetState(ctx, st); err != nil {
		t.Fatal(err)
	}
	b, err := s.BudgetState(ctx, "org")
	if err != nil || b == nil {
		t.Fatalf("state: %v %v", b, err)
	}
	if !slices.Equal(b.Paused, st.Paused) || b.Reason != st.Reason || !b.Since.Equal(now) || !b.ResumeAt.Equal(now.Add(time.Hour)) ||
		b.Own != 50 || b.Budget != 50 || b.OrgUsed != 70 || b.OrgMax != 100 || !b.Updated.Equal(now) {
		t.Fatalf("state %+v, want %+v", b, st)
	}
	if err := s.SetBudgetState(ctx, forcesync.BudgetState{Connection: "org", Own: 1, Budget: 50, Updated: now}); err != nil {
		t.Fatal(err)
	}
	b, _ = s.BudgetState(ctx, "org")
	if len(b.Paused) != 0 || b.Reason != "" || !b.Since.IsZero() || !b.ResumeAt.IsZero() || b.Own != 1 {
		t.Fatalf("running state %+v", b)
	}
}

// testOldestQueued: the enqueue time of the oldest queued work of a mapping.
func testOldestQueued(t *testing.T, s forcesync.Store, clk *Clock) {
	if at, err := s.OldestQueued(ctx, "m"); err != nil || !at.IsZero() {
		t.Fatalf("empty: %v %v", at, err)
	}
	t0 := clk.Now()
	accept(t, s, []string{"m"}, forcesync.Change{Key: "a", Fields: map[string]any{}})
	clk.Advance(time.Minute)
	accept(t, s, []string{"m"}, forcesync.Change{Key: "b", Fields: map[string]any{}})
	at, err := s.OldestQueued(ctx, "m")
	if err != nil || !at.Equal(t0) {
		t.Fatalf("oldest %v, want %v (%v)", at, t0, err)
	}
	items := claim(t, s, clk, "m", "w", 10)
	var done []forcesync.Outcome
	for _, it := range items {
		if it.Key == "a" {
			done = append(done, forcesync.Outcome{Item: it, State: forcesync.StateSynced})
		}
	}
	complete(t, s, "w", done...)
	if at, _ := s.OldestQueued(ctx, "m"); !at.Equal(t0.Add(time.Minute)) {
		t.Fatalf("after a is done: %v", at)
	}
}

// testBulkJobsInFlight: jobs are noted, listed oldest first, and forgotten.
func testBulkJobsInFlight(t *testing.T, s forcesync.Store, clk *Clock) {
	now := clk.Now()
	for i, id := range []string{"750B", "750A"} {
		if err := s.AddBulkJob(ctx, forcesync.BulkJobRef{Connection: "org", ID: id, Owner: "p1/0", Mapping: "m", Object: "Lead", Created: now.Add(time.Duration(i) * time.Second)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.AddBulkJob(ctx, forcesync.BulkJobRef{Connection: "org", ID: "750B", Mapping: "m", Object: "Lead", Created: now}); err != nil {
		t.Fatalf("noting a job twice: %v", err)
	}
	jobs, err := s.BulkJobs(ctx, "org")
	if err != nil || len(jobs) != 2 || jobs[0].ID != "750B" || jobs[1].ID != "750A" || jobs[0].Object != "Lead" || jobs[0].Mapping != "m" || jobs[0].Owner != "p1/0" || !jobs[0].Created.Equal(now) {
		t.Fatalf("jobs %+v %v", jobs, err)
	}
	// The owner's heartbeat moves the time; another owner's note does not.
	if err := s.AddBulkJob(ctx, forcesync.BulkJobRef{Connection: "org", ID: "750B", Owner: "p2/0", Mapping: "m", Object: "Lead", Created: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if jobs, _ := s.BulkJobs(ctx, "org"); len(jobs) != 2 || jobs[0].ID != "750B" || !jobs[0].Created.Equal(now) || jobs[0].Owner != "p1/0" {
		t.Fatalf("another owner's note changed the job: %+v", jobs)
	}
	if err := s.AddBulkJob(ctx, forcesync.BulkJobRef{Connection: "org", ID: "750B", Owner: "p1/0", Mapping: "m", Object: "Lead", Created: now.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if jobs, _ := s.BulkJobs(ctx, "org"); len(jobs) != 2 || jobs[0].ID != "750A" || jobs[1].ID != "750B" || !jobs[1].Created.Equal(now.Add(time.Minute)) {
		t.Fatalf("heartbeat: %+v", jobs)
	}
	if err := s.AddBulkJob(ctx, forcesync.BulkJobRef{Connection: "org", ID: "750B", Owner: "p1/0", Mapping: "m", Object: "Lead", Created: now}); err != nil {
		t.Fatal(err)
	}
	if jobs, _ := s.BulkJobs(ctx, "org"); len(jobs) != 2 || !jobs[1].Created.Equal(now.Add(time.Minute)) {
		t.Fatalf("an older heartbeat moved the time back: %+v", jobs)
	}
	if other, _ := s.BulkJobs(ctx, "other"); len(other) != 0 {
		t.Fatalf("another connection's jobs: %v", other)
	}
	if err := s.RemoveBulkJob(ctx, "org", "750B"); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveBulkJob(ctx, "org", "nope"); err != nil {
		t.Fatal(err)
	}
	if jobs, _ := s.BulkJobs(ctx, "org"); len(jobs) != 1 || jobs[0].ID != "750A" {
		t.Fatalf("after remove %+v", jobs)
	}
}
