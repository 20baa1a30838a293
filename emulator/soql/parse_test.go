package soql

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestParseErrors(t *testing.T) {
	tests := []struct {
		q, code, msg string
	}{
		{"SELECT Id, FROM Lead", CodeMalformedQuery,
			"\nSELECT Id, FROM Lead\n           ^\nERROR at Row:1:Column:12\nunexpected token: 'FROM'"},
		{"SELECT Id FROM Lead WHERE", CodeMalformedQuery,
			"\nSELECT Id FROM Lead WHERE\n                         ^\nERROR at Row:1:Column:26\nunexpected token: '<EOF>'"},
		{"select id from Lead where a = 1 and b = 2 or c = 3", CodeMalformedQuery,
			"\nselect id from Lead where a = 1 and b = 2 or c = 3\n                                          ^\nERROR at Row:1:Column:43\nunexpected token: 'or'"},
		{"SELECT Id\nFROM Lead\nWHERE Name = 'a\\q'", CodeMalformedQuery,
			"\nWHERE Name = 'a\\q'\n             ^\nERROR at Row:3:Column:14\nInvalid string literal 'a\\q'. Illegal character sequence '\\q' in string literal."},
		{"SELECT Id FROM Lead WHERE Name = 'a\\%'", CodeMalformedQuery, ""},
		{"SELECT Id FROM Lead WHERE Name = 'abc", CodeMalformedQuery, ""},
		{"SELECT Id FROM Lead WHERE Name = foo", CodeMalformedQuery, ""},
		{"SELECT Id FROM Lead LIMIT -1", CodeMalformedQuery, ""},
		{"SELECT Id FROM Lead LIMIT 1.5", CodeMalformedQuery, ""},
		{"SELECT Id FROM Lead OFFSET 2001", CodeNumberOutsideRange, ""},
		{"SELECT Id FROM Lead WHERE d = 2024-02-30", CodeMalformedQuery, ""},
		{"SELECT Id FROM Lead WHERE Id IN (SELECT Id FROM Lead GROUP BY Id)", CodeMalformedQuery, ""},
		{"SELECT Id FROM Lead GROUP BY", CodeMalformedQuery, ""},
		{"SELECT Id FROM Lead WITH SHARING", CodeMalformedQuery, ""},
		{"SELECT Id FROM Lead FOR DELETE", CodeMalformedQuery, ""},
		{"SELECT Id, (SELECT Id, (SELECT Id FROM Cases) FROM Contacts) FROM Account", CodeMalformedQuery, ""},
		{"SELECT Id FROM Lead WHERE COUNT(Id) IN (1)", CodeMalformedQuery, ""},
		{"SELECT SUM() FROM Lead", CodeMalformedQuery, ""},
		{"SELECT Id FROM Lead WHERE Name = 'x' #", CodeMalformedQuery, ""},
		{"SELECT Id FROM Lead ORDER BY Name NULLS", CodeMalformedQuery, ""},
		{"SELECT TYPEOF Owner END FROM Lead", CodeMalformedQuery, ""},
		{"SELECT TYPEOF Owner WHEN User THEN Name FROM Lead", CodeMalformedQuery, ""},
		{"SELECT Name n FROM Lead", CodeMalformedQuery, ""},
		{"", CodeMalformedQuery, "\n\n^\nERROR at Row:1:Column:1\nunexpected token: '<EOF>'"},
	}
	for _, tt := range tests {
		_, err := Parse(tt.q)
		var se *Error
		if !errors.As(err, &se) {
			t.Errorf("Parse(%q) = %v, want *Error", tt.q, err)
			continue
		}
		if se.Code != tt.code {
			t.Errorf("Parse(%q) code = %s, want %s (%s)", tt.q, se.Code, tt.code, se.Message)
		}
		if tt.msg != "" && se.Message != tt.msg {
			t.Errorf("Parse(%q) message =\n%q\nwant\n%q", tt.q, se.Message, tt.msg)
		}
	}
}

