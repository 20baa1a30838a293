package schedule_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/schedule"
)

var day = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)

func at(hhmm string) time.Time {
	t, err := time.Parse("15:04:05", hhmm)
	if err != nil {
		panic(err)
	}
	return day.Add(time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute + time.Duration(t.Second())*time.Second)
}

// schedulerOn runs a scheduler of one job in r, recording firings in f.
func schedulerOn(t *testing.T, r *replica, clk *fakeClock, spec string, f *firings) *schedule.Scheduler {
	s := &schedule.Scheduler{Leader: r.leader, Metrics: r.leader.Metrics, Now: clk.Now, After: clk.After,
		Jobs:  []schedule.Job{{Mapping: "leads", Kind: "replay", Spec: spec, Run: func(context.Context) error { return nil }}},
		Fired: func(_ schedule.Job, due time.Time, _ error) { f.add(r.name, due) }}
	r.run(t, func(ctx context.Context) {
		if err := s.Run(ctx); err != nil {
			t.Errorf("%s: %v", r.name, err)
		}
	})
	return s
}

func mark(t *testing.T, st forcesync.LeaderStore, name string) time.Time {
	t.Helper()
	ls, err := st.Leases(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	if len(ls) != 1 {
		return time.Time{}
	}
	return ls[0].Mark
}

// TestScheduleFiresOnceAcrossReplicas: three replicas on one PostgreSQL
// run the same every-five-minutes job; each due time fires in exactly one
// of them, and when the leader is killed another fires the next one.
func TestScheduleFiresOnceAcrossReplicas(t *testing.T) {
	stores := pgStores(t, 3)
	clk := newFakeClock(at("12:02:00"))
	var f firings
	var reps []*replica
	for i, st := range stores {
		r := newReplica(fmt.Sprintf("r%d", i), st, time.Second)
		reps = append(reps, r)
		schedulerOn(t, r, clk, "*/5 * * * *", &f)
	}
	lease := "schedule:leads:replay"
	waitFor(t, "the schedule's start recorded", func() bool { return !mark(t, stores[0], lease).IsZero() }, nil)
	if got := f.list(); len(got) != 0 {
		t.Fatalf("fired at first sight: %v", got)
	}
	clk.Set(at("12:05:30"))
	waitFor(t, "12:05 fired", func() bool { return len(f.list()) == 1 }, clk.Wake)
	clk.Set(at("12:10:30"))
	waitFor(t, "12:10 fired", func() bool { return len(f.list()) == 2 }, clk.Wake)
	_, by := f.dues()
	var leader *replica
	for _, r := range reps {
		if r.name == by["12:10"] {
			leader = r
		}
	}
	leader.killReplica()
	clk.Set(at("12:15:30"))
	waitFor(t, "12:15 fired after the leader was killed", func() bool { return len(f.list()) == 3 }, clk.Wake)
	for _, r := range reps {
		if r != leader {
			r.stop()
		}
	}
	dues, by := f.dues()
	if !slices.Equal(dues, []string{"12:05", "12:10", "12:15"}) {
		t.Fatalf("fired %v (%v), want each due time once", dues, f.list())
	}
	if by["12:15"] == leader.name {
		t.Fatalf("the killed leader fired 12:15: %v", f.list())
	}
	var fired float64
	for _, r := range reps {
		fired += r.metric(t, "forcesync_schedule_fired_total", "mapping", "leads", "job", "replay")
	}
	if fired != 3 {
		t.Fatalf("forcesync_schedule_fired_total summed over replicas = %v, want 3", fired)
	}
}

// TestScheduleMissedFiringsRunOnce: a single SQLite replica comes back
// three hours after the last firing of an hourly job: it runs once, for
// the latest due time, counts the two others as missed, and goes on.
func TestScheduleMissedFiringsRunOnce(t *testing.T) {
	st := sqliteStore(t)
	lease := "schedule:leads:replay"
	ctx := context.Background()
	l, held, err := st.AcquireLease(ctx, lease, "before-the-outage", time.Minute)
	if err != nil || !held {
		t.Fatal(held, err)
	}
	if ok, err := st.MarkLease(ctx, lease, l.Token, at("09:00:00")); !ok || err != nil {
		t.Fatal(ok, err)
	}
	if err := st.ReleaseLease(ctx, lease, "before-the-outage", l.Token); err != nil {
		t.Fatal(err)
	}
	clk := newFakeClock(at("12:10:00"))
	var f firings
	r := newReplica("back", st, time.Second)
	schedulerOn(t, r, clk, "0 * * * *", &f)
	waitFor(t, "the missed firing ran", func() bool { return len(f.list()) == 1 }, clk.Wake)
	if got := f.list(); got[0] != "back@12:00" {
		t.Fatalf("fired %v, want once for 12:00", got)
	}
	if n := r.metric(t, "forcesync_schedule_skipped_total", "reason", "missed"); n != 2 {
		t.Fatalf("missed firings counted %v, want 2 (10:00, 11:00)", n)
	}
	if m := mark(t, st, lease); !m.Equal(at("12:00:00")) {
		t.Fatalf("mark %v, want 12:00", m)
	}
	clk.Set(at("13:00:01"))
	waitFor(t, "13:00 fired", func() bool { return len(f.list()) == 2 }, clk.Wake)
	r.stop()
	if got := f.list(); !slices.Equal(got, []string{"back@12:00", "back@13:00"}) {
		t.Fatalf("fired %v", got)
	}
	if n := r.metric(t, "forcesync_schedule_skipped_total", "reason", "missed"); n != 2 {
		t.Fatalf("missed firings counted %v after 13:00, want still 2", n)
	}
}

// TestScheduleTimezone: "0 3 * * *" in Europe/Paris fires at 02:00 UTC in
// winter.
func TestScheduleTimezone(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Skip("no time zone database:", err)
	}
	st := sqliteStore(t)
	clk := newFakeClock(at("00:30:00"))
	var f firings
	r := newReplica("r", st, time.Second)
	s := &schedule.Scheduler{Leader: r.leader, Now: clk.Now, After: clk.After,
		Jobs:  []schedule.Job{{Mapping: "leads", Kind: "resync", Spec: "0 3 * * *", Location: paris, Run: func(context.Context) error { return nil }}},
		Fired: func(_ schedule.Job, due time.Time, _ error) { f.add(r.name, due) }}
	r.run(t, func(ctx context.Context) { _ = s.Run(ctx) })
	waitFor(t, "start recorded", func() bool { return !mark(t, st, "schedule:leads:resync").IsZero() }, nil)
	clk.Set(at("01:59:00"))
	clk.Set(at("02:00:10"))
	waitFor(t, "03:00 Paris fired", func() bool { return len(f.list()) == 1 }, clk.Wake)
	if got := f.list(); got[0] != "r@02:00" {
		t.Fatalf("fired %v, want 02:00 UTC", got)
	}
}

