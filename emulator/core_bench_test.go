package emulator

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// BenchmarkInsertLocked measures the store and validation alone.
func BenchmarkInsertLocked(b *testing.B) {
	e := newTestEmulator(b, Config{})
	b.ReportAllocs()
	e.mu.Lock()
	defer e.mu.Unlock()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		n := strconv.Itoa(i)
		if _, rerr := e.insertLocked("Lead", map[string]any{"LastName": "Smith" + n, "Company": "Acme", "Email": "l" + n + "@example.com",
			"Forcesync_Key__c": "k" + n, "Status": "Working - Contacted"}); rerr != nil {
			b.Fatal(rerr)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkInsertREST measures single-record creates over loopback HTTP.
func BenchmarkInsertREST(b *testing.B) {
	s := newCoreServer(b, Config{DailyAPIRequests: 1 << 30})
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}}
	b.ReportAllocs()
	b.ResetTimer()
	var ctr int64
	b.SetParallelism(4)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			s.e.mu.Lock()
			ctr++
			n := strconv.FormatInt(ctr, 10)
			s.e.mu.Unlock()
			body, _ := json.Marshal(map[string]any{"LastName": "Smith" + n, "Company": "Acme", "Email": "l" + n + "@example.com"})
			req, _ := http.NewRequest("POST", s.srv.URL+"/services/data/v65.0/sobjects/Lead", bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+s.token)
			req.Header.Set("Content-Type", "application/json")
			res, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != 201 {
				b.Fatalf("status %d", res.StatusCode)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkScanLeads measures a filtered scan over 100k Leads, the core of
// a WHERE query.
func BenchmarkScanLeads(b *testing.B) {
	e := newTestEmulator(b, Config{})
	e.mu.Lock()
	for i := 0; i < 100000; i++ {
		n := strconv.Itoa(i)
		e.insertLocked("Lead", map[string]any{"LastName": "Smith" + n, "Company": "Acme" + strconv.Itoa(i%100), "Email": "l" + n + "@example.com"})
	}
	e.mu.Unlock()
	obj := e.sobjectLocked("Lead")
	f := obj.field("Company")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e.mu.RLock()
		hits := 0
		e.eachRecordLocked(obj, false, func(r *record) bool {
			if r.get(f) == "Acme42" {
				hits++
			}
			return true
		})
		e.mu.RUnlock()
		if hits != 1000 {
			b.Fatalf("hits %d", hits)
		}
	}
}

// TestMemoryMillionLeads reports heap and RSS for 1M Leads. It runs only
// with FORCESYNC_EMU_MEM=1 (it takes a while and a lot of memory).
func TestMemoryMillionLeads(t *testing.T) {
	if os.Getenv("FORCESYNC_EMU_MEM") == "" {
		t.Skip("set FORCESYNC_EMU_MEM=1 to measure memory for 1M records")
	}
	e := newTestEmulator(t, Config{})
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	e.mu.Lock()
	for i := 0; i < 1000000; i++ {
		n := strconv.Itoa(i)
		if _, rerr := e.insertLocked("Lead", map[string]any{"FirstName": "Ann", "LastName": "Smith" + n, "Company": "Acme",
			"Email": "l" + n + "@example.com", "Forcesync_Key__c": "k" + n}); rerr != nil {
			t.Fatal(rerr)
		}
	}
	e.mu.Unlock()
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	t.Logf("1M Leads: heap %d MB (%d bytes/record), RSS %s", (after.HeapAlloc-before.HeapAlloc)>>20,
		(after.HeapAlloc-before.HeapAlloc)/1000000, rss())
}

// rss reads the resident set size from /proc (Linux).
func rss() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "unknown"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			return strings.TrimSpace(strings.TrimPrefix(line, "VmRSS:"))
		}
	}
	return "unknown"
}