func TestParsePrint(t *testing.T) {
	tests := []struct{ in, out string }{
		{"select id , Owner.Name from lead", "SELECT id, Owner.Name FROM lead"},
		{"SELECT COUNT() FROM Lead", "SELECT COUNT() FROM Lead"},
		{"select Id, fields(all) from Lead limit 5", "SELECT Id, FIELDS(ALL) FROM Lead LIMIT 5"},
		{"select Id from Account where Id not in (select AccountId from Contact where Email != null)",
			"SELECT Id FROM Account WHERE Id NOT IN (SELECT AccountId FROM Contact WHERE Email != null)"},
		{"SELECT count(Id) n FROM Lead l", "SELECT COUNT(Id) n FROM Lead l"},
		{"SELECT Id FROM Lead WHERE (a = 1 AND (b = 'x' OR c != null)) AND NOT d <> true",
			"SELECT Id FROM Lead WHERE (a = 1 AND (b = 'x' OR c != null)) AND NOT d != true"},
		{"SELECT Id FROM Lead WHERE ((a = 1))", "SELECT Id FROM Lead WHERE a = 1"},
		{"SELECT Id FROM Lead WHERE NOT (a = 1 OR b = 2)", "SELECT Id FROM Lead WHERE NOT (a = 1 OR b = 2)"},
		{"SELECT Id FROM Lead WHERE e IN ('a','b\\'c') AND f NOT IN (1, -2.5)",
			"SELECT Id FROM Lead WHERE e IN ('a', 'b\\'c') AND f NOT IN (1, -2.5)"},
		{"SELECT Id FROM Lead WHERE n LIKE 'a\\%b%' AND d >= 2024-01-31 AND t < 2024-01-01T10:00:00+02:00",
			"SELECT Id FROM Lead WHERE n LIKE 'a\\%b%' AND d >= 2024-01-31 AND t < 2024-01-01T10:00:00+02:00"},
		{"SELECT Id FROM Lead WHERE CreatedDate = last_n_days : 30 OR d = today",
			"SELECT Id FROM Lead WHERE CreatedDate = LAST_N_DAYS:30 OR d = TODAY"},
		{"select LeadSource, count(id), sum(AnnualRevenue) total, count_distinct(Email) from Lead where IsConverted = false with security_enforced group by LeadSource having count(Id) > 1 and LeadSource != null order by count(Id) desc, LeadSource limit 5",
			"SELECT LeadSource, COUNT(id), SUM(AnnualRevenue) total, COUNT_DISTINCT(Email) FROM Lead WHERE IsConverted = false WITH SECURITY_ENFORCED GROUP BY LeadSource HAVING COUNT(Id) > 1 AND LeadSource != null ORDER BY COUNT(Id) DESC, LeadSource ASC LIMIT 5"},
		{"SELECT Name, (select LastName from Contacts where Email != null order by LastName limit 3) FROM Account for update",
			"SELECT Name, (SELECT LastName FROM Contacts WHERE Email != null ORDER BY LastName ASC LIMIT 3) FROM Account FOR UPDATE"},
		{"SELECT Contact.Account.Owner.Name FROM Case", "SELECT Contact.Account.Owner.Name FROM Case"},
		{"SELECT Id FROM Lead ORDER BY a, b desc, c asc nulls last, d DESC NULLS FIRST LIMIT 10 OFFSET 5",
			"SELECT Id FROM Lead ORDER BY a ASC, b DESC, c ASC NULLS LAST, d DESC NULLS FIRST LIMIT 10 OFFSET 5"},
		{"select tolabel(Status) s, format(convertcurrency(Amount)) amt from Opportunity where calendar_year(convertTimezone(CreatedDate)) = 2024",
			"SELECT toLabel(Status) s, FORMAT(convertCurrency(Amount)) amt FROM Opportunity WHERE CALENDAR_YEAR(convertTimezone(CreatedDate)) = 2024"},
		{"SELECT day_only(CreatedDate), COUNT(Id) FROM Lead GROUP BY day_only(CreatedDate) ORDER BY day_only(CreatedDate) desc",
			"SELECT DAY_ONLY(CreatedDate), COUNT(Id) FROM Lead GROUP BY DAY_ONLY(CreatedDate) ORDER BY DAY_ONLY(CreatedDate) DESC"},
		{"select Id from Lead where Interests__c includes ('a;b', 'c') or Interests__c excludes ('d')",
			"SELECT Id FROM Lead WHERE Interests__c INCLUDES ('a;b', 'c') OR Interests__c EXCLUDES ('d')"},
		{"select typeof What when Account then Name, Phone when Opportunity then Amount else Name end, Subject from Task",
			"SELECT TYPEOF What WHEN Account THEN Name, Phone WHEN Opportunity THEN Amount ELSE Name END, Subject FROM Task"},
	}
	for _, tt := range tests {
		q, err := Parse(tt.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		if got := q.String(); got != tt.out {
			t.Errorf("print(parse(%q)) =\n%s\nwant\n%s", tt.in, got, tt.out)
		}
	}
}

// astEqual compares queries ignoring positions.
var astOpts = cmp.Options{cmpopts.IgnoreTypes(Pos(0)), cmpopts.EquateEmpty()}

var fuzzSeeds = []string{
	"SELECT Id FROM Lead",
	"SELECT Id, LastName, Owner.Name FROM Lead WHERE Email = 'a@x.com' ORDER BY LastName DESC NULLS LAST LIMIT 10",
	"SELECT COUNT() FROM Lead WHERE IsConverted = false",
	"SELECT COUNT(Id) c FROM Lead",
	"SELECT Id FROM Lead WHERE (A = 1 OR B = 2) AND NOT C LIKE 'x\\_%'",
	"SELECT Id FROM Lead WHERE SystemModstamp > 2024-01-01T00:00:00Z AND Email IN ('a@x.com','b@x.com') ORDER BY SystemModstamp ASC, Id ASC LIMIT 2000",
	"SELECT Id FROM Lead WHERE (SystemModstamp > 2024-01-01T00:00:00.123-05:30) OR (SystemModstamp = 2024-01-01T00:00:00Z AND Id > '00Q000000000001')",
	"SELECT Id FROM Lead WHERE d = LAST_N_DAYS:7 AND e != YESTERDAY AND s = '\\u00e9\\n\\t\\\\\\''",
	"select id from lead l where l.name = null offset 3",
	"SELECT Id FROM Lead WHERE x NOT IN (null, true, 1.5, .5, +3) OR y <> 2024-02-29",
	"SELECT LeadSource, COUNT(Id) n, MAX(CreatedDate), AVG(AnnualRevenue) FROM Lead GROUP BY LeadSource HAVING COUNT(Id) > 2 ORDER BY COUNT(Id) DESC LIMIT 3",
	"SELECT Id, (SELECT LastName FROM Contacts WHERE Email LIKE '%@x.com' ORDER BY LastName LIMIT 5) FROM Account WITH SECURITY_ENFORCED FOR UPDATE",
	"SELECT Contact.Account.Owner.Name, COUNT_DISTINCT(Email) FROM Case GROUP BY Contact.Account.Owner.Name FOR VIEW",
}

func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		q, err := Parse(src)
		if err != nil {
			var se *Error
			if !errors.As(err, &se) || se.Code == "" || se.Row < 1 || se.Column < 1 {
				t.Fatalf("Parse(%q) error %#v is not a positional *Error", src, err)
			}
			return
		}
		out := q.String()
		q2, err := Parse(out)
		if err != nil {
			t.Fatalf("Parse(%q) ok, but its print %q fails: %v", src, out, err)
		}
		if d := cmp.Diff(q, q2, astOpts); d != "" {
			t.Fatalf("print(parse(%q)) = %q parses differently (-first +second):\n%s", src, out, d)
		}
		if out2 := q2.String(); out2 != out {
			t.Fatalf("printing is not stable: %q then %q", out, out2)
		}
	})
}

func TestQuoteRoundTrip(t *testing.T) {
	for _, s := range []string{"", "plain", "O'Brien", `back\slash`, "line\nbreak\ttab\r", "é%_"} {
		q, err := Parse("SELECT Id FROM Lead WHERE Name = " + Quote(s))
		if err != nil {
			t.Fatalf("Quote(%q): %v", s, err)
		}
		got := decodeString(q.Where.(*Compare).Value.Text)
		if got != s {
			t.Errorf("decode(Quote(%q)) = %q", s, got)
		}
	}
}
