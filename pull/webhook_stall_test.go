package pull_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/pull"
)

// webhookRig pulls n new Leads into n webhook events, of n records, and
// returns the rig and the mapping.
func webhookRig(t *testing.T, url string, n int) (*rig, forcesync.Mapping) {
	t.Helper()
	m := leadsPull()
	m.Pull = &forcesync.PullConfig{Into: []string{"source", "webhook"},
		Webhook: &forcesync.Webhook{URL: url, Secret: "s3cret", MaxAttempts: 8}}
	r := newRig(t, m)
	r.m = m
	seed := make([]map[string]any, n)
	for i := range seed {
		seed[i] = map[string]any{"LastName": "L" + string(rune('a'+i)), "Company": "C"}
	}
	if _, err := r.emu.Seed("Lead", seed); err != nil {
		t.Fatal(err)
	}
	r.poll(r.puller(nil))
	return r, m
}

// TestDelivererStopsAtHungReceiver: a receiver that accepts connections
// and never answers costs a round one client timeout, not one per event:
// the round stops at the first POST without an answer, the events after
// it stay due and unattempted, in their order, and the sink rests before
// trying again; the stall is logged and counted. Once the receiver
// answers, every event is delivered.
func TestDelivererStopsAtHungReceiver(t *testing.T) {
	var hang atomic.Bool
	hang.Store(true)
	release := make(chan struct{})
	var mu sync.Mutex
	var posts []string // webhook-ids, in arrival order
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		posts = append(posts, r.Header.Get("webhook-id"))
		mu.Unlock()
		if hang.Load() {
			select { // accept, read, never answer
			case <-r.Context().Done():
			case <-release:
			}
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(func() { close(release); recv.Close() })
	r, m := webhookRig(t, recv.URL, 5)

	now := time.Now()
	var logs bytes.Buffer
	d := &pull.Deliverer{Sink: pull.WebhookSink(m.Name), Webhook: *m.Pull.Webhook, Store: r.store,
		Client: &http.Client{Timeout: 200 * time.Millisecond}, Now: func() time.Time { return now },
		Logger: slog.New(slog.NewJSONHandler(&logs, nil))}
	ctx := context.Background()
	deliver := func() int {
		t.Helper()
		n, err := d.DeliverDue(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := deliver(); n != 1 {
		t.Fatalf("a round with a hung receiver attempted %d events, want 1", n)
	}
	// The four others wait, due and unattempted; the first waits its backoff.
	due, err := r.store.ClaimDeliveries(ctx, d.Sink, now, 100)
	if err != nil || len(due) != 4 {
		t.Fatalf("due after the stalled round: %d %v", len(due), err)
	}
	for _, dl := range due {
		if dl.Attempts != 0 {
			t.Fatalf("an event the round did not reach counts %d attempts", dl.Attempts)
		}
	}
	// Resting: the next round posts nothing.
	if n := deliver(); n != 0 {
		t.Fatalf("a round while the sink rests attempted %d", n)
	}
	mu.Lock()
	if len(posts) != 1 {
		t.Fatalf("%d POSTs, want 1", len(posts))
	}
	first := posts[0]
	mu.Unlock()
	if d.Stalls() != 1 {
		t.Fatalf("stalls %d, want 1", d.Stalls())
	}
	out := logs.String()
	for _, want := range []string{`"event":"webhook.stalled"`, `"reason":"timeout"`, `"waiting":4`, `"event":"webhook.retry"`} {
		if !strings.Contains(out, want) {
			t.Errorf("logs lack %s:\n%s", want, out)
		}
	}

	// The receiver answers again: after the rest, all five go, the one
	// that timed out too (same webhook-id), and the sink stays awake.
	hang.Store(false)
	now = now.Add(2 * time.Hour)
	if n := deliver(); n != 5 {
		t.Fatalf("after the rest: attempted %d, want 5", n)
	}
	if n := deliver(); n != 0 {
		t.Fatalf("left %d", n)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(posts) != 6 || !strings.Contains(strings.Join(posts[1:], " "), first) {
		t.Fatalf("posts %v", posts)
	}
	if got := d.Counts(); got[pull.DeliveryDelivered] != 5 || got[pull.DeliveryFailed] != 1 || d.Stalls() != 1 {
		t.Fatalf("counts %v, stalls %d", got, d.Stalls())
	}
}

// TestDelivererRoundTime: a round starts no POST after RoundTime; the
// events after it go in the next rounds, without a rest.
func TestDelivererRoundTime(t *testing.T) {
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) }))
	t.Cleanup(recv.Close)
	r, m := webhookRig(t, recv.URL, 3)
	var clock atomic.Int64 // each reading of the clock is a minute later
	start := time.Now()
	d := &pull.Deliverer{Sink: pull.WebhookSink(m.Name), Webhook: *m.Pull.Webhook, Store: r.store, RoundTime: 30 * time.Second,
		Now: func() time.Time { return start.Add(time.Duration(clock.Add(1)) * time.Minute) }}
	for i := range 3 {
		n, err := d.DeliverDue(context.Background())
		if err != nil || n != 1 {
			t.Fatalf("round %d: attempted %d (%v), want 1", i, n, err)
		}
	}
	if n, err := d.DeliverDue(context.Background()); err != nil || n != 0 {
		t.Fatalf("left %d (%v)", n, err)
	}
	if got := d.Counts(); got[pull.DeliveryDelivered] != 3 || d.Stalls() != 0 {
		t.Fatalf("counts %v, stalls %d", got, d.Stalls())
	}
}