// TestScheduleFencesAPausedLeader: the leader stalls (a long pause) just
// as it records a firing; its term runs out, the other replica takes over
// and fires; when the paused one wakes, its late write is refused by the
// lease's token and it does not run the job.
func TestScheduleFencesAPausedLeader(t *testing.T) {
	stores := pgStores(t, 2)
	clk := newFakeClock(at("12:02:00"))
	var f firings
	a := newReplica("a", stores[0], time.Second)
	schedulerOn(t, a, clk, "*/5 * * * *", &f)
	lease := "schedule:leads:replay"
	waitFor(t, "a leads", func() bool { return !mark(t, stores[0], lease).IsZero() }, nil)
	b := newReplica("b", stores[1], time.Second)
	schedulerOn(t, b, clk, "*/5 * * * *", &f)
	paused, resume := a.store.pauseNextMark()
	clk.Set(at("12:05:30"))
	waitFor(t, "a paused while recording the firing", func() bool {
		select {
		case <-paused:
			return true
		default:
			return false
		}
	}, clk.Wake)
	waitFor(t, "b fired in a's place", func() bool { return len(f.list()) == 1 }, clk.Wake)
	resume()
	waitFor(t, "a's late write refused", func() bool {
		return a.metric(t, "forcesync_schedule_skipped_total", "reason", "fenced") == 1
	}, nil)
	a.stop()
	b.stop()
	if got := f.list(); !slices.Equal(got, []string{"b@12:05"}) {
		t.Fatalf("fired %v, want b@12:05 only", got)
	}
	if n := a.metric(t, "forcesync_leader_lease_lost_total", "lease", lease); n != 1 {
		t.Fatalf("a lost its lease %v times, want 1", n)
	}
}

