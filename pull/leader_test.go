package pull_test

import (
	"context"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/emulator"
	"github.com/forcesync/forcesync/internal/pgtest"
	"github.com/forcesync/forcesync/mapping"
	"github.com/forcesync/forcesync/postgres"
	"github.com/forcesync/forcesync/pull"
	"github.com/forcesync/forcesync/salesforce"
	"github.com/forcesync/forcesync/schedule"
)

// killable is one replica's view of the leader leases; killed, its calls
// fail and nothing is released, as when the process is killed.
type killable struct {
	forcesync.LeaderStore
	dead atomic.Bool
}

func (k *killable) AcquireLease(ctx context.Context, name, owner string, ttl time.Duration) (forcesync.Lease, bool, error) {
	if k.dead.Load() {
		return forcesync.Lease{}, false, context.Canceled
	}
	return k.LeaderStore.AcquireLease(ctx, name, owner, ttl)
}

func (k *killable) RenewLease(ctx context.Context, name, owner string, token int64, ttl time.Duration) (bool, error) {
	if k.dead.Load() {
		return false, context.Canceled
	}
	return k.LeaderStore.RenewLease(ctx, name, owner, token, ttl)
}

func (k *killable) ReleaseLease(ctx context.Context, name, owner string, token int64) error {
	if k.dead.Load() {
		return context.Canceled
	}
	return k.LeaderStore.ReleaseLease(ctx, name, owner, token)
}

// TestRunnersPollOnceAcrossReplicas: three replicas' runners share one
// PostgreSQL and one org, each with its own client, store and leader. An
// idle pulled mapping is polled by one of them only, one query call a
// poll; when that replica is killed, another takes the polls over.
func TestRunnersPollOnceAcrossReplicas(t *testing.T) {
	dsn, schema := pgtest.Schema(t, "pull_lead")
	ctx := context.Background()
	emu, err := emulator.New(emulator.Config{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	if _, err := emu.Seed("Lead", []map[string]any{{"LastName": "A", "Company": "C"}}); err != nil {
		t.Fatal(err)
	}
	m := leadsPull()
	const every = 100 * time.Millisecond
	m.Pull.PollInterval = every

	type replica struct {
		name   string
		leases *killable
		runner *pull.Runner
		cancel context.CancelFunc
		done   chan struct{}
	}
	var (
		mu    sync.Mutex
		polls = map[string]int{}
		times []time.Time
	)
	newReplica := func(name string) *replica {
		st, err := postgres.Open(ctx, dsn, postgres.Options{Schema: schema})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		client, err := salesforce.NewClient(ctx, salesforce.Config{LoginURL: srv.URL,
			Auth: salesforce.Password{ClientID: "forcesync-demo", ClientSecret: "forcesync-demo-secret",
				Username: "admin@forcesync.local", Password: "forcesync"}})
		if err != nil {
			t.Fatal(err)
		}
		d, err := client.Describe(ctx, m.Object)
		if err != nil {
			t.Fatal(err)
		}
		c, err := mapping.Compile(m, d)
		if err != nil {
			t.Fatal(err)
		}
		p, err := pull.New(ctx, pull.Config{Mapping: m, Compiled: c, Store: st, Querier: client})
		if err != nil {
			t.Fatal(err)
		}
		k := &killable{LeaderStore: st}
		leader := &schedule.Leader{Store: k, Owner: name, TTL: 3 * time.Second}
		r := &replica{name: name, leases: k, done: make(chan struct{})}
		r.runner = &pull.Runner{Pullers: []*pull.Puller{p},
			Lead: func(ctx context.Context, lease string, run func(context.Context)) {
				leader.Lead(ctx, lease, func(ctx context.Context, _ forcesync.Lease) { run(ctx) })
			},
			Polled: func(_ string, st pull.Stats, err error) {
				if err != nil {
					t.Errorf("%s: poll: %v", name, err)
				}
				mu.Lock()
				polls[name]++
				times = append(times, time.Now())
				mu.Unlock()
			}}
		// The first load of the object, before the replicas start: the
		// polls measured are idle ones.
		if name == "r0" {
			if st, err := p.Poll(ctx); err != nil || st.Read != 1 {
				t.Fatalf("first load: %+v %v", st, err)
			}
		}
		return r
	}
	var reps []*replica
	for _, name := range []string{"r0", "r1", "r2"} {
		reps = append(reps, newReplica(name))
	}
	emu.ResetStats()
	start := time.Now()
	for _, r := range reps {
		rctx, cancel := context.WithCancel(ctx)
		r.cancel = cancel
		go func() { defer close(r.done); _ = r.runner.Run(rctx) }()
		t.Cleanup(func() { cancel(); <-r.done })
	}
	snapshot := func() (map[string]int, int, time.Time) {
		mu.Lock()
		defer mu.Unlock()
		out := map[string]int{}
		total := 0
		for k, v := range polls {
			out[k] = v
			total += v
		}
		var last time.Time
		if len(times) > 0 {
			last = times[len(times)-1]
		}
		return out, total, last
	}
	waitUntil := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("never happened: %s", what)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitUntil("20 polls", func() bool { _, n, _ := snapshot(); return n >= 20 })
	by, total, last := snapshot()
	calls := emu.Stats()[emulator.KindQuery]
	if len(by) != 1 {
		t.Fatalf("polls by replica %v: more than one replica polled", by)
	}
	// One query call per idle poll (one more may be in flight).
	if calls < int64(total) || calls > int64(total)+1 {
		t.Fatalf("%d query calls for %d polls, want one a poll (%v)", calls, total, emu.Stats())
	}
	// The leader waits a poll interval between polls: no more polls than
	// that allows, however many replicas run.
	if limit := int(last.Sub(start)/every) + 1; total > limit {
		t.Fatalf("%d polls in %v, at most %d at one per %v", total, last.Sub(start), limit, every)
	}
	var leader *replica
	for _, r := range reps {
		if by[r.name] > 0 {
			leader = r
		}
	}
	leader.leases.dead.Store(true)
	leader.cancel()
	<-leader.done
	waitUntil("another replica polls after the leader was killed", func() bool {
		by, _, _ := snapshot()
		for name, n := range by {
			if name != leader.name && n > 0 {
				return true
			}
		}
		return false
	})
	by, _, _ = snapshot()
	t.Logf("polls by replica: %v; query calls %d", by, emu.Stats()[emulator.KindQuery])
	others := 0
	for name, n := range by {
		if name != leader.name && n > 0 {
			others++
		}
	}
	if others != 1 {
		t.Fatalf("after the kill %d replicas polled (%v), want one", others, by)
	}
}
