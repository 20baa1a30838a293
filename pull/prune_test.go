package pull_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/pull"
)

// TestRunnerPrunesPastRetention: the runner prunes, at start, a mapping's
// pulled changes older than its pull.retention; a reader whose cursor was
// inside the pruned range is told it is gone, and after=0 still reads.
func TestRunnerPrunesPastRetention(t *testing.T) {
	m := leadsBoth(forcesync.NewestWins)
	m.Pull.Retention = 24 * time.Hour
	r := newRig(t, m)
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	p := r.puller(func(c *pull.Config) { c.Now = clock })
	if p.Retention() != 24*time.Hour {
		t.Fatalf("retention %v", p.Retention())
	}
	if _, err := r.emu.Seed("Lead", []map[string]any{{"LastName": "A", "Company": "C"}, {"LastName": "B", "Company": "C"}}); err != nil {
		t.Fatal(err)
	}
	r.poll(p)
	evs := r.changes(0)
	if len(evs) != 2 {
		t.Fatalf("%d events, want 2", len(evs))
	}
	if n, err := p.Prune(context.Background()); err != nil || n != 0 {
		t.Fatalf("pruned %d %v within the retention", n, err)
	}
	mu.Lock()
	now = now.Add(25 * time.Hour)
	mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	run := &pull.Runner{Pullers: []*pull.Puller{p}, PruneEvery: time.Hour}
	go func() { defer close(done); run.Run(ctx) }()
	deadline := time.Now().Add(time.Minute)
	for len(r.changes(0)) != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the runner did not prune")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	if _, err := r.store.Changes(context.Background(), evs[0].Seq, 10, nil); forcesync.ErrorCode(err) != forcesync.EGone {
		t.Fatalf("a cursor inside the pruned range: %v, want gone", err)
	}
}
