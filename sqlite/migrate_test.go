package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"path/filepath"
	"testing"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/pressly/goose/v3"
)

// TestUpgradeKeepsLeases: rows leased when a store is upgraded to leases
// of their own (migration 00180) stay leased until their lease's end, and
// their owner's renewal extends the rows it renewed last; free rows stay
// free.
func TestUpgradeKeepsLeases(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "fs.db")
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	sub, _ := fs.Sub(migrations, "migrations")
	p, err := goose.NewProvider(goose.DialectSQLite3, db, sub)
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
	// "old" until now+30s (an earlier claim); c: free.
	for i, r := range []struct {
		key   string
		owner any
		until time.Duration
	}{{"a", "old", 60 * time.Second}, {"b", "old", 30 * time.Second}, {"c", nil, 0}} {
		if _, err := db.ExecContext(ctx, `INSERT INTO source_records (source, key, version, op, fields, updated) VALUES ('c', ?, 1, 'upsert', '{}', ?)`,
			r.key, ms(now)); err != nil {
			t.Fatal(err)
		}
		var until int64
		if r.owner != nil {
			until = ms(now.Add(r.until))
		}
		if _, err := db.ExecContext(ctx, `INSERT INTO outbox (mapping, key, source, priority, seq, due_at, lease_owner, lease_until, enqueued)
			VALUES ('m', ?, 'c', 0, ?, ?, ?, ?, ?)`, r.key, i+1, ms(now), r.owner, until, ms(now)); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	s := openAt(t, path, &now)
	defer s.Close()
	// take claims as "new" at now+d and completes what it got.
	take := func(d time.Duration) string {
		t.Helper()
		items := claim(t, s, "new", now.Add(d))
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
