package mapping_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	forcesync "github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/mapping"
)

// leadWith compiles a Lead mapping whose rows fill the required fields with
// constants plus the given rows, matched by binding.
func leadWith(t testing.TB, rows ...forcesync.FieldRow) *mapping.Compiled {
	t.Helper()
	m := forcesync.Mapping{Name: "test", Source: "s", Object: "Lead", Match: forcesync.MatchRule{Kind: forcesync.MatchBinding},
		Fields: append([]forcesync.FieldRow{
			{Target: "LastName", Constant: "Doe", HasConstant: true},
			{Target: "Company", Constant: "Acme", HasConstant: true},
		}, rows...)}
	c, err := mapping.Compile(m, leadDescribe())
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	return c
}

func recordErr(t *testing.T, err error) *forcesync.RecordError {
	t.Helper()
	var re *forcesync.RecordError
	if err != nil && !errors.As(err, &re) {
		t.Fatalf("error %v is not a *forcesync.RecordError", err)
	}
	return re
}

func TestCoercion(t *testing.T) {
	long := strings.Repeat("é", 40000) // 2 bytes a character: counts in runes
	tests := []struct {
		name   string
		field  string
		in     any
		want   any    // value in Fields; absent when wantAbsent
		code   string // expected record error code
		warn   string // expected warning substring
		absent bool
	}{
		// text
		{name: "text as is", field: "Title", in: "CEO", want: "CEO"},
		{name: "number into text", field: "Title", in: 42.5, want: "42.5"},
		{name: "integer float into text", field: "Title", in: 1e6, want: "1000000"},
		{name: "json number into text", field: "Title", in: json.Number("12345678901234567890"), want: "12345678901234567890"},
		{name: "bool into text", field: "Title", in: true, want: "true"},
		{name: "object into text", field: "Title", in: map[string]any{"a": 1.0}, code: mapping.CodeInvalidType},
		{name: "list into text", field: "Title", in: []any{"a"}, code: mapping.CodeInvalidType},
		{name: "textarea truncated by runes", field: "Description", in: long, want: strings.Repeat("é", 32000),
			warn: "Description truncated from 40000 to 32000 characters"},
		{name: "multibyte within length", field: "FirstName", in: strings.Repeat("日", 40), want: strings.Repeat("日", 40)},
		{name: "multibyte over length", field: "FirstName", in: strings.Repeat("日", 41) + "x", want: strings.Repeat("日", 40),
			warn: "FirstName truncated from 42 to 40 characters"},
		{name: "emoji counted as one", field: "FirstName", in: strings.Repeat("😀", 41), want: strings.Repeat("😀", 40), warn: "truncated"},
		{name: "encrypted truncated", field: "Secret__c", in: strings.Repeat("s", 200), want: strings.Repeat("s", 175), warn: "truncated"},
		{name: "url too long refused", field: "Website", in: "https://x.example/" + strings.Repeat("a", 300), code: mapping.CodeStringTooLong},
		{name: "phone from number", field: "Phone", in: 5551234.0, want: "5551234"},
		{name: "blank text skipped", field: "Title", in: "   ", absent: true},
		{name: "nil skipped", field: "Title", in: nil, absent: true},
		// email
		{name: "email", field: "Email", in: "ann@example.com", want: "ann@example.com"},
		{name: "email trimmed", field: "Email", in: "  ann@example.com ", want: "ann@example.com"},
		{name: "email plus and subdomain", field: "Email", in: "a.b+tag@mail.example.co.uk", want: "a.b+tag@mail.example.co.uk"},
		{name: "email no at", field: "Email", in: "not an email", code: mapping.CodeInvalidEmail},
		{name: "email no dot in domain", field: "Email", in: "ann@localhost", code: mapping.CodeInvalidEmail},
		{name: "email two at", field: "Email", in: "a@b@c.com", code: mapping.CodeInvalidEmail},
		{name: "email space", field: "Email", in: "a nn@x.com", code: mapping.CodeInvalidEmail},
		{name: "email double dot", field: "Email", in: "a..b@x.com", code: mapping.CodeInvalidEmail},
		{name: "email number", field: "Email", in: 5.0, code: mapping.CodeInvalidEmail},
		{name: "email too long never cut", field: "Email", in: strings.Repeat("a", 80) + "@x.com", code: mapping.CodeStringTooLong},
		// picklists
		{name: "restricted picklist ok", field: "Status", in: "Working - Contacted", want: "Working - Contacted"},
		{name: "restricted picklist case fixed", field: "Status", in: "working - contacted", want: "Working - Contacted", warn: "sent as"},
		{name: "restricted picklist bad", field: "Status", in: "Hot", code: mapping.CodeRestrictedPicklist},
		{name: "unrestricted picklist any", field: "LeadSource", in: "Trade show", want: "Trade show"},
		{name: "picklist too long", field: "LeadSource", in: strings.Repeat("x", 256), code: mapping.CodeStringTooLong},
		{name: "multipicklist from list", field: "Interests__c", in: []any{"Forex", "Crypto"}, want: "Forex;Crypto"},
		{name: "multipicklist from text", field: "Interests__c", in: "Stocks; Forex;;Stocks", want: "Stocks;Forex"},
		{name: "multipicklist inactive value", field: "Interests__c", in: []any{"Bonds"}, code: mapping.CodeRestrictedPicklist},
		{name: "multipicklist empty list", field: "Interests__c", in: []any{}, absent: true},
		{name: "multipicklist nested object", field: "Interests__c", in: []any{map[string]any{}}, code: mapping.CodeInvalidType},
		// booleans
		{name: "bool true", field: "Verified__c", in: true, want: true},
		{name: "bool yes", field: "Verified__c", in: "Yes", want: true},
		{name: "bool 1 text", field: "Verified__c", in: "1", want: true},
		{name: "bool 1 number", field: "Verified__c", in: 1.0, want: true},
		{name: "bool 0 number", field: "Verified__c", in: 0.0, want: false},
		{name: "bool false text", field: "Verified__c", in: "false", want: false},
		{name: "bool no", field: "Verified__c", in: "NO", want: false},
		{name: "bool 2", field: "Verified__c", in: 2.0, code: mapping.CodeInvalidType},
		{name: "bool maybe", field: "Verified__c", in: "maybe", code: mapping.CodeInvalidType},
		// numbers
		{name: "int", field: "NumberOfEmployees", in: 250.0, want: json.Number("250")},
		{name: "int rounds half up", field: "NumberOfEmployees", in: 2.5, want: json.Number("3")},
		{name: "int rounds negative half away from zero", field: "NumberOfEmployees", in: -2.5, want: json.Number("-3")},
		{name: "int from text", field: "NumberOfEmployees", in: " 1200 ", want: json.Number("1200")},
		{name: "int max digits", field: "NumberOfEmployees", in: 99999999.0, want: json.Number("99999999")},
		{name: "int over digits", field: "NumberOfEmployees", in: 100000000.0, code: mapping.CodeNumberOutOfRange},
		{name: "int rounding overflows", field: "NumberOfEmployees", in: 99999999.5, code: mapping.CodeNumberOutOfRange},
		{name: "int not a number", field: "NumberOfEmployees", in: "abc", code: mapping.CodeInvalidType},
		{name: "int thousands separator refused", field: "NumberOfEmployees", in: "1,200", code: mapping.CodeInvalidType},
		{name: "int bool refused", field: "NumberOfEmployees", in: true, code: mapping.CodeInvalidType},
		{name: "currency scale 0", field: "AnnualRevenue", in: 1234567.49, want: json.Number("1234567")},
		{name: "currency 18 digits", field: "AnnualRevenue", in: json.Number("999999999999999999"), want: json.Number("999999999999999999")},
		{name: "currency 19 digits", field: "AnnualRevenue", in: json.Number("1000000000000000000"), code: mapping.CodeNumberOutOfRange},
		{name: "currency exponent", field: "AnnualRevenue", in: "1.5e6", want: json.Number("1500000")},
		{name: "currency huge exponent", field: "AnnualRevenue", in: "1e999999999", code: mapping.CodeNumberOutOfRange},
		{name: "double decimal half up", field: "Rating__c", in: 1.005, want: json.Number("1.01")},
		{name: "double text half up", field: "Rating__c", in: "2.675", want: json.Number("2.68")},
		{name: "double trailing zeros", field: "Rating__c", in: "12.50", want: json.Number("12.5")},
		{name: "double 3 integer digits max", field: "Rating__c", in: 999.994, want: json.Number("999.99")},
		{name: "double rounds out of range", field: "Rating__c", in: 999.995, code: mapping.CodeNumberOutOfRange},
		{name: "double tiny", field: "Rating__c", in: "1e-300", want: json.Number("0")},
		{name: "double negative zero", field: "Rating__c", in: "-0.001", want: json.Number("0")},
		{name: "percent", field: "Discount__c", in: 12.345, want: json.Number("12.35")},
		{name: "long", field: "Visits__c", in: json.Number("123456789012345678"), want: json.Number("123456789012345678")},
		{name: "long too long", field: "Visits__c", in: json.Number("1234567890123456789"), code: mapping.CodeNumberOutOfRange},
		// dates and datetimes
		{name: "date", field: "Signup_Date__c", in: "2024-05-01", want: "2024-05-01"},
		{name: "date from RFC3339 keeps its local date", field: "Signup_Date__c", in: "2024-05-01T23:30:00-05:00", want: "2024-05-01"},
		{name: "date from epoch seconds", field: "Signup_Date__c", in: 1714521600.0, want: "2024-05-01"},
		{name: "date garbage", field: "Signup_Date__c", in: "yesterday", code: mapping.CodeInvalidType},
		{name: "date out of Salesforce range", field: "Signup_Date__c", in: "0999-01-01", code: mapping.CodeInvalidType},
		{name: "date bool", field: "Signup_Date__c", in: true, code: mapping.CodeInvalidType},
		{name: "datetime RFC3339 to UTC", field: "Last_Login__c", in: "2024-05-01T14:30:00+02:00", want: "2024-05-01T12:30:00.000Z"},
		{name: "datetime Salesforce form", field: "Last_Login__c", in: "2024-05-01T12:30:00.000+0000", want: "2024-05-01T12:30:00.000Z"},
		{name: "datetime millis kept", field: "Last_Login__c", in: "2024-05-01T12:30:00.123Z", want: "2024-05-01T12:30:00.123Z"},
		{name: "datetime space no zone is UTC", field: "Last_Login__c", in: "2024-05-01 12:30:00", want: "2024-05-01T12:30:00.000Z"},
		{name: "datetime from date", field: "Last_Login__c", in: "2024-05-01", want: "2024-05-01T00:00:00.000Z"},
		{name: "datetime epoch seconds", field: "Last_Login__c", in: 1714566600.0, want: "2024-05-01T12:30:00.000Z"},
		{name: "datetime epoch seconds text", field: "Last_Login__c", in: "1714566600", want: "2024-05-01T12:30:00.000Z"},
		{name: "datetime epoch millis", field: "Last_Login__c", in: 1714566600123.0, want: "2024-05-01T12:30:00.123Z"},
		{name: "datetime garbage", field: "Last_Login__c", in: "soon", code: mapping.CodeInvalidType},
		{name: "time", field: "Call_Time__c", in: "09:15", want: "09:15:00.000Z"},
		{name: "time with seconds", field: "Call_Time__c", in: "09:15:30", want: "09:15:30.000Z"},
		{name: "time garbage", field: "Call_Time__c", in: "9 o'clock", code: mapping.CodeInvalidType},
		// ids
		{name: "reference 18", field: "Partner__c", in: "001000000000001AAA", want: "001000000000001AAA"},
		{name: "reference 15 gains suffix", field: "Partner__c", in: "001D000000IqhSL", want: "001D000000IqhSLIAZ"},
		{name: "reference malformed", field: "Partner__c", in: "001-bad", code: mapping.CodeMalformedID},
		{name: "reference number", field: "Partner__c", in: 12.0, code: mapping.CodeMalformedID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := leadWith(t, forcesync.FieldRow{Target: tt.field, SourceField: "v"})
			p, err := c.Payload(map[string]any{"v": tt.in}, true)
			re := recordErr(t, err)
			if tt.code != "" {
				if re == nil {
					t.Fatalf("got %#v, want error %s", p.Fields[tt.field], tt.code)
				}
				if re.Code != tt.code || len(re.Fields) != 1 || re.Fields[0] != tt.field {
					t.Fatalf("got %s %v (%s), want %s on %s", re.Code, re.Fields, re.Message, tt.code, tt.field)
				}
				return
			}
			if re != nil {
				t.Fatalf("unexpected error %v", re)
			}
			got, ok := p.Fields[tt.field]
			if tt.absent {
				if ok {
					t.Fatalf("got %#v, want the field left out", got)
				}
				return
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Fatalf("value (-want +got):\n%s", diff)
			}
			w := strings.Join(p.Warnings, "\n")
			if tt.warn == "" && w != "" || !strings.Contains(w, tt.warn) {
				t.Fatalf("warnings %q, want %q", w, tt.warn)
			}
		})
	}
}

