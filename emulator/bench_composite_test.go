package emulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
)

// BenchmarkCollectionCreate inserts Leads through POST /composite/sobjects
// over loopback HTTP in 200-record batches, one request at a time, and
// reports records/s.
func BenchmarkCollectionCreate(b *testing.B) {
	v := newAPIEnv(b, Config{DailyAPIRequests: 1 << 30})
	recs := make([]any, 200)
	for i := range recs {
		recs[i] = map[string]any{"attributes": map[string]any{"type": "Lead"},
			"FirstName": "Ada", "LastName": fmt.Sprintf("Lovelace %d", i), "Company": "Analytical Engines Ltd",
			"Email": fmt.Sprintf("ada%d@example.com", i), "Phone": "+44 20 7946 0000", "LeadSource": "Web"}
	}
	body, _ := json.Marshal(map[string]any{"allOrNone": false, "records": recs})
	url := v.srv.URL + "/services/data/v65.0/composite/sobjects"
	client := v.srv.Client()
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+v.token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		out, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || bytes.Contains(out, []byte(`"success":false`)) {
			b.Fatalf("%d %s", resp.StatusCode, out[:min(len(out), 300)])
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N*len(recs))/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkCollectionCreateParallel is BenchmarkCollectionCreate with
// GOMAXPROCS concurrent clients, as several pushers would send.
func BenchmarkCollectionCreateParallel(b *testing.B) {
	v := newAPIEnv(b, Config{DailyAPIRequests: 1 << 30})
	recs := make([]any, 200)
	for i := range recs {
		recs[i] = map[string]any{"attributes": map[string]any{"type": "Lead"},
			"FirstName": "Ada", "LastName": fmt.Sprintf("Lovelace %d", i), "Company": "Analytical Engines Ltd",
			"Email": fmt.Sprintf("ada%d@example.com", i), "Phone": "+44 20 7946 0000", "LeadSource": "Web"}
	}
	body, _ := json.Marshal(map[string]any{"allOrNone": false, "records": recs})
	url := v.srv.URL + "/services/data/v65.0/composite/sobjects"
	client := v.srv.Client()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+v.token)
			req.Header.Set("Content-Type", "application/json")
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N*len(recs))/b.Elapsed().Seconds(), "records/s")
}
