package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/emulator"
	"github.com/forcesync/forcesync/engine"
	"github.com/forcesync/forcesync/httpserver"
	"github.com/forcesync/forcesync/salesforce"
	"github.com/forcesync/forcesync/sqlite"
)

const source = "app"

func leadMapping(ext bool) forcesync.Mapping {
	m := forcesync.Mapping{Name: "app_to_leads", Source: source, Object: "Lead",
		Fields: []forcesync.FieldRow{
			{Target: "LastName", SourceField: "last_name"},
			{Target: "FirstName", SourceField: "first_name"},
			{Target: "Email", SourceField: "email"},
			{Target: "Company", SourceField: "company"},
		}}
	if ext {
		m.Match = forcesync.MatchRule{Kind: forcesync.MatchExternalID, Field: "Forcesync_Key__c"}
	} else {
		m.Match = forcesync.MatchRule{Kind: forcesync.MatchFields, Fields: []string{"Email"}}
	}
	return m
}

func change(i int, version int64) forcesync.Change {
	return forcesync.Change{Source: source, Key: fmt.Sprintf("k%07d", i), Version: version, Fields: map[string]any{
		"last_name": fmt.Sprintf("Last%d", i), "first_name": "First", "company": "Bench Inc",
		"email": fmt.Sprintf("p%07d@example.com", i)}}
}

// rig is an emulator, a store, an engine and the ingest API.
type rig struct {
	emu   *emulator.Emulator
	sfURL string
	store forcesync.Store
	api   *engine.SalesforceAPI
	eng   *engine.Engine
	base  string // ingest API
}

func newRig(b testing.TB, emuURL string, cfg engine.Config, m forcesync.Mapping) *rig {
	b.Helper()
	ctx := context.Background()
	r := &rig{sfURL: emuURL}
	if emuURL == "" {
		emu, err := emulator.New(emulator.Config{})
		if err != nil {
			b.Fatal(err)
		}
		sf := httptest.NewServer(emu)
		b.Cleanup(sf.Close)
		r.emu, r.sfURL = emu, sf.URL
	}
	r.api = &engine.SalesforceAPI{}
	client, err := salesforce.NewClient(ctx, salesforce.Config{LoginURL: r.sfURL,
		Auth: salesforce.Password{ClientID: "forcesync-demo", ClientSecret: "forcesync-demo-secret",
			Username: "admin@forcesync.local", Password: "forcesync"},
		Hooks: salesforce.Hooks{OnCall: r.api.CountCall}})
	if err != nil {
		b.Fatal(err)
	}
	r.api.Client = client
	r.store = openBenchStore(b)
	r.eng, err = engine.New(ctx, r.store, r.api, []forcesync.Mapping{m}, cfg)
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(httpserver.New(httpserver.Config{Store: r.store, Engine: r.eng,
		Sources: []string{source}, APIToken: "bench"}))
	b.Cleanup(srv.Close)
	r.base = srv.URL
	return r
}

// accept stores changes directly (the durable step of ingest).
func (r *rig) accept(b testing.TB, cs []forcesync.Change) {
	if _, err := r.store.Accept(context.Background(), r.eng.MappingsFor(source), cs); err != nil {
		b.Fatal(err)
	}
}

// post sends changes through the ingest API and returns when it answered 202.
func (r *rig) post(b testing.TB, cs []forcesync.Change) {
	r.send(b, encode(cs))
}

// encode renders changes as an ingest request body. The throughput
// benchmarks encode their bodies before the clock starts: producing the data
// is the sending application's work, not forcesync's.
func encode(cs []forcesync.Change) []byte {
	type wire struct {
		Key     string         `json:"key"`
		Version int64          `json:"version"`
		Fields  map[string]any `json:"fields"`
	}
	ws := make([]wire, len(cs))
	for i, c := range cs {
		ws[i] = wire{c.Key, c.Version, c.Fields}
	}
	body, _ := json.Marshal(ws)
	return body
}

// send posts an encoded body to the ingest API and returns when it answered 202.
func (r *rig) send(b testing.TB, body []byte) {
	req, _ := http.NewRequest("POST", r.base+"/api/v1/sources/"+source+"/records", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer bench")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		b.Fatalf("ingest: %d", resp.StatusCode)
	}
}

// bodies encodes records [0, n) as posts of per records each.
func bodies(n, per int) [][]byte {
	var out [][]byte
	for lo := 0; lo < n; lo += per {
		cs := make([]forcesync.Change, 0, per)
		for j := lo; j < min(lo+per, n); j++ {
			cs = append(cs, change(j, 1))
		}
		out = append(out, encode(cs))
	}
	return out
}

