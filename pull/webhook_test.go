package pull_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/examples/webhookreceiver"
	"github.com/forcesync/forcesync/pull"
)

// TestDeliverer: a receiver that fails gets the event again after the
// backoff (same webhook-id, a valid signature each time); past
// max_attempts the event goes to the dead letters; events of one record
// wait for the one before them.
func TestDeliverer(t *testing.T) {
	m := leadsPull()
	m.Pull = &forcesync.PullConfig{Into: []string{"source", "webhook"},
		Webhook: &forcesync.Webhook{URL: "set below", Secret: "s3cret", MaxAttempts: 3}}
	r := newRig(t, m)
	var mu sync.Mutex
	fail := true
	var ids []string
	recv := httptest.NewServer(webhookreceiver.Handler("s3cret", func(ev webhookreceiver.Event) error {
		mu.Lock()
		defer mu.Unlock()
		ids = append(ids, ev.ID+" "+ev.Key)
		if fail {
			return context.Canceled // any error: 500
		}
		return nil
	}))
	t.Cleanup(recv.Close)
	m.Pull.Webhook.URL = recv.URL
	r.m = m
	ids0, err := r.emu.Seed("Lead", []map[string]any{{"LastName": "A", "Company": "C"}})
	if err != nil {
		t.Fatal(err)
	}
	p := r.puller(nil)
	r.poll(p)
	if err := r.emu.UpdateAs("Lead", ids0[0], map[string]any{"LastName": "A2"}); err != nil {
		t.Fatal(err)
	}
	r.poll(p) // a second event of the same record
	now := time.Now()
	var logs bytes.Buffer
	d := &pull.Deliverer{Sink: pull.WebhookSink(m.Name), Webhook: *m.Pull.Webhook, Store: r.store, Now: func() time.Time { return now },
		Logger: slog.New(slog.NewJSONHandler(&logs, nil))}
	ctx := context.Background()
	deliver := func() int {
		n, err := d.DeliverDue(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := deliver(); n != 1 {
		t.Fatalf("attempted %d, want only the record's first event", n)
	}
	if n := deliver(); n != 0 {
		t.Fatalf("retried before its backoff: %d", n)
	}
	now = now.Add(10 * time.Second)
	deliver()
	now = now.Add(10 * time.Second)
	deliver() // third attempt: dead
	dead, err := r.store.DeadLetters(ctx, d.Sink, 10)
	if err != nil || len(dead) != 1 || dead[0].Attempts != 3 || dead[0].LastError == "" {
		t.Fatalf("dead letters %+v %v", dead, err)
	}
	mu.Lock()
	if len(ids) != 3 || ids[0] != ids[1] || ids[1] != ids[2] {
		t.Fatalf("attempts %v: want one event id, three times", ids)
	}
	fail = false
	mu.Unlock()
	// The next event of the record goes once its predecessor is settled.
	if n := deliver(); n != 1 {
		t.Fatalf("second event: %d", n)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(ids) != 4 || ids[3] == ids[0] {
		t.Fatalf("deliveries %v", ids)
	}
	// Each failed round, the event given up and the recovery are logged
	// with their events, and every attempt is counted.
	out := logs.String()
	for _, want := range []string{`"event":"webhook.retry"`, `"reasons":"HTTP 500=1"`, `"event":"webhook.dead"`,
		`"event_id":"` + dead[0].Change.EventID + `"`, `"event":"webhook.recovered"`} {
		if !strings.Contains(out, want) {
			t.Errorf("logs lack %s:\n%s", want, out)
		}
	}
	if got := d.Counts(); got[pull.DeliveryFailed] != 2 || got[pull.DeliveryDead] != 1 || got[pull.DeliveryDelivered] != 1 {
		t.Errorf("counts %v, want 2 failed, 1 dead, 1 delivered", got)
	}
}