func TestClearsDefaultsAndRequired(t *testing.T) {
	c := leadWith(t,
		forcesync.FieldRow{Target: "Title", SourceField: "title", ClearWhenEmpty: true},
		forcesync.FieldRow{Target: "FirstName", SourceField: "first", Default: "Friend"},
		forcesync.FieldRow{Target: "Phone", SourceField: "phone"},
	)
	p, err := c.Payload(map[string]any{"title": "", "phone": nil}, false)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"LastName": "Doe", "Company": "Acme", "Title": nil, "FirstName": "Friend"}
	if diff := cmp.Diff(want, p.Fields); diff != "" {
		t.Fatalf("update fields (-want +got):\n%s", diff)
	}
	// On create a clear is pointless: nothing to clear, so nothing is sent.
	p, err = c.Payload(map[string]any{"title": ""}, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := p.Fields["Title"]; ok {
		t.Fatalf("create sent Title=nil: %v", p.Fields)
	}
	if p.Fingerprint == p.UpdateFingerprint {
		t.Fatal("update fingerprint should include the clear the create omits")
	}

	// Required fields: LastName from the record, default when empty, else a
	// local REQUIRED_FIELD_MISSING naming every missing field.
	m := forcesync.Mapping{Name: "req", Source: "s", Object: "Lead", Match: forcesync.MatchRule{Kind: forcesync.MatchBinding},
		Fields: []forcesync.FieldRow{
			{Target: "LastName", SourceField: "last"},
			{Target: "Company", SourceField: "company"},
		}}
	c2, err := mapping.Compile(m, leadDescribe())
	if err != nil {
		t.Fatal(err)
	}
	_, err = c2.Payload(map[string]any{"last": " "}, true)
	re := recordErr(t, err)
	if re == nil || re.Code != mapping.CodeRequiredFieldMissing || !cmp.Equal(re.Fields, []string{"LastName", "Company"}) {
		t.Fatalf("got %v, want REQUIRED_FIELD_MISSING [LastName Company]", err)
	}
	if re.Message != "Required fields are missing: [LastName, Company]" {
		t.Fatalf("message %q", re.Message)
	}
	// An update need not carry required fields: empty values are left alone.
	p, err = c2.Payload(map[string]any{"last": "Doe"}, false)
	if err != nil || !cmp.Equal(p.Fields, map[string]any{"LastName": "Doe"}) {
		t.Fatalf("update: %v %v", p.Fields, err)
	}
	m.Fields[0].Default, m.Fields[1].Default = "Undefined", "Unknown company"
	c3, err := mapping.Compile(m, leadDescribe())
	if err != nil {
		t.Fatal(err)
	}
	p, err = c3.Payload(map[string]any{}, true)
	if err != nil || !cmp.Equal(p.Fields, map[string]any{"LastName": "Undefined", "Company": "Unknown company"}) {
		t.Fatalf("defaults: %v %v", p.Fields, err)
	}
}