// TestLeaderHandsOver: three replicas lead one duty; one at a time runs
// it; killing the leader hands it over once its term ran out, a clean stop
// at once; each new leader has a greater token.
func TestLeaderHandsOver(t *testing.T) {
	stores := pgStores(t, 3)
	var (
		mu      sync.Mutex
		current string
		tokens  []int64
		active  atomic.Int32
		overlap atomic.Bool
	)
	var reps []*replica
	for i, st := range stores {
		r := newReplica(fmt.Sprintf("r%d", i), st, time.Second)
		reps = append(reps, r)
		r.run(t, func(ctx context.Context) {
			r.leader.Lead(ctx, "pull:leads", func(ctx context.Context, l forcesync.Lease) {
				if active.Add(1) > 1 {
					overlap.Store(true)
				}
				mu.Lock()
				current, tokens = r.name, append(tokens, l.Token)
				mu.Unlock()
				<-ctx.Done()
				mu.Lock()
				current = ""
				mu.Unlock()
				active.Add(-1)
			})
		})
	}
	leader := func() *replica {
		mu.Lock()
		defer mu.Unlock()
		for _, r := range reps {
			if r.name == current {
				return r
			}
		}
		return nil
	}
	waitFor(t, "a leader", func() bool { return leader() != nil }, nil)
	first := leader()
	first.killReplica()
	waitFor(t, "another leader after the kill", func() bool { l := leader(); return l != nil && l != first }, nil)
	second := leader()
	second.stop()
	waitFor(t, "the third replica leads after a clean stop", func() bool { l := leader(); return l != nil && l != first && l != second }, nil)
	third := leader()
	if n := second.metric(t, "forcesync_leader_lease_lost_total"); n != 0 {
		t.Fatalf("a clean stop counted as a loss: %v", n)
	}
	if n := third.metric(t, "forcesync_leader_lease_held", "lease", "pull:leads"); n != 1 {
		t.Fatalf("the leader's held gauge is %v", n)
	}
	third.stop()
	if overlap.Load() {
		t.Fatal("two replicas led at once")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(tokens) != 3 || !(tokens[0] < tokens[1] && tokens[1] < tokens[2]) {
		t.Fatalf("tokens %v, want three, increasing", tokens)
	}
}

// TestParseRefusesWhatCannotRun: the schedule's errors name what is wrong.
func TestParseRefusesWhatCannotRun(t *testing.T) {
	for spec, want := range map[string]string{
		"":                      "empty",
		"0 25 * * *":            "not a cron schedule",
		"* * * *":               "not a cron schedule",
		"@every 10s":            "more often than once a minute",
		"0 0 30 2 *":            "never fires",
		"CRON_TZ=UTC 0 3 * * *": "timezone:",
	} {
		_, err := schedule.Parse(spec)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%q) = %v, want an error saying %q", spec, err, want)
		}
	}
	for _, spec := range []string{"0 3 * * *", "@daily", "@every 6h", "*/15 9-17 * * 1-5"} {
		if _, err := schedule.Parse(spec); err != nil {
			t.Errorf("Parse(%q): %v", spec, err)
		}
	}
}
