package postgres_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/jackc/pgx/v5"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"github.com/pressly/goose/v3"
)

// TestUpgradeKeepsLeases: rows leased when a store is upgraded to leases
// of their own (migration 00180) stay leased until their lease's end, and
// their owner's renewal extends the rows it renewed last; free rows stay
// free.
func TestUpgradeKeepsLeases(t *testing.T) {
	ctx := context.Background()
	dsn, schema := freshSchema(t)
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	db, err := sql.Open("pgx", u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `CREATE SCHEMA `+pgx.Identifier{schema}.Sanitize()); err != nil {
		t.Fatal(err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, os.DirFS("migrations"))
	if err != nil {
		t.Fatal(err)
	}
	// Down from 00180 too, so the way back is known to run.
	if _, err := p.UpTo(ctx, 180); err != nil {
		t.Fatal(err)
	}
	if _, err := p.DownTo(ctx, 170); err != nil {
		t.Fatal(err)
	}
	// a: leased by "old" until now+60s (its latest claim); b: leased by
	// "old" until now+30s (an earlier claim); c: free. A claim moved a
	// leased row's due_at to its lease's end.
	for i, r := range []struct {
		key   string
		owner any
		until time.Duration
	}{{"a", "old", 60 * time.Second}, {"b", "old", 30 * time.Second}, {"c", nil, 0}} {
		at := now.UnixMilli()
		if _, err := db.ExecContext(ctx, `INSERT INTO source_records (source, key, version, op, fields, updated) VALUES ('c', $1, 1, 'upsert', '{}', $2)`,
			r.key, at); err != nil {
			t.Fatal(err)
		}
		until := int64(0)
		if r.owner != nil {
			until = now.Add(r.until).UnixMilli()
		}
		if _, err := db.ExecContext(ctx, `INSERT INTO outbox (mapping, key, source, priority, seq, due_at, lease_owner, lease_until, enqueued)
			VALUES ('m', $1, 'c', 0, $2, $3, $4, $5, $6)`, r.key, i+1, max(at, until), r.owner, until, at); err != nil {
			t.Fatal(err)
		}
	}

	s := open(t, dsn, schema, func() time.Time { return now })
	defer s.Close()
	// take claims as "new" at now+d and completes what it got.
	take := func(d time.Duration) string {
		t.Helper()
		items, err := s.Claim(ctx, forcesync.ClaimRequest{Mapping: "m", Owner: "new", Lease: time.Minute, Limit: 10, Now: now.Add(d)})
		if err != nil {
			t.Fatal(err)
		}
		var ks []string
		var outs []forcesync.Outcome
		for _, it := range items {
			ks = append(ks, it.Key)
			outs = append(outs, forcesync.Outcome{Item: it, State: forcesync.StateSynced, SalesforceID: "003000000000001AAA"})
		}
		if err := s.Complete(ctx, "new", outs, nil); err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(ks)
	}
	if got := take(0); got != "[c]" {
		t.Fatalf("claimed %s after the upgrade, want the free [c]", got)
	}
	if n, err := s.RenewLeases(ctx, "m", "old", now.Add(2*time.Minute)); err != nil || n != 1 {
		t.Fatalf("renew: %d, %v; want 1", n, err)
	}
	if got := take(31 * time.Second); got != "[b]" {
		t.Fatalf("claimed %s once the earlier lease ran out, want [b]", got)
	}
	if got := take(61 * time.Second); got != "[]" {
		t.Fatalf("claimed %s under the renewed lease", got)
	}
	if got := take(121 * time.Second); got != "[a]" {
		t.Fatalf("claimed %s once the renewed lease ran out, want [a]", got)
	}
}