// waitSynced waits until n records are synced. It watches the runs the
// engine records (a handful of rows) rather than counting statuses, so the
// wait takes little of the CPU it measures, and confirms with the counts.
func (r *rig) waitSynced(b testing.TB, n int) {
	ctx := context.Background()
	deadline := time.Now().Add(30 * time.Minute)
	for {
		runs, err := r.store.Runs(ctx, 1_000_000)
		if err != nil {
			b.Fatal(err)
		}
		done, failed := 0, 0
		for _, run := range runs {
			done += run.Created + run.Updated + run.Unchanged
			failed += run.Failed
		}
		if done >= n || failed > 0 {
			c, err := r.store.Counts(ctx, "app_to_leads")
			if err != nil {
				b.Fatal(err)
			}
			if c[forcesync.StateSynced] >= n {
				return
			}
			if c[forcesync.StateHeld] > 0 {
				b.Fatalf("states %v, want %d synced", c, n)
			}
		}
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d records synced after 30 minutes", done, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (r *rig) emuCalls() int64 {
	var n int64
	for k, v := range r.emu.Stats() {
		if k != emulator.KindOAuth {
			n += v
		}
	}
	return n
}

// BenchmarkAPICalls counts the calls the engine spends on 10,000 new
// records. Floors: 50 Collections calls of 200; one Bulk job = create,
// upload, close, one status poll, results = 5.
func BenchmarkAPICalls(b *testing.B) {
	const n = 10000
	for _, tc := range []struct {
		name      string
		threshold int
		floor     float64
	}{{"collections", -1, 50}, {"bulk", 1, 5}} {
		b.Run(tc.name, func(b *testing.B) {
			var calls int64
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				r := newRig(b, "", engine.Config{BulkThreshold: tc.threshold}, leadMapping(true))
				// A job answers its first status poll as final, so polls do
				// not depend on timing; real Salesforce may need a few more.
				r.emu.SetFinishBulkJobsAtOnce(true)
				cs := make([]forcesync.Change, n)
				for j := range cs {
					cs[j] = change(j, 1)
				}
				r.accept(b, cs)
				before := r.emuCalls()
				b.StartTimer()
				if _, err := r.eng.Drain(context.Background()); err != nil {
					b.Fatal(err)
				}
				calls += r.emuCalls() - before
			}
			per := float64(calls) / float64(b.N)
			b.ReportMetric(per, "calls/10k")
			b.ReportMetric(per/tc.floor, "x-floor")
		})
	}
}

// BenchmarkThroughput measures records per second from ingest (POST) to
// synced in the store (which follows Salesforce's answer), for one bulk load
// and for a stream of small posts.
func BenchmarkThroughput(b *testing.B) {
	b.Run("bulk-load", func(b *testing.B) {
		const n = 50000
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			r := newRig(b, "", engine.Config{}, leadMapping(true))
			posts := bodies(n, 5000)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { r.eng.Run(ctx); close(done) }()
			b.StartTimer()
			start := time.Now()
			for _, body := range posts {
				r.send(b, body)
			}
			r.waitSynced(b, n)
			el := time.Since(start)
			b.StopTimer()
			cancel()
			<-done
			b.ReportMetric(float64(n)/el.Seconds(), "records/s")
		}
	})
	b.Run("stream", func(b *testing.B) {
		// Four clients post ten records at a time, as fast as answered.
		const n, senders, per = 20000, 4, 10
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			r := newRig(b, "", engine.Config{}, leadMapping(true))
			posts := bodies(n, per)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { r.eng.Run(ctx); close(done) }()
			b.StartTimer()
			start := time.Now()
			var wg sync.WaitGroup
			for s := 0; s < senders; s++ {
				wg.Add(1)
				go func(s int) {
					defer wg.Done()
					for i := s; i < len(posts); i += senders {
						r.send(b, posts[i])
					}
				}(s)
			}
			wg.Wait()
			r.waitSynced(b, n)
			el := time.Since(start)
			b.StopTimer()
			cancel()
			<-done
			b.ReportMetric(float64(n)/el.Seconds(), "records/s")
		}
	})
}

