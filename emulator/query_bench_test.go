package emulator

import (
	"fmt"
	"net/url"
	"testing"
)

// seedBenchLeads inserts n Leads with varied values.
func seedBenchLeads(b *testing.B, v *queryEnv, n int) {
	b.Helper()
	statuses := []string{"Open - Not Contacted", "Working - Contacted", "Closed - Not Converted"}
	const chunk = 5000
	for start := 0; start < n; start += chunk {
		recs := make([]map[string]any, 0, chunk)
		for i := start; i < min(n, start+chunk); i++ {
			recs = append(recs, map[string]any{
				"LastName": fmt.Sprintf("Name%d", i), "Company": fmt.Sprintf("Company %d", i%1000),
				"Email": fmt.Sprintf("user%d@example%d.com", i, i%7), "Status": statuses[i%3],
				"NumberOfEmployees": i % 500,
			})
		}
		if _, err := v.e.Seed("Lead", recs); err != nil {
			b.Fatal(err)
		}
	}
}

const benchWhere = "SELECT Id, LastName, Email FROM Lead WHERE IsConverted = false AND (Email LIKE '%@example3.com' OR Status IN ('Working - Contacted', 'Closed - Not Converted')) AND NumberOfEmployees >= 10"

// BenchmarkQueryWhere100k compiles and runs a WHERE over 100,000 Leads in
// the store (no HTTP, no rendering).
func BenchmarkQueryWhere100k(b *testing.B) {
	v := newQueryEnv(b)
	seedBenchLeads(b, v, 100_000)
	b.ReportAllocs()
	b.ResetTimer()
	matched := 0
	for b.Loop() {
		v.e.mu.RLock()
		res, qerr := v.e.execQueryLocked(benchWhere, false)
		v.e.mu.RUnlock()
		if qerr != nil {
			b.Fatal(qerr)
		}
		matched = len(res.records)
	}
	b.ReportMetric(100_000*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(matched), "matched")
}

// BenchmarkQueryHTTPCount100k is the same WHERE as COUNT() over HTTP.
func BenchmarkQueryHTTPCount100k(b *testing.B) {
	v := newQueryEnv(b)
	seedBenchLeads(b, v, 100_000)
	path := "/services/data/v65.0/query?q=" + url.QueryEscape("SELECT COUNT() FROM Lead WHERE IsConverted = false AND (Email LIKE '%@example3.com' OR Status IN ('Working - Contacted', 'Closed - Not Converted')) AND NumberOfEmployees >= 10")
	b.ResetTimer()
	for b.Loop() {
		if st, body := v.get(path); st != 200 {
			b.Fatalf("%d %s", st, body)
		}
	}
	b.ReportMetric(100_000*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkQueryFirstPage100k renders the first 2,000-record page of a
// WHERE over 100,000 Leads over HTTP.
func BenchmarkQueryFirstPage100k(b *testing.B) {
	v := newQueryEnv(b)
	seedBenchLeads(b, v, 100_000)
	path := "/services/data/v65.0/query?q=" + url.QueryEscape(benchWhere)
	b.ResetTimer()
	for b.Loop() {
		if st, body := v.get(path); st != 200 {
			b.Fatalf("%d %s", st, body)
		}
	}
}