func TestOnCreateRowsAndFingerprints(t *testing.T) {
	c := leadWith(t,
		forcesync.FieldRow{Target: "LeadSource", Constant: "Web", HasConstant: true, On: forcesync.OnCreate},
		forcesync.FieldRow{Target: "Title", SourceField: "title"},
	)
	rec := map[string]any{"title": "CTO"}
	cr, err := c.Payload(rec, true)
	if err != nil {
		t.Fatal(err)
	}
	up, err := c.Payload(rec, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := up.Fields["LeadSource"]; ok {
		t.Fatal("on: create row sent on update")
	}
	if cr.Fields["LeadSource"] != "Web" {
		t.Fatalf("create lacks LeadSource: %v", cr.Fields)
	}
	if cr.Fingerprint == up.Fingerprint {
		t.Fatal("create and update payloads differ, so must their fingerprints")
	}
	if cr.UpdateFingerprint != up.Fingerprint || up.UpdateFingerprint != up.Fingerprint {
		t.Fatal("UpdateFingerprint of a create must equal the update payload's fingerprint")
	}
	// Stable: the same record gives the same print, however its map was built.
	again, _ := c.Payload(map[string]any{"title": "CTO", "unused": 1.0}, false)
	if again.Fingerprint != up.Fingerprint {
		t.Fatal("fingerprint not stable")
	}
	changed, _ := c.Payload(map[string]any{"title": "CEO"}, false)
	if changed.Fingerprint == up.Fingerprint {
		t.Fatal("fingerprint ignores a changed value")
	}
	// A number written two ways is one value.
	n := leadWith(t, forcesync.FieldRow{Target: "Rating__c", SourceField: "r"})
	a, _ := n.Payload(map[string]any{"r": 1.5}, true)
	b, _ := n.Payload(map[string]any{"r": "1.50"}, true)
	if a.Fingerprint != b.Fingerprint {
		t.Fatal("1.5 and \"1.50\" fingerprint differently")
	}
}

func TestValueMapsFirstOfExpressions(t *testing.T) {
	c := leadWith(t,
		forcesync.FieldRow{Target: "Client_Status__c", SourceField: "status",
			ValueMap: map[string]string{"1": "Active", "2": "Dormant", "closed": "Closed"}},
		forcesync.FieldRow{Target: "Interests__c", SourceField: "tags",
			ValueMap: map[string]string{"fx": "Forex", "btc": "Crypto"}},
		forcesync.FieldRow{Target: "Title", FirstOf: []string{"job.title", "role", "'Member'"}},
		forcesync.FieldRow{Target: "Description", Expr: `"Score " + str(score) + " from " + coalesce(src, "web")`},
	)
	p, err := c.Payload(map[string]any{"status": 2.0, "tags": []any{"fx", "btc", "Stocks"}, "role": "Trader", "score": 72.0}, true)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"LastName": "Doe", "Company": "Acme", "Client_Status__c": "Dormant",
		"Interests__c": "Forex;Crypto;Stocks", "Title": "Trader", "Description": "Score 72 from web"}
	if diff := cmp.Diff(want, p.Fields); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
	p, err = c.Payload(map[string]any{"job": map[string]any{"title": "Head of FX"}, "role": "Trader"}, true)
	if err != nil || p.Fields["Title"] != "Head of FX" {
		t.Fatalf("dot path: %v %v", p.Fields, err)
	}
	p, err = c.Payload(map[string]any{}, true)
	if err != nil || p.Fields["Title"] != "Member" || p.Fields["Description"] != "Score  from web" {
		t.Fatalf("fallback constant: %v %v", p.Fields, err)
	}
	// An unmapped value passes through and meets the restricted picklist.
	_, err = c.Payload(map[string]any{"status": 9.0}, true)
	if re := recordErr(t, err); re == nil || re.Code != mapping.CodeRestrictedPicklist {
		t.Fatalf("got %v, want restricted picklist error", err)
	}
	// An expression that fails on a record is a record error, not a panic.
	bad := leadWith(t, forcesync.FieldRow{Target: "Title", Expr: `name.first + 1`})
	_, err = bad.Payload(map[string]any{"name": "x"}, true)
	if re := recordErr(t, err); re == nil || re.Code != mapping.CodeExpressionError {
		t.Fatalf("got %v, want EXPRESSION_ERROR", err)
	}
}

