package soql

import (
	"fmt"
	"testing"
	"time"
)

// benchRows builds n Leads with varied values.
func benchRows(n int) []*fakeRow {
	owner := &fakeRow{vals: map[string]any{"Id": "005000000000001AAA", "Name": "Owner"}}
	rows := make([]*fakeRow, n)
	base := ts("2024-01-01T00:00:00Z")
	for i := range rows {
		v := map[string]any{
			"Id":                fmt.Sprintf("00Q%012dAAA", i),
			"LastName":          fmt.Sprintf("Name%d", i),
			"Company":           fmt.Sprintf("Company %d", i%1000),
			"Email":             fmt.Sprintf("user%d@example%d.com", i, i%7),
			"Status":            []string{"Open", "Working", "Closed"}[i%3],
			"NumberOfEmployees": float64(i % 500),
			"IsConverted":       i%10 == 0,
			"SystemModstamp":    base.Add(time.Duration(i) * time.Minute),
		}
		rows[i] = &fakeRow{vals: v, parents: map[string]*fakeRow{"OwnerId": owner}}
	}
	return rows
}

// BenchmarkWhere100k runs a typical sync query's WHERE over 100,000 Leads.
func BenchmarkWhere100k(b *testing.B) {
	rows := benchRows(100_000)
	q := "SELECT Id, LastName, Email FROM Lead WHERE SystemModstamp > 2024-02-01T00:00:00Z AND IsConverted = false AND (Email LIKE '%@example3.com' OR Status IN ('Working', 'Closed')) AND NumberOfEmployees >= 10"
	ast, err := Parse(q)
	if err != nil {
		b.Fatal(err)
	}
	p, err := Compile(q, ast, newFakeSchema(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	matched := 0
	for b.Loop() {
		matched = len(p.Select(seqOf(rows)))
	}
	b.ReportMetric(float64(len(rows))*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(matched), "matched")
}

// BenchmarkOrderBy100k sorts 100,000 Leads by SystemModstamp DESC, Id.
func BenchmarkOrderBy100k(b *testing.B) {
	rows := benchRows(100_000)
	q := "SELECT Id FROM Lead ORDER BY SystemModstamp DESC, Id LIMIT 2000"
	ast, _ := Parse(q)
	p, err := Compile(q, ast, newFakeSchema(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		p.Select(seqOf(rows))
	}
	b.ReportMetric(float64(len(rows))*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
