package mapping_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	forcesync "github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/mapping"
)

func TestCompileErrors(t *testing.T) {
	base := func() forcesync.Mapping {
		return forcesync.Mapping{Name: "m", Source: "s", Object: "Lead", Match: forcesync.MatchRule{Kind: forcesync.MatchBinding},
			Fields: []forcesync.FieldRow{
				{Target: "LastName", SourceField: "last"},
				{Target: "Company", Constant: "Acme", HasConstant: true},
			}}
	}
	row := func(r forcesync.FieldRow) func(*forcesync.Mapping) {
		return func(m *forcesync.Mapping) { m.Fields = append(m.Fields, r) }
	}
	tests := []struct {
		name   string
		change func(*forcesync.Mapping)
		want   string
	}{
		{"unknown field", row(forcesync.FieldRow{Target: "Nope__c", SourceField: "x"}), "mapping m: field Lead.Nope__c: no such field on Lead"},
		{"constant into number", row(forcesync.FieldRow{Target: "NumberOfEmployees", Constant: "abc", HasConstant: true}),
			"mapping m: field Lead.NumberOfEmployees: value abc: value not of required type: abc"},
		{"constant out of range", row(forcesync.FieldRow{Target: "NumberOfEmployees", Constant: json.Number("123456789"), HasConstant: true}),
			"mapping m: field Lead.NumberOfEmployees: value 123456789: value outside of valid range on numeric field: 123456789"},
		{"constant outside restricted picklist", row(forcesync.FieldRow{Target: "Status", Constant: "Hot", HasConstant: true}),
			"mapping m: field Lead.Status: value Hot: bad value for restricted picklist field: Hot"},
		{"value map outside restricted picklist", row(forcesync.FieldRow{Target: "Status", SourceField: "st", ValueMap: map[string]string{"1": "Open"}}),
			`mapping m: field Lead.Status: map "1" -> "Open": bad value for restricted picklist field: Open`},
		{"default that cannot fit", row(forcesync.FieldRow{Target: "Email", SourceField: "e", Default: "nobody"}),
			"mapping m: field Lead.Email: default nobody: invalid email address: nobody"},
		{"first_of constant that cannot fit", row(forcesync.FieldRow{Target: "Signup_Date__c", FirstOf: []string{"d", "'someday'"}}),
			"mapping m: field Lead.Signup_Date__c: first_of constant someday: value not of required type: someday"},
		{"typed expression mismatch", row(forcesync.FieldRow{Target: "Signup_Date__c", Expr: `score > 3`}),
			"mapping m: field Lead.Signup_Date__c: expression gives a bool, which a date field cannot take"},
		{"text expression into a boolean", row(forcesync.FieldRow{Target: "Verified__c", Expr: `kyc == 'ok' ? 'yes' : 'no'`}),
			"mapping m: field Lead.Verified__c: expression gives text, which a boolean field cannot take"},
		{"bad expression", row(forcesync.FieldRow{Target: "Title", Expr: `a +`}), "mapping m: field Lead.Title: expression \"a +\": unexpected token EOF"},
		{"bad filter", func(m *forcesync.Mapping) { m.Filter = "score >" }, `mapping m: filter "score >": unexpected token EOF`},
		{"calculated", row(forcesync.FieldRow{Target: "Score_Band__c", SourceField: "x"}), "Score_Band__c: is calculated by Salesforce"},
		{"unsupported type", row(forcesync.FieldRow{Target: "Address", SourceField: "x"}), "Lead.Address: type address cannot be written"},
		{"not createable", row(forcesync.FieldRow{Target: "IsConverted", Constant: true, HasConstant: true}), "Lead.IsConverted: is not createable"},
		{"not updateable", row(forcesync.FieldRow{Target: "Origin__c", SourceField: "o"}),
			"Lead.Origin__c: is not updateable; use on: create, mode: once or operations.update: false"},
		{"required field missing", func(m *forcesync.Mapping) { m.Fields = m.Fields[:1] },
			"mapping m: Lead requires Company on create: add a field row"},
		{"external id not external", func(m *forcesync.Mapping) {
			m.Match = forcesync.MatchRule{Kind: forcesync.MatchExternalID, Field: "Title"}
		}, "Lead.Title: cannot match by it: not an External ID (externalId or idLookup)"},
		{"external id missing", func(m *forcesync.Mapping) {
			m.Match = forcesync.MatchRule{Kind: forcesync.MatchExternalID, Field: "Key__c"}
		}, "Lead.Key__c: no such field on Lead (match external_id)"},
		{"match field not filterable", func(m *forcesync.Mapping) {
			m.Match = forcesync.MatchRule{Kind: forcesync.MatchFields, Fields: []string{"Description"}}
		}, "Lead.Description: cannot match by it: not filterable in SOQL"},
		{"match field without row", func(m *forcesync.Mapping) {
			m.Match = forcesync.MatchRule{Kind: forcesync.MatchFields, Fields: []string{"Email"}}
		}, "Lead.Email: match field has no field row to take its value from"},
		{"clear on non-nillable", func(m *forcesync.Mapping) { m.Fields[0].ClearWhenEmpty = true },
			"Lead.LastName: clear_when_empty on a field that cannot be empty"},
		{"on create without create", func(m *forcesync.Mapping) {
			m.Operations.NoCreate = true
			m.Fields[1].On = forcesync.OnCreate
		}, "Lead.Company: on: create, but the mapping never creates"},
		{"domain validation", func(m *forcesync.Mapping) { m.BatchSize = 300 }, "mapping m: batch_size 300 is outside 1..200"},
		{"disable write to unknown field", func(m *forcesync.Mapping) { m.Operations.DisableWrites = map[string]any{"Nope__c": 1} },
			"Lead.Nope__c: disable_with: no such field on Lead"},
		{"disable write outside picklist", func(m *forcesync.Mapping) { m.Operations.DisableWrites = map[string]any{"Status": "Gone"} },
			"Lead.Status: disable_with Gone: bad value for restricted picklist field: Gone"},
		{"disable write not updateable", func(m *forcesync.Mapping) { m.Operations.DisableWrites = map[string]any{"Origin__c": "x"} },
			"Lead.Origin__c: disable_with: the field cannot be updated"},
		{"bad disable_when", func(m *forcesync.Mapping) { m.Operations.DisableWhen = "a ==" }, `disable_when "a =="`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := base()
			tt.change(&m)
			_, err := mapping.Compile(m, leadDescribe())
			if err == nil {
				t.Fatal("compiled")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error:\n%s\nwant it to contain:\n%s", err, tt.want)
			}
			var ce *mapping.CompileError
			if !errors.As(err, &ce) || forcesync.ErrorCode(err) != forcesync.EInvalid {
				t.Fatalf("not a CompileError with code invalid: %T %q", err, forcesync.ErrorCode(err))
			}
		})
	}
	// Every problem is listed at once.
	m := base()
	m.Fields = append(m.Fields[:1], forcesync.FieldRow{Target: "Nope", SourceField: "x"})
	_, err := mapping.Compile(m, leadDescribe())
	var ce *mapping.CompileError
	if !errors.As(err, &ce) || len(ce.Problems) != 2 {
		t.Fatalf("want 2 problems, got %v", err)
	}
	// Mode once: an always row on a non-updateable field is fine.
	m = base()
	m.Mode = forcesync.Once
	m.Fields = append(m.Fields, forcesync.FieldRow{Target: "Origin__c", SourceField: "o"})
	if _, err := mapping.Compile(m, leadDescribe()); err != nil {
		t.Fatalf("mode once: %v", err)
	}
}