// BenchmarkLatency posts one record every 2 ms (500 events/s) for 10 s and
// measures, per record, from the 202 to the store's synced status time
// (written when Salesforce's answer is committed).
func BenchmarkLatency(b *testing.B) {
	const rate, seconds = 500, 10
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		r := newRig(b, "", engine.Config{}, leadMapping(true))
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { r.eng.Run(ctx); close(done) }()
		b.StartTimer()
		n := rate * seconds
		acked := make([]time.Time, n)
		tick := time.NewTicker(time.Second / rate)
		var wg sync.WaitGroup
		for j := 0; j < n; j++ {
			<-tick.C
			wg.Add(1)
			go func(j int) {
				defer wg.Done()
				r.post(b, []forcesync.Change{change(j, 1)})
				acked[j] = time.Now()
			}(j)
		}
		tick.Stop()
		wg.Wait()
		r.waitSynced(b, n)
		b.StopTimer()
		cancel()
		<-done
		sts, err := r.store.List(context.Background(), forcesync.StatusFilter{Mapping: "app_to_leads", Limit: n})
		if err != nil || len(sts) != n {
			b.Fatalf("list: %d %v", len(sts), err)
		}
		lat := make([]float64, 0, n)
		for _, st := range sts {
			j, _ := strconv.Atoi(strings.TrimPrefix(st.Key, "k"))
			// The store keeps milliseconds; a negative gap is rounding.
			lat = append(lat, max(0, float64(st.Updated.Sub(acked[j]))/float64(time.Millisecond)))
		}
		slices.Sort(lat)
		b.ReportMetric(lat[len(lat)/2], "p50-ms")
		b.ReportMetric(lat[len(lat)*99/100], "p99-ms")
		b.ReportMetric(lat[len(lat)-1], "max-ms")
	}
}

// BenchmarkPeakRSS pushes a backlog of 100k records (and 1M with
// FORCESYNC_BENCH_1M=1) from a child process, whose VmHWM is its peak
// resident memory; the emulator runs here, in the parent.
func BenchmarkPeakRSS(b *testing.B) {
	sizes := []int{100_000}
	if os.Getenv("FORCESYNC_BENCH_1M") == "1" {
		sizes = append(sizes, 1_000_000)
	}
	for _, n := range sizes {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				emu, err := emulator.New(emulator.Config{})
				if err != nil {
					b.Fatal(err)
				}
				sf := httptest.NewServer(emu)
				cmd := exec.Command(os.Args[0], "-test.run=^TestRSSChild$", "-test.v")
				cmd.Env = append(os.Environ(), "BENCH_RSS_N="+strconv.Itoa(n), "BENCH_RSS_EMULATOR="+sf.URL,
					"BENCH_RSS_DIR="+b.TempDir())
				out, err := cmd.CombinedOutput()
				sf.Close()
				if err != nil {
					b.Fatalf("child: %v\n%s", err, out)
				}
				var hwm, secs float64
				sc := bufio.NewScanner(bytes.NewReader(out))
				for sc.Scan() {
					if _, err := fmt.Sscanf(strings.TrimSpace(sc.Text()), "RSS-RESULT %f %f", &hwm, &secs); err == nil {
						break
					}
				}
				if hwm == 0 {
					b.Fatalf("child printed no result:\n%s", out)
				}
				b.ReportMetric(hwm/1024, "peak-RSS-MiB")
				b.ReportMetric(float64(n)/secs, "records/s")
			}
		})
	}
}

// TestRSSChild is the child of BenchmarkPeakRSS; it does nothing unless
// started by it.
func TestRSSChild(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("BENCH_RSS_N"))
	if n == 0 {
		t.Skip("only run as BenchmarkPeakRSS's child")
	}
	ctx := context.Background()
	api := &engine.SalesforceAPI{}
	client, err := salesforce.NewClient(ctx, salesforce.Config{LoginURL: os.Getenv("BENCH_RSS_EMULATOR"),
		Auth: salesforce.Password{ClientID: "forcesync-demo", ClientSecret: "forcesync-demo-secret",
			Username: "admin@forcesync.local", Password: "forcesync"},
		Hooks: salesforce.Hooks{OnCall: api.CountCall}})
	if err != nil {
		t.Fatal(err)
	}
	api.Client = client
	st, err := sqlite.Open(ctx, filepath.Join(os.Getenv("BENCH_RSS_DIR"), "fs.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	// One worker: one batch in flight, so the peak follows the data size and
	// not the overlap of batches (Drain runs the configured workers).
	eng, err := engine.New(ctx, st, api, []forcesync.Mapping{leadMapping(true)}, engine.Config{APIShare: 1, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for lo := 0; lo < n; lo += 10000 {
		cs := make([]forcesync.Change, 0, 10000)
		for j := lo; j < min(lo+10000, n); j++ {
			cs = append(cs, change(j, 1))
		}
		if _, err := st.Accept(ctx, eng.MappingsFor(source), cs); err != nil {
			t.Fatal(err)
		}
	}
	got, err := eng.Drain(ctx)
	if err != nil || got != n {
		t.Fatalf("drained %d of %d: %v", got, n, err)
	}
	secs := time.Since(start).Seconds()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			fmt.Printf("RSS-RESULT %d %.3f\n", kb, secs)
			return
		}
	}
	t.Fatal("no VmHWM")
}
