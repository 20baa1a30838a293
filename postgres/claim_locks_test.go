package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/internal/pgtest"
)

// TestClaimAfterDeadWorkersLocksOnlyItsRows: a claim of a mapping whose
// workers died (leases that ran out) locks, until it commits, only the
// rows it takes, not up to its limit in the free rows and again in each
// such lease's rows, which other writers of those rows (Accept, Complete)
// would wait on and a Bulk-sized claim would write a lock onto by the
// ten thousand.
func TestClaimAfterDeadWorkersLocksOnlyItsRows(t *testing.T) {
	ctx := context.Background()
	dsn, schema := pgtest.Schema(t, "test")
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	s, err := Open(ctx, dsn, Options{Schema: schema, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	cs := make([]forcesync.Change, 30)
	for i := range cs {
		cs[i] = forcesync.Change{Source: "c", Key: string(rune('a'+i/10)) + string(rune('a'+i%10)), Version: 1, Fields: map[string]any{"n": float64(i)}}
	}
	if _, err := s.Accept(ctx, []string{"m"}, cs); err != nil {
		t.Fatal(err)
	}
	// Two workers claim ten rows each and die; ten rows stay free.
	for _, owner := range []string{"dead1", "dead2"} {
		if items, err := s.Claim(ctx, forcesync.ClaimRequest{Mapping: "m", Owner: owner, Lease: time.Minute, Limit: 10, Now: now}); err != nil || len(items) != 10 {
			t.Fatalf("claim of %s: %d %v", owner, len(items), err)
		}
	}
	now = now.Add(2 * time.Minute)
	var expired []int64
	if err := s.pool.QueryRow(ctx, `SELECT ARRAY(SELECT id FROM claim_leases WHERE mapping = 'm' AND until <= $1)`, ms(now)).Scan(&expired); err != nil || len(expired) != 2 {
		t.Fatalf("expired leases %v %v", expired, err)
	}

	// The claim's statement, as Claim runs it, in a transaction held open.
	const limit = 5
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	rows, err := tx.Query(ctx, claimQuery(pickFreeOrExpired), "m", ms(now), limit, "alive", ms(now.Add(time.Minute)), (*int32)(nil), expired)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for rows.Next() {
		n++
	}
	if rows.Close(); rows.Err() != nil || n != limit {
		t.Fatalf("claimed %d (%v), want %d", n, rows.Err(), limit)
	}
	// Rows another transaction can lock now: all but the claim's.
	var free int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM (SELECT key FROM outbox WHERE mapping = 'm' FOR UPDATE SKIP LOCKED) x`).Scan(&free); err != nil {
		t.Fatal(err)
	}
	if locked := len(cs) - free; locked != limit {
		t.Fatalf("the claim locks %d rows, takes %d", locked, limit)
	}
}
