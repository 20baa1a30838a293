package sqlite_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"syscall"
	"testing"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/sqlite"
)

// BenchmarkRecordPushed100k records one 100,000-row Bulk job of new
// records, as a file push does after the job answered.
func BenchmarkRecordPushed100k(b *testing.B) {
	rows := pushedRows(100_000)
	var cpu float64
	for b.Loop() {
		b.StopTimer()
		s, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "fs.db"), sqlite.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		c0 := cpuSeconds()
		if err := s.RecordPushed(context.Background(), "lead", "leads", rows, &forcesync.Run{Mapping: "leads", API: "bulk"}); err != nil {
			b.Fatal(err)
		}
		cpu += cpuSeconds() - c0
		b.StopTimer()
		s.Close()
		b.StartTimer()
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

// pushedRows returns n synced rows of a Lead-like file, keyed in file order.
func pushedRows(n int) []forcesync.PushedRecord {
	rows := make([]forcesync.PushedRecord, n)
	for i := range rows {
		rows[i] = forcesync.PushedRecord{Key: fmt.Sprintf("k%08d", i), Version: 1,
			Fields:       fmt.Sprintf(`{"Company":"Company %d","Email":"user%d@example.com","FirstName":"First%d","LastName":"Last%d"}`, i%500, i, i, i),
			State:        forcesync.StateSynced,
			SalesforceID: fmt.Sprintf("00Q%015d", i), Fingerprint: fmt.Sprintf("%064x", i)}
	}
	return rows
}

// BenchmarkSettled100k reads back the stored state of 100,000 synced
// records in chunks of 5,000 keys, as a re-push of the same file does
// before it decides which rows changed: a file in key order (sorted), and
// one whose rows come in no order (shuffled), each chunk's keys spread over
// the whole table.
func BenchmarkSettled100k(b *testing.B) {
	const n, chunk = 100_000, 5_000
	ctx := context.Background()
	s, rows := storeWithPushed(b, n)
	fps := make(map[string]string, n)
	sorted := make([]string, n)
	for i := range rows {
		sorted[i] = rows[i].Key
		fps[rows[i].Key] = rows[i].Fingerprint
	}
	shuffled := slices.Clone(sorted)
	rand.New(rand.NewPCG(1, 2)).Shuffle(n, func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	mappings := []string{"leads"}
	for _, file := range []struct {
		name string
		keys []string
	}{{"sorted", sorted}, {"shuffled", shuffled}} {
		b.Run(file.name, func(b *testing.B) {
			var cpu float64
			for b.Loop() {
				c0 := cpuSeconds()
				for lo := 0; lo < n; lo += chunk {
					keys := file.keys[lo : lo+chunk]
					got, err := s.Settled(ctx, "lead", mappings, keys)
					if err != nil {
						b.Fatal(err)
					}
					if sm := got[keys[0]].Mappings["leads"]; len(got) != chunk || sm.State != forcesync.StateSynced || sm.Fingerprint != fps[keys[0]] {
						b.Fatalf("chunk at %d: %d keys, first %+v", lo, len(got), sm)
					}
				}
				cpu += cpuSeconds() - c0
			}
			b.ReportMetric(cpu/float64(b.N), "cpu-s/op")
		})
	}
}

// BenchmarkRecordPushedRepush records the job of a re-push that changed
// every tenth row of a 100,000-row file: 10,000 updates spread over the
// whole table, so most of its pages are written.
func BenchmarkRecordPushedRepush(b *testing.B) {
	const n = 100_000
	ctx := context.Background()
	s, rows := storeWithPushed(b, n)
	changed := make([]forcesync.PushedRecord, 0, n/10)
	for i := 0; i < n; i += 10 {
		changed = append(changed, rows[i])
	}
	var cpu float64
	version := int64(1)
	for b.Loop() {
		version++
		for i := range changed {
			r := &changed[i]
			r.Version, r.Fields, r.Fingerprint = version, fmt.Sprintf(`{"Company":"Other %d","n":%d}`, i, version), fmt.Sprintf("%064x", version<<32|int64(i))
		}
		c0 := cpuSeconds()
		if err := s.RecordPushed(ctx, "lead", "leads", changed, &forcesync.Run{Mapping: "leads", API: "bulk"}); err != nil {
			b.Fatal(err)
		}
		cpu += cpuSeconds() - c0
	}
	b.ReportMetric(cpu/float64(b.N), "cpu-s/op")
}

// storeWithPushed opens a store holding n records pushed and synced, as a
// file push records them (jobs of 10,000 rows), and returns it with the rows.
func storeWithPushed(b *testing.B, n int) (*sqlite.Store, []forcesync.PushedRecord) {
	b.Helper()
	rows := pushedRows(n)
	s, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "fs.db"), sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	for lo := 0; lo < n; lo += 10_000 {
		if err := s.RecordPushed(context.Background(), "lead", "leads", rows[lo:min(lo+10_000, n)], nil); err != nil {
			b.Fatal(err)
		}
	}
	return s, rows
}
