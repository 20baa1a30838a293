package schedule_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/internal/pgtest"
	"github.com/forcesync/forcesync/postgres"
	"github.com/forcesync/forcesync/schedule"
	"github.com/forcesync/forcesync/sqlite"
	"github.com/prometheus/client_golang/prometheus"
)

// fakeClock is the schedulers' time: it moves only when the test says.
// Its timers fire on every Advance or Wake, early or not: the scheduler
// looks at Now again when woken, so an early wake costs nothing, and a
// timer set just after an Advance is not missed.
type fakeClock struct {
	mu      sync.Mutex
	t       time.Time
	waiters []chan time.Time
}

func newFakeClock(t time.Time) *fakeClock { return &fakeClock{t: t} }

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *fakeClock) After(time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	c.waiters = append(c.waiters, ch)
	return ch
}

func (c *fakeClock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock(); c.Wake() }

// Set moves the clock to t.
func (c *fakeClock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock(); c.Wake() }

// Wake fires every timer set so far.
func (c *fakeClock) Wake() {
	c.mu.Lock()
	ws := c.waiters
	c.waiters = nil
	now := c.t
	c.mu.Unlock()
	for _, w := range ws {
		w <- now
	}
}

// pgStores opens n stores on one fresh PostgreSQL schema: n replicas.
func pgStores(t *testing.T, n int) []*postgres.Store {
	t.Helper()
	dsn, schema := pgtest.Schema(t, "sched")
	var out []*postgres.Store
	for range n {
		s, err := postgres.Open(context.Background(), dsn, postgres.Options{Schema: schema})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		out = append(out, s)
	}
	return out
}

func sqliteStore(t *testing.T) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "fs.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// dying is a replica's view of the store that can die: once dead, its
// calls fail and its leases are never released, as when the process is
// killed.
type dying struct {
	forcesync.LeaderStore
	mu   sync.Mutex
	dead bool
	// stalled is set while a paused MarkLease waits: the paused replica
	// renews nothing either.
	stalled bool
	// pause, when set, holds MarkLease until closed, whatever its
	// context says: the replica is paused (GC, a stopped VM) mid-write.
	pause chan struct{}
	// paused is closed when a MarkLease call reached pause.
	paused chan struct{}
}

func (d *dying) isDead() bool { d.mu.Lock(); defer d.mu.Unlock(); return d.dead }

func (d *dying) kill() { d.mu.Lock(); d.dead = true; d.mu.Unlock() }

// pauseNextMark makes the next MarkLease stall until the returned func is
// called; paused is closed once it stalls.
func (d *dying) pauseNextMark() (paused <-chan struct{}, resume func()) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.pause, d.paused = make(chan struct{}), make(chan struct{})
	p := d.pause
	return d.paused, func() { close(p) }
}

var errDead = fmt.Errorf("replica killed")

func (d *dying) AcquireLease(ctx context.Context, name, owner string, ttl time.Duration) (forcesync.Lease, bool, error) {
	if d.isDead() {
		return forcesync.Lease{}, false, errDead
	}
	return d.LeaderStore.AcquireLease(ctx, name, owner, ttl)
}

func (d *dying) RenewLease(ctx context.Context, name, owner string, token int64, ttl time.Duration) (bool, error) {
	d.mu.Lock()
	stalled := d.stalled
	d.mu.Unlock()
	if stalled {
		return false, fmt.Errorf("replica paused")
	}
	if d.isDead() {
		return false, errDead
	}
	return d.LeaderStore.RenewLease(ctx, name, owner, token, ttl)
}

func (d *dying) ReleaseLease(ctx context.Context, name, owner string, token int64) error {
	if d.isDead() {
		return errDead
	}
	return d.LeaderStore.ReleaseLease(ctx, name, owner, token)
}

func (d *dying) MarkLease(ctx context.Context, name string, token int64, mark time.Time) (bool, error) {
	d.mu.Lock()
	pause, paused := d.pause, d.paused
	d.pause = nil
	d.mu.Unlock()
	if pause != nil {
		d.mu.Lock()
		d.stalled = true
		d.mu.Unlock()
		close(paused)
		<-pause
		d.mu.Lock()
		d.stalled = false
		d.mu.Unlock()
		ctx = context.Background() // the paused write goes out late, as it would
	}
	if d.isDead() {
		return false, errDead
	}
	return d.LeaderStore.MarkLease(ctx, name, token, mark)
}

// replica is one replica's leader, scheduler and metrics.
type replica struct {
	name   string
	store  *dying
	leader *schedule.Leader
	reg    *prometheus.Registry
	cancel context.CancelFunc
	done   chan struct{}
}

func newReplica(name string, st forcesync.LeaderStore, ttl time.Duration) *replica {
	reg := prometheus.NewRegistry()
	d := &dying{LeaderStore: st}
	return &replica{name: name, store: d, reg: reg, done: make(chan struct{}),
		leader: &schedule.Leader{Store: d, Owner: name, TTL: ttl, Metrics: schedule.NewMetrics(reg)}}
}

// run runs f in the replica until stop or kill.
func (r *replica) run(t *testing.T, f func(ctx context.Context)) {
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() {
		defer close(r.done)
		f(ctx)
	}()
	t.Cleanup(r.stop)
}

// stop stops the replica cleanly (its leases are released).
func (r *replica) stop() { r.cancel(); <-r.done }

// killReplica stops it as a SIGKILL would: nothing released.
func (r *replica) killReplica() { r.store.kill(); r.cancel(); <-r.done }

// metric returns the value of the metric name whose labels include want
// (name=value pairs), summed.
func (r *replica) metric(t *testing.T, name string, want ...string) float64 {
	t.Helper()
	mfs, err := r.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			for i := 0; i+1 < len(want); i += 2 {
				if labels[want[i]] != want[i+1] {
					continue next
				}
			}
			switch {
			case m.Counter != nil:
				sum += m.Counter.GetValue()
			case m.Gauge != nil:
				sum += m.Gauge.GetValue()
			}
		}
	}
	return sum
}

// waitFor polls cond until it holds; wake, when set, runs between polls.
func waitFor(t *testing.T, what string, cond func() bool, wake func()) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("never happened: %s", what)
		}
		if wake != nil {
			wake()
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// firings records which replica ran which due time.
type firings struct {
	mu  sync.Mutex
	got []string // "replica@15:04"
}

func (f *firings) add(replica string, due time.Time) {
	f.mu.Lock()
	f.got = append(f.got, replica+"@"+due.UTC().Format("15:04"))
	f.mu.Unlock()
}

func (f *firings) list() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := append([]string(nil), f.got...)
	sort.Strings(out)
	return out
}

// dues returns the due times fired, in order, and who fired each.
func (f *firings) dues() (dues []string, by map[string]string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	by = map[string]string{}
	for _, g := range f.got {
		who, due, _ := strings.Cut(g, "@")
		dues = append(dues, due)
		by[due] = who
	}
	sort.Strings(dues)
	return dues, by
}