func TestFilter(t *testing.T) {
	m := forcesync.Mapping{Name: "f", Source: "s", Object: "Lead", Filter: `(score ?? 0) >= 50 && !blank(email)`,
		Match:  forcesync.MatchRule{Kind: forcesync.MatchBinding},
		Fields: []forcesync.FieldRow{{Target: "LastName", Constant: "x", HasConstant: true}, {Target: "Company", Constant: "y", HasConstant: true}}}
	c, err := mapping.Compile(m, leadDescribe())
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		rec  map[string]any
		want bool
	}{
		{map[string]any{"score": 50.0, "email": "a@b.co"}, true},
		{map[string]any{"score": 49.0, "email": "a@b.co"}, false},
		{map[string]any{"email": "a@b.co"}, false},
		{map[string]any{"score": 90.0, "email": ""}, false},
		{nil, false},
	} {
		got, err := c.Filter(tt.rec)
		if err != nil || got != tt.want {
			t.Errorf("Filter(%v) = %v, %v; want %v", tt.rec, got, err, tt.want)
		}
	}
	m.Filter = "score >= 50"
	c, _ = mapping.Compile(m, leadDescribe())
	_, err = c.Filter(map[string]any{"score": "high"})
	if re := recordErr(t, err); re == nil || re.Code != mapping.CodeExpressionError {
		t.Fatalf("got %v, want EXPRESSION_ERROR", err)
	}
}

func TestTemplate(t *testing.T) {
	src, err := mapping.Template("Lead from {{ source }}: score {{ score }}, \"{{ coalesce(note, 'none') }}\"\n")
	if err != nil {
		t.Fatal(err)
	}
	c := leadWith(t, forcesync.FieldRow{Target: "Description", Expr: src})
	p, err := c.Payload(map[string]any{"source": "CMS", "score": 80.0}, true)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Fields["Description"]; got != "Lead from CMS: score 80, \"none\"\n" {
		t.Fatalf("got %q", got)
	}
	for _, bad := range []string{"{{ a ", "{{ }}", "{{ a + }}", "x\xff"} {
		if _, err := mapping.Template(bad); err == nil {
			t.Errorf("Template(%q) accepted", bad)
		}
	}
	if src, err := mapping.Template("plain"); err != nil || src != `"plain"` {
		t.Fatalf("plain: %q %v", src, err)
	}
}
