package sqlite_test

import (
	"context"
	"fmt"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/sqlite"
)

// BenchmarkRecordPushed100k records one 100,000-row Bulk job of new
// records, as a file push does after the job answered.
func BenchmarkRecordPushed100k(b *testing.B) {
	rows := make([]forcesync.PushedRecord, 100_000)
	for i := range rows {
		rows[i] = forcesync.PushedRecord{Key: fmt.Sprintf("k%08d", i), Version: 1,
			Fields:       fmt.Sprintf(`{"Company":"Company %d","Email":"user%d@example.com","FirstName":"First%d","LastName":"Last%d"}`, i%500, i, i, i),
			State:        forcesync.StateSynced,
			SalesforceID: fmt.Sprintf("00Q%015d", i), Fingerprint: fmt.Sprintf("%064x", i)}
	}
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
