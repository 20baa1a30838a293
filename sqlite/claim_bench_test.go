package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/storetest"
)

// benchBacklog opens a store whose mappings "m" and "n" (of source "c")
// each have n records queued, accepted in key order in posts of 10,000;
// the records were pushed once under "m" before, so each has a binding
// and a status there; mapping "r" has 5,000 of them queued again, spread
// over the source (storetest.FillBacklog).
func benchBacklog(b *testing.B, n int) *Store {
	b.Helper()
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(b.TempDir(), "fs.db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	storetest.FillBacklog(b, s, n)
	return s
}

// BenchmarkClaim claims from a backlog of 100,000 rows of mapping m: all
// of them at once, as an External ID mapping claims a Bulk job's worth, a
// Bulk threshold's worth, a Collections batch and ten; and from mapping r,
// whose 5,000 rows are spread over the source, a batch, ten and one, as
// realtime claims do. The rows are given back (untimed) after each claim.
//
//	go test -run '^$' -bench Claim -benchmem ./sqlite
func BenchmarkClaim(b *testing.B) {
	const n = 100_000
	ctx := context.Background()
	s := benchBacklog(b, n)
	for _, c := range []struct {
		mapping string
		limit   int
	}{{"m", n}, {"m", 2000}, {"m", 200}, {"m", 10}, {"r", 2000}, {"r", 200}, {"r", 10}, {"r", 1}} {
		mapping, limit := c.mapping, c.limit
		b.Run(fmt.Sprintf("mapping=%s/rows=%d", mapping, limit), func(b *testing.B) {
			var cpu float64
			for b.Loop() {
				c0 := cpuSeconds()
				items, err := s.Claim(ctx, forcesync.ClaimRequest{Mapping: mapping, Owner: "w", Lease: time.Minute, Limit: limit})
				if err != nil {
					b.Fatal(err)
				}
				cpu += cpuSeconds() - c0
				if len(items) != limit || (mapping == "m") != (items[0].Binding != nil) {
					b.Fatalf("claimed %d items, first %+v", len(items), items[0])
				}
				b.StopTimer()
				keys := make([]string, len(items))
				for i, it := range items {
					keys[i] = it.Key
				}
				if err := s.release(ctx, mapping, "w", keys); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
			b.ReportMetric(cpu/float64(b.N), "cpu-s/op")
		})
	}
}

// BenchmarkRenewLeases renews the lease of a claim of 100,000 rows.
//
//	go test -run '^$' -bench RenewLeases -benchmem ./sqlite
func BenchmarkRenewLeases(b *testing.B) {
	const n = 100_000
	ctx := context.Background()
	s := benchBacklog(b, n)
	now := time.Now()
	items, err := s.Claim(ctx, forcesync.ClaimRequest{Mapping: "m", Owner: "w", Lease: time.Hour, Limit: n, Now: now})
	if err != nil || len(items) != n {
		b.Fatalf("claimed %d: %v", len(items), err)
	}
	var cpu float64
	for b.Loop() {
		now = now.Add(time.Second)
		c0 := cpuSeconds()
		got, err := s.RenewLeases(ctx, "m", "w", now.Add(time.Hour))
		if err != nil {
			b.Fatal(err)
		}
		cpu += cpuSeconds() - c0
		if got != 1 {
			b.Fatalf("renewed %d leases, want the claim's one", got)
		}
	}
	b.ReportMetric(cpu/float64(b.N), "cpu-s/op")
}

// cpuSeconds is the process's user + system CPU time so far: steadier
// than wall time on a shared machine.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Sec+ru.Stime.Sec) + float64(ru.Utime.Usec+ru.Stime.Usec)/1e6
}
