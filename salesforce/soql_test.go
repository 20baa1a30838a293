package salesforce

import (
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"pgregory.net/rapid"
)

func leadDescribe() *SObjectDescribe {
	return &SObjectDescribe{Name: "Lead", Fields: []Field{
		{Name: "Id", Type: "id"},
		{Name: "LastName", Type: "string", Length: 80},
		{Name: "Email", Type: "email", Length: 80},
		{Name: "CreatedDate", Type: "datetime"},
		{Name: "SystemModstamp", Type: "datetime"},
		{Name: "Birthday__c", Type: "date"},
		{Name: "NumberOfEmployees", Type: "int"},
		{Name: "IsConverted", Type: "boolean"},
		{Name: "OwnerId", Type: "reference", RelationshipName: "Owner", ReferenceTo: []string{"User", "Group"}},
	}}
}

func TestQuoteString(t *testing.T) {
	cases := []struct{ in, want string }{
		{"plain", `'plain'`},
		{"O'Brien", `'O\'Brien'`},
		{`back\slash`, `'back\\slash'`},
		{`\'`, `'\\\''`},
		{"a\nb\rc\td\be\ff", `'a\nb\rc\td\be\ff'`},
		{`say "hi"`, `'say \"hi\"'`},
		{"100%_", `'100%_'`},
		{"", `''`},
		{"ünï ☃", `'ünï ☃'`},
	}
	for _, c := range cases {
		got, err := QuoteString(c.in)
		if err != nil || got != c.want {
			t.Errorf("QuoteString(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	if _, err := QuoteString("bad\xff"); err == nil {
		t.Error("invalid UTF-8 must be refused")
	}
}

func TestBuild(t *testing.T) {
	d := leadDescribe()
	at := time.Date(2024, 1, 2, 3, 4, 5, 600, time.FixedZone("x", 3600))
	cases := []struct {
		name string
		q    *SOQLQuery
		want string
	}{
		{"eq and in", Select("id", "LASTNAME").From("lead").Where(And(Eq("Email", "a'b@x.com"), In("Email", []string{"a@x.com", "b@x.com"}...))).OrderBy("SystemModstamp", "Id").Limit(200),
			`SELECT Id, LastName FROM Lead WHERE (Email = 'a\'b@x.com' AND Email IN ('a@x.com', 'b@x.com')) ORDER BY SystemModstamp ASC, Id ASC LIMIT 200`},
		{"watermark", Select("Id").From("Lead").Where(Or(Gt("SystemModstamp", at), And(Eq("SystemModstamp", at), Gt("Id", "00Q000000000001")))),
			`SELECT Id FROM Lead WHERE (SystemModstamp > 2024-01-02T02:04:05Z OR (SystemModstamp = 2024-01-02T02:04:05Z AND Id > '00Q000000000001'))`},
		{"date, null, not, numbers", Select("Id").From("Lead").Where(And(Eq("Birthday__c", Date{2020, 2, 29}), NotNull("Email"), Not(Eq("IsConverted", true)), Ge("NumberOfEmployees", 10), Lt("NumberOfEmployees", 2.5))).OrderByDesc("CreatedDate").Offset(5),
			`SELECT Id FROM Lead WHERE (Birthday__c = 2020-02-29 AND Email != null AND (NOT IsConverted = true) AND NumberOfEmployees >= 10 AND NumberOfEmployees < 2.5) ORDER BY CreatedDate DESC OFFSET 5`},
		{"like", Select("Id", "Owner.Name").From("Lead").Where(Or(Like("LastName", "Sm_th%"), Contains("Email", "50%_off"), StartsWith("LastName", `O'\`), EndsWith("LastName", "_x"))),
			`SELECT Id, Owner.Name FROM Lead WHERE (LastName LIKE 'Sm_th%' OR Email LIKE '%50\%\_off%' OR LastName LIKE 'O\'\\%' OR LastName LIKE '%\_x')`},
		{"not in", Select("Id").From("Lead").Where(NotIn("NumberOfEmployees", 1, 2)),
			`SELECT Id FROM Lead WHERE NumberOfEmployees NOT IN (1, 2)`},
	}
	for _, c := range cases {
		got, err := c.q.Build(d)
		if err != nil || got != c.want {
			t.Errorf("%s:\n got %s (%v)\nwant %s", c.name, got, err, c.want)
		}
	}
}

func TestBuildRejectsInjection(t *testing.T) {
	d := leadDescribe()
	bad := []*SOQLQuery{
		Select("Id, Password__c").From("Lead"),
		Select("Id").From("Lead WHERE Id != null"),
		Select("Id").From("Contact"),
		Select("Id").From("Lead").Where(Eq("LastName = 'x' OR Id", "y")),
		Select("Id").From("Lead").Where(Eq("Owner.Name) OR (Id", "y")),
		Select("Id").From("Lead").Where(Eq("Nope.Name", "y")),
		Select("Id").From("Lead").OrderBy("LastName; DELETE"),
		Select("Id").From("Lead").Where(In[string]("Email")),
		Select("Id").From("Lead").Where(Eq("Email", struct{}{})),
		Select("Id").From("Lead").Where(Eq("Birthday__c", time.Now())),
		Select("Id").From("Lead").Where(Eq("CreatedDate", Date{2020, 1, 1})),
		Select("Id").From("Lead").Where(Eq("NumberOfEmployees", 1.0/zero())),
		Select("Id").From("Lead").Limit(-1),
		Select().From("Lead"),
		Select("Id").From("Lead").Where(And()),
	}
	for i, q := range bad {
		if s, err := q.Build(d); err == nil {
			t.Errorf("case %d built %q, want an error", i, s)
		}
	}
	if _, err := Select("Id").From("Lead").Build(nil); err == nil {
		t.Error("Build(nil) must fail")
	}
}

func zero() float64 { return 0 }

// unquoteSOQL is a reference reader of SOQL string literals, written from
// the documented escape rules (independent of quote): it returns the value
// and the rest of the input after the closing quote.
func unquoteSOQL(s string, like bool) (string, string, error) {
	if !strings.HasPrefix(s, "'") {
		return "", "", errors.New("no opening quote")
	}
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\'':
			return b.String(), s[i+1:], nil
		case '\\':
			i++
			if i >= len(s) {
				return "", "", errors.New("dangling backslash")
			}
			switch s[i] {
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case 'b':
				b.WriteByte('\b')
			case 'f':
				b.WriteByte('\f')
			case '\'', '"', '\\':
				b.WriteByte(s[i])
			case '%', '_':
				if !like {
					return "", "", errors.New("wildcard escape outside LIKE")
				}
				b.WriteByte('\\') // LIKE keeps the escape: it means a literal wildcard
				b.WriteByte(s[i])
			default:
				return "", "", errors.New("unknown escape")
			}
		default:
			b.WriteByte(s[i])
		}
	}
	return "", "", errors.New("no closing quote")
}

// TestQuoteRoundTrip: any valid string comes back from a literal
// unchanged, and the literal ends exactly where the builder ended it, so
// nothing in the value can continue the query.
func TestQuoteRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := rapid.String().Draw(t, "s")
		lit, err := QuoteString(s)
		if err != nil {
			t.Fatal(err)
		}
		got, rest, err := unquoteSOQL(lit, false)
		if err != nil || got != s || rest != "" {
			t.Fatalf("literal %q read back as %q rest %q err %v", lit, got, rest, err)
		}
		q, err := Select("Id").From("Lead").Where(Eq("LastName", s)).Limit(1).Build(leadDescribe())
		if err != nil {
			t.Fatal(err)
		}
		const prefix = "SELECT Id FROM Lead WHERE LastName = "
		if !strings.HasPrefix(q, prefix) {
			t.Fatalf("query %q", q)
		}
		got, rest, err = unquoteSOQL(q[len(prefix):], false)
		if err != nil || got != s || rest != " LIMIT 1" {
			t.Fatalf("query %q: value %q rest %q err %v", q, got, rest, err)
		}
	})
}

func TestLikeRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := rapid.String().Draw(t, "s")
		q, err := Select("Id").From("Lead").Where(Contains("LastName", s)).Build(leadDescribe())
		if err != nil {
			t.Fatal(err)
		}
		const prefix = "SELECT Id FROM Lead WHERE LastName LIKE "
		got, rest, err := unquoteSOQL(q[len(prefix):], true)
		if err != nil || rest != "" {
			t.Fatalf("query %q: rest %q err %v", q, rest, err)
		}
		// The pattern is %<s with every wildcard escaped>%.
		want := "%" + strings.NewReplacer("%", `\%`, "_", `\_`).Replace(s) + "%"
		if got != want {
			t.Fatalf("pattern %q, want %q", got, want)
		}
	})
}

func FuzzQuoteString(f *testing.F) {
	for _, s := range []string{"", "O'Brien", `\`, "\n", "%_", "\x00'"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		lit, err := QuoteString(s)
		if !utf8.ValidString(s) {
			if err == nil {
				t.Fatal("invalid UTF-8 accepted")
			}
			return
		}
		got, rest, err := unquoteSOQL(lit, false)
		if err != nil || got != s || rest != "" {
			t.Fatalf("%q -> %q -> %q (%v)", s, lit, got, err)
		}
	})
}