// TestTypeCompatibility is the table of row value type x Salesforce type:
// constants and typed expressions are checked before any record; text read
// from records is checked per record (covered by TestCoercion).
func TestTypeCompatibility(t *testing.T) {
	fields := []string{"Verified__c", "AnnualRevenue", "Signup_Date__c", "Last_Login__c", "Email", "NumberOfEmployees",
		"Rating__c", "Visits__c", "Discount__c", "Phone", "Status", "Interests__c", "Title", "Description", "Secret__c",
		"Website", "Partner__c", "Call_Time__c"}
	values := []struct {
		name string
		row  forcesync.FieldRow
		ok   map[string]bool // fields that accept it; the rest refuse
	}{
		{"const text", forcesync.FieldRow{Constant: "abc", HasConstant: true},
			set("Title", "Description", "Secret__c", "Phone", "Website")},
		{"const numeric text", forcesync.FieldRow{Constant: "12", HasConstant: true},
			set("AnnualRevenue", "NumberOfEmployees", "Rating__c", "Visits__c", "Discount__c", "Title", "Description", "Secret__c",
				"Phone", "Website", "Signup_Date__c", "Last_Login__c")},
		{"const number", forcesync.FieldRow{Constant: json.Number("1"), HasConstant: true},
			set("Verified__c", "AnnualRevenue", "NumberOfEmployees", "Rating__c", "Visits__c", "Discount__c", "Title",
				"Description", "Secret__c", "Phone", "Website", "Signup_Date__c", "Last_Login__c")},
		{"const bool", forcesync.FieldRow{Constant: true, HasConstant: true},
			set("Verified__c", "Title", "Description", "Secret__c", "Phone", "Website")},
		{"const list", forcesync.FieldRow{Constant: []any{"Forex", "Crypto"}, HasConstant: true}, set("Interests__c")},
		{"const email", forcesync.FieldRow{Constant: "a@b.co", HasConstant: true},
			set("Email", "Title", "Description", "Secret__c", "Phone", "Website")},
		{"const date", forcesync.FieldRow{Constant: "2024-05-01", HasConstant: true},
			set("Signup_Date__c", "Last_Login__c", "Title", "Description", "Secret__c", "Phone", "Website")},
		{"const id", forcesync.FieldRow{Constant: "001000000000001AAA", HasConstant: true},
			set("Partner__c", "Title", "Description", "Secret__c", "Phone", "Website")},
		{"const time", forcesync.FieldRow{Constant: "10:30", HasConstant: true},
			set("Call_Time__c", "Title", "Description", "Secret__c", "Phone", "Website")},
		{"expr bool", forcesync.FieldRow{Expr: "score > 3"},
			set("Verified__c", "Title", "Description", "Secret__c", "Phone", "Website", "Status", "Interests__c")},
		{"expr number", forcesync.FieldRow{Expr: "len(name) * 2"},
			set("Verified__c", "AnnualRevenue", "NumberOfEmployees", "Rating__c", "Visits__c", "Discount__c", "Title",
				"Description", "Secret__c", "Phone", "Website", "Signup_Date__c", "Last_Login__c", "Status", "Interests__c")},
		{"expr text", forcesync.FieldRow{Expr: "upper(name)"}, set(fields[1:]...)}, // not Verified__c, a boolean
		{"expr unknown", forcesync.FieldRow{Expr: "name"}, set(fields...)},
		{"source field", forcesync.FieldRow{SourceField: "x"}, set(fields...)},
	}
	for _, v := range values {
		for _, f := range fields {
			r := v.row
			r.Target = f
			m := forcesync.Mapping{Name: "m", Source: "s", Object: "Lead", Match: forcesync.MatchRule{Kind: forcesync.MatchBinding},
				Fields: []forcesync.FieldRow{{Target: "LastName", SourceField: "l"}, {Target: "Company", SourceField: "c"}, r}}
			_, err := mapping.Compile(m, leadDescribe())
			if got := err == nil; got != v.ok[f] {
				t.Errorf("%s -> %s: ok=%v, want %v (%v)", v.name, f, got, v.ok[f], err)
			}
		}
	}
}

