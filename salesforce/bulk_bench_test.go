package salesforce

import (
	"bufio"
	"context"
	"fmt"
	"iter"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/forcesync/forcesync/emulator"
)

// Memory is measured with the emulator in a child process (this test
// binary, re-run as TestBulkHelperEmulatorProcess), so the parent's heap
// and RSS are the client's alone: the emulator keeps every record it
// receives, which says nothing about the client.

const childEnv = "FORCESYNC_BULK_EMULATOR_CHILD"

// TestBulkHelperEmulatorProcess is not a test: run as a child with
// FORCESYNC_BULK_EMULATOR_CHILD=1 it serves an emulator on 127.0.0.1:0,
// prints its URL, and exits when its stdin closes.
func TestBulkHelperEmulatorProcess(t *testing.T) {
	if os.Getenv(childEnv) != "1" {
		t.Skip("helper process for the memory tests")
	}
	emu, err := emulator.New(emulator.Config{Objects: bulkTestObjects})
	if err != nil {
		t.Fatal(err)
	}
	emu.SetFinishBulkJobsAtOnce(true)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: emu}
	go srv.Serve(ln)
	fmt.Printf("EMULATOR http://%s\n", ln.Addr())
	os.Stdout.Sync()
	// Block until the parent closes our stdin (or dies).
	buf := make([]byte, 1)
	os.Stdin.Read(buf)
	srv.Close()
	emu.Close()
	os.Exit(0)
}

// startChildEmulator runs the helper and returns a client logged in to it.
func startChildEmulator(tb testing.TB) *Client {
	tb.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestBulkHelperEmulatorProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		stdin.Close()
		cmd.Wait()
	})
	sc := bufio.NewScanner(stdout)
	var url string
	for sc.Scan() {
		if u, ok := strings.CutPrefix(sc.Text(), "EMULATOR "); ok {
			url = u
			break
		}
	}
	if url == "" {
		tb.Fatalf("emulator child printed no URL: %v", sc.Err())
	}
	go func() {
		for sc.Scan() { // drain, so the child never blocks on a full pipe
		}
	}()
	c, err := NewClient(context.Background(), Config{
		LoginURL:   url,
		APIVersion: "65.0",
		Auth: Password{
			ClientID: emulator.DemoClientID, ClientSecret: emulator.DemoClientSecret,
			Username: emulator.DefaultUsername, Password: emulator.DefaultPassword,
		},
	})
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// heapSampler records the peak HeapInuse while it runs.
type heapSampler struct {
	stop chan struct{}
	done chan struct{}
	mu   sync.Mutex
	peak uint64
}

func startHeapSampler(every time.Duration) *heapSampler {
	s := &heapSampler{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		t := time.NewTicker(every)
		defer t.Stop()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			s.mu.Lock()
			s.peak = max(s.peak, ms.HeapInuse)
			s.mu.Unlock()
			select {
			case <-s.stop:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

func (s *heapSampler) Stop() uint64 {
	close(s.stop)
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.peak
}

// vmHWM returns the process's peak resident set size in bytes
// (/proc/self/status VmHWM), or 0 where there is no /proc.
func vmHWM() uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			f := strings.Fields(v)
			if len(f) >= 1 {
				kb, _ := strconv.ParseUint(f[0], 10, 64)
				return kb * 1024
			}
		}
	}
	return 0
}

// upsertStream yields n Lead records keyed by Ext_Id__c. One map is
// reused: the client renders each record before asking for the next, so
// the benchmark measures the client, not the caller's allocations.
func upsertStream(n int, tag string) iter.Seq2[Record, error] {
	return func(yield func(Record, error) bool) {
		r := Record{}
		for i := 0; i < n; i++ {
			id := strconv.Itoa(i)
			r["Ext_Id__c"] = tag + id
			r["LastName"] = "Last " + id
			r["Company"] = "Company, Inc"
			r["Email"] = "p" + id + "@example.com"
			if !yield(r, nil) {
				return
			}
		}
	}
}

var upsertFields = []string{"Ext_Id__c", "LastName", "Company", "Email"}

// streamUpsert upserts n records and returns the peak heap seen.
func streamUpsert(tb testing.TB, c *Client, n int, cfg BulkConfig) (res *IngestResult, peakHeap uint64) {
	tb.Helper()
	runtime.GC()
	s := startHeapSampler(5 * time.Millisecond)
	b := c.Bulk(cfg)
	res, err := b.IngestRecords(context.Background(), IngestJob{Object: "Lead", Operation: BulkUpsert, ExternalIDField: "Ext_Id__c"},
		upsertFields, upsertStream(n, "m"))
	peak := s.Stop()
	if err != nil {
		tb.Fatal(err)
	}
	if res.Processed() != int64(n) || res.Failed() != 0 {
		tb.Fatalf("processed %d failed %d of %d", res.Processed(), res.Failed(), n)
	}
	return res, peak
}

// TestBulkIngestMemoryIsFlat streams records through ingest with the
// emulator out of process and checks the client's peak heap does not grow
// with the record count. The default run is small; set
// FORCESYNC_BULK_1M=1 to stream a million records.
func TestBulkIngestMemoryIsFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	c := startChildEmulator(t)
	small, big := 2_000, 20_000
	if os.Getenv("FORCESYNC_BULK_1M") == "1" {
		small, big = 100_000, 1_000_000
	}
	// Cap jobs at 512 KiB so the run crosses several jobs: a per-job buffer
	// would show up as growth.
	cfg := BulkConfig{MaxBytesPerJob: 512 << 10, Sleep: noWait}
	_, peakSmall := streamUpsert(t, c, small, cfg)
	res, peakBig := streamUpsert(t, c, big, cfg)
	t.Logf("%d records: peak HeapInuse %.1f MiB; %d records in %d jobs: peak HeapInuse %.1f MiB; VmHWM %.1f MiB",
		small, float64(peakSmall)/(1<<20), big, len(res.Jobs), float64(peakBig)/(1<<20), float64(vmHWM())/(1<<20))
	// Ten times the records may not cost more than a few MiB more heap
	// (GC timing, connection buffers); buffering rows would cost tens.
	if peakBig > peakSmall+8<<20 {
		t.Fatalf("heap grows with records: %d records peak %d bytes, %d records peak %d bytes", small, peakSmall, big, peakBig)
	}
}

// BenchmarkBulkUpsert upserts b.N records (one op = one record) through
// Bulk API 2.0 into an emulator in a child process, reporting records/s,
// allocations per record, peak client heap and peak RSS. For the million-
// record figure: go test -run XXX -bench BulkUpsert -benchtime 1000000x ./salesforce
func BenchmarkBulkUpsert(b *testing.B) {
	c := startChildEmulator(b)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	res, peak := streamUpsert(b, c, b.N, BulkConfig{Sleep: func(ctx context.Context, d time.Duration) error {
		// Real polling, shortened: the emulator finishes jobs on first poll.
		return ctx.Err()
	}})
	el := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/el.Seconds(), "records/s")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
	b.ReportMetric(float64(vmHWM())/(1<<20), "VmHWM-MiB")
	b.ReportMetric(float64(len(res.Jobs)), "jobs")
}
