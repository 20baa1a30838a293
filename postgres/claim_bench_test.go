package postgres_test

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/internal/pgtest"
	"github.com/forcesync/forcesync/postgres"
	"github.com/forcesync/forcesync/storetest"
	"github.com/jackc/pgx/v5"
)

// benchBacklog opens a store in a fresh schema whose mappings "m" and "n"
// (of source "c") each have n records queued, accepted in key order in
// posts of 10,000; the records were pushed once under "m" before, so each
// has a binding and a status there. Mapping "r" has 5,000 of them queued
// in posts of 100 keys drawn from the whole source.
func benchBacklog(b *testing.B, n int, now func() time.Time) *postgres.Store {
	b.Helper()
	ctx := context.Background()
	dsn, schema := pgtest.Schema(b, "bench")
	s, err := postgres.Open(ctx, dsn, postgres.Options{Schema: schema, Now: now})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	storetest.FillBacklog(b, s, n)
	// Statistics, as autovacuum gives a database a minute after such a
	// load: without them the plans (a join of 100,000 rows by lookups or by
	// hashing) depend on when autovacuum gets to the tables during the run.
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		b.Fatal(err)
	}
	cfg.RuntimeParams["search_path"] = schema
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "ANALYZE outbox, source_records, bindings, statuses, intents"); err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkClaim claims from a backlog of 100,000 rows of mapping m: all
// of them at once, as an External ID mapping claims a Bulk job's worth, a
// Bulk threshold's worth, a Collections batch and ten; and from mapping r,
// whose 5,000 rows are spread over the source, as realtime claims do. Each
// claim runs after the leases of the one before ran out. cpu-s/op counts
// this process only: the server's work shows in ns/op.
//
//	FORCESYNC_TEST_POSTGRES=... go test -run '^$' -bench Claim -benchmem ./postgres
func BenchmarkClaim(b *testing.B) {
	const n = 100_000
	ctx := context.Background()
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	s := benchBacklog(b, n, func() time.Time { return now })
	for _, c := range []struct {
		mapping string
		limit   int
	}{{"m", n}, {"m", 2000}, {"m", 200}, {"m", 10}, {"r", 2000}, {"r", 200}, {"r", 10}, {"r", 1}} {
		b.Run(fmt.Sprintf("mapping=%s/rows=%d", c.mapping, c.limit), func(b *testing.B) {
			var cpu float64
			for b.Loop() {
				now = now.Add(time.Minute + time.Millisecond) // the last claim's leases ran out
				c0 := cpuSeconds()
				items, err := s.Claim(ctx, forcesync.ClaimRequest{Mapping: c.mapping, Owner: "w", Lease: time.Minute, Limit: c.limit, Now: now})
				if err != nil {
					b.Fatal(err)
				}
				cpu += cpuSeconds() - c0
				if len(items) != c.limit || (c.mapping == "m") != (items[0].Binding != nil) {
					b.Fatalf("claimed %d items, first %+v", len(items), items[0])
				}
			}
			b.ReportMetric(cpu/float64(b.N), "cpu-s/op")
		})
	}
}

// BenchmarkRenewLeases renews the lease of a claim of 100,000 rows.
//
//	FORCESYNC_TEST_POSTGRES=... go test -run '^$' -bench RenewLeases -benchmem ./postgres
func BenchmarkRenewLeases(b *testing.B) {
	const n = 100_000
	ctx := context.Background()
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	s := benchBacklog(b, n, func() time.Time { return now })
	items, err := s.Claim(ctx, forcesync.ClaimRequest{Mapping: "m", Owner: "w", Lease: time.Hour, Limit: n, Now: now})
	if err != nil || len(items) != n {
		b.Fatalf("claimed %d: %v", len(items), err)
	}
	for b.Loop() {
		now = now.Add(time.Second)
		got, err := s.RenewLeases(ctx, "m", "w", now.Add(time.Hour))
		if err != nil {
			b.Fatal(err)
		}
		if got != 1 {
			b.Fatalf("renewed %d leases, want the claim's one", got)
		}
	}
}

// cpuSeconds is the process's user + system CPU time so far.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Sec+ru.Stime.Sec) + float64(ru.Utime.Usec+ru.Stime.Usec)/1e6
}