func set(names ...string) map[string]bool {
	m := map[string]bool{}
	for _, n := range names {
		m[n] = true
	}
	return m
}

func TestVersion(t *testing.T) {
	m := forcesync.Mapping{Name: "m", Source: "s", Object: "Lead", Match: forcesync.MatchRule{Kind: forcesync.MatchBinding},
		Fields: []forcesync.FieldRow{{Target: "LastName", SourceField: "l"}, {Target: "Company", SourceField: "c"}}}
	a, _ := mapping.Compile(m, leadDescribe())
	b, _ := mapping.Compile(m, leadDescribe())
	d := leadDescribe()
	d.Field("LastName").Length = 100
	c, _ := mapping.Compile(m, d)
	m.Filter = "true"
	e, _ := mapping.Compile(m, leadDescribe())
	if a.Version() != b.Version() || a.Version() == c.Version() || a.Version() == e.Version() {
		t.Fatal("Version must follow the mapping and the describe, and only them")
	}
}

// The fingerprint is the SHA-256 of the payload's canonical JSON: exactly
// what encoding/json writes for the map.
func TestFingerprintIsCanonicalJSON(t *testing.T) {
	c := leadWith(t, forcesync.FieldRow{Target: "Title", SourceField: "t"}, forcesync.FieldRow{Target: "Rating__c", SourceField: "r"},
		forcesync.FieldRow{Target: "Verified__c", SourceField: "v"}, forcesync.FieldRow{Target: "FirstName", SourceField: "f", ClearWhenEmpty: true})
	p, err := c.Payload(map[string]any{"t": "Ünïcode \"q\" <a&b>\n\t\r\x01 \u2028 \xff", "r": "2.50", "v": "no"}, false)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(p.Fields)
	sum := sha256.Sum256(b)
	if want := hex.EncodeToString(sum[:]); p.Fingerprint != want {
		t.Fatalf("fingerprint %s of %s, want %s", p.Fingerprint, b, want)
	}
}
