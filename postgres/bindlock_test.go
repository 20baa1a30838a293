package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/internal/pgtest"
)

// TestPullBindWaitsForAPushCommitting: a push's Complete binding k to
// 003A is under way (its transaction started, held here on k's outbox
// row) when a pull commits a bind of 003A to a key of its own. At READ
// COMMITTED the pull's check would not see k's binding, not committed
// yet, and both would commit: a twin. The pull must wait for the push,
// then see the binding and refuse with EConflict.
func TestPullBindWaitsForAPushCommitting(t *testing.T) {
	ctx := context.Background()
	dsn, schema := pgtest.Schema(t, "test")
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	s, err := Open(ctx, dsn, Options{Schema: schema, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Accept(ctx, []string{"m"}, []forcesync.Change{{Source: "s", Key: "k", Fields: map[string]any{"email": "a@x"}}}); err != nil {
		t.Fatal(err)
	}
	items, err := s.Claim(ctx, forcesync.ClaimRequest{Mapping: "m", Owner: "w", Lease: time.Minute, Limit: 10, Now: now})
	if err != nil || len(items) != 1 {
		t.Fatalf("claim %v %v", items, err)
	}

	// Hold k's outbox row, so the push's Complete stops inside its
	// transaction, at its first row lock.
	hold, err := s.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer hold.Rollback(ctx)
	var holder int32
	if err := hold.QueryRow(ctx, `SELECT pg_backend_pid() FROM outbox WHERE mapping = 'm' AND key = 'k' FOR UPDATE`).Scan(&holder); err != nil {
		t.Fatal(err)
	}
	pushed := make(chan error, 1)
	go func() {
		pushed <- s.Complete(ctx, "w", []forcesync.Outcome{{Item: items[0], State: forcesync.StateSynced, SalesforceID: "003A", Fingerprint: "fp0"}},
			&forcesync.Run{Mapping: "m", API: "collections"})
	}()
	push := waitBlocked(t, s, holder, nil)

	stamp := now
	pulled := make(chan error, 1)
	go func() {
		pulled <- s.CommitPull(ctx, &forcesync.PullCommit{Mapping: "m", Source: "s", Now: now,
			Watermark: forcesync.Watermark{Instant: stamp, Seen: map[string]time.Time{"003A": stamp}},
			Records: []forcesync.PulledRecord{{Key: "sf:003A", SalesforceID: "003A", Bind: true, Fingerprint: "fp-sf", Modstamp: stamp,
				SourceFields: map[string]any{"email": "a@x"},
				Event:        &forcesync.PulledChange{Key: "sf:003A", Op: forcesync.PulledUpsert, SalesforceID: "003A", Modstamp: stamp}}}})
	}()
	// The pull waits on the push (or, without the bind lock, is done).
	waitBlocked(t, s, push, pulled)
	if err := hold.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-pushed; err != nil {
		t.Fatalf("complete: %v", err)
	}
	if err := <-pulled; forcesync.ErrorCode(err) != forcesync.EConflict {
		t.Fatalf("the pull's bind of 003A while the push bound k to it: %v, want %s", err, forcesync.EConflict)
	}
	if b, _ := s.Binding(ctx, "m", "sf:003A"); b != nil {
		t.Fatalf("twin binding %+v", b)
	}
	if b, _ := s.Binding(ctx, "m", "k"); b == nil || b.SalesforceID != "003A" {
		t.Fatalf("k's binding %+v", b)
	}
}

// waitBlocked waits until a backend waits on a lock pid holds, and
// returns its pid; or, when done is not nil, until done has a value
// (put back for the caller), returning 0.
func waitBlocked(t *testing.T, s *Store, pid int32, done chan error) int32 {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var waiter int32
		err := s.pool.QueryRow(context.Background(), `SELECT COALESCE(MIN(pid), 0) FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))`, pid).Scan(&waiter)
		if err != nil {
			t.Fatal(err)
		}
		if waiter != 0 {
			return waiter
		}
		select {
		case err := <-done:
			done <- err
			return 0
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("nothing waits on backend %d", pid)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
