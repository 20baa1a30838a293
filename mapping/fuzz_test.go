package mapping_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	forcesync "github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/mapping"
)

// everyType maps a source field onto every writable type of the Lead
// describe, through each kind of row.
func everyType(t testing.TB) *mapping.Compiled {
	t.Helper()
	m := forcesync.Mapping{Name: "fuzz", Source: "s", Object: "Lead", Filter: `blank(skip)`,
		Match: forcesync.MatchRule{Kind: forcesync.MatchExternalID, Field: "Forcesync_Key__c"},
		Fields: []forcesync.FieldRow{
			{Target: "LastName", FirstOf: []string{"last", "name.last", "'Undefined'"}},
			{Target: "Company", SourceField: "company", Default: "Acme", On: forcesync.OnCreate},
			{Target: "FirstName", SourceField: "first", ClearWhenEmpty: true},
			{Target: "Email", SourceField: "email"},
			{Target: "Phone", SourceField: "phone"},
			{Target: "Description", Expr: `"Note: " + str(note) + str(first)`},
			{Target: "Status", SourceField: "status", ValueMap: map[string]string{"1": "Working - Contacted"}},
			{Target: "LeadSource", SourceField: "source"},
			{Target: "NumberOfEmployees", SourceField: "employees"},
			{Target: "AnnualRevenue", SourceField: "revenue"},
			{Target: "Rating__c", SourceField: "rating"},
			{Target: "Discount__c", SourceField: "discount"},
			{Target: "Visits__c", SourceField: "visits"},
			{Target: "Verified__c", SourceField: "verified"},
			{Target: "Signup_Date__c", SourceField: "signup"},
			{Target: "Last_Login__c", SourceField: "login"},
			{Target: "Call_Time__c", SourceField: "call"},
			{Target: "Website", SourceField: "web"},
			{Target: "Secret__c", SourceField: "secret"},
			{Target: "Partner__c", SourceField: "partner"},
			{Target: "Interests__c", SourceField: "interests"},
			{Target: "Title", SourceField: "title"},
		}}
	c, err := mapping.Compile(m, leadDescribe())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// FuzzPayload: no JSON record makes Filter or Payload panic; every error is
// a *forcesync.RecordError, and every payload encodes as JSON.
func FuzzPayload(f *testing.F) {
	f.Add(`{"last":"Doe","email":"a@b.co","employees":12,"rating":"1.005","verified":"yes","signup":"2024-05-01","interests":["Forex"]}`, true)
	f.Add(`{"revenue":1e308,"rating":-0.0,"visits":"9e9999","login":1e300,"partner":"001D000000IqhSL","call":"25:99"}`, false)
	f.Add(`{"name":{"last":["x"]},"status":1,"first":{"a":null},"title":[[]],"note":"\u0000\ud800"}`, true)
	f.Add(`{"signup":-62135596800,"login":"-1e2","employees":"-2147483648.5","discount":"1e-9999"}`, true)
	c := everyType(f)
	f.Fuzz(func(t *testing.T, rec string, create bool) {
		var fields map[string]any
		d := json.NewDecoder(bytesReader(rec))
		if len(rec)%2 == 0 {
			d.UseNumber()
		}
		if d.Decode(&fields) != nil {
			return
		}
		if _, err := c.Filter(fields); err != nil {
			var re *forcesync.RecordError
			if !errors.As(err, &re) {
				t.Fatalf("filter error %T %v", err, err)
			}
		}
		p, err := c.PayloadFor("k1", fields, create)
		if err != nil {
			var re *forcesync.RecordError
			if !errors.As(err, &re) || re.Code == "" {
				t.Fatalf("payload error %T %v", err, err)
			}
			return
		}
		if _, err := json.Marshal(p.Fields); err != nil {
			t.Fatalf("payload not JSON: %v", err)
		}
		if p.Fingerprint == "" || p.ExternalID != "k1" {
			t.Fatalf("payload %+v", p)
		}
	})
}

func BenchmarkPayload(b *testing.B) {
	c := everyType(b)
	var fields map[string]any
	rec := `{"last":"Doe","first":"Jane","email":"jane@example.com","phone":"+1 555 0100","note":"likes forex",
		"status":1,"source":"Web","employees":120,"revenue":1500000.5,"rating":4.25,"discount":12.5,"visits":42,
		"verified":"yes","signup":"2024-05-01","login":"2024-05-01T12:30:00Z","web":"https://example.com",
		"interests":["Forex","Crypto"],"title":"CTO","company":"Globex"}`
	if err := json.Unmarshal([]byte(rec), &fields); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.PayloadFor("k1", fields, true); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFilter(b *testing.B) {
	c := everyType(b)
	fields := map[string]any{"skip": "", "last": "Doe"}
	b.ReportAllocs()
	for b.Loop() {
		if ok, err := c.Filter(fields); err != nil || !ok {
			b.Fatal(ok, err)
		}
	}
}

func bytesReader(s string) *strings.Reader { return strings.NewReader(s) }
