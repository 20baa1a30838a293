package soql

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

var fixedNow = func() time.Time { return ts("2024-05-10T15:00:00Z") }

func fixtureRows() []*fakeRow {
	alice := &fakeRow{vals: map[string]any{"Id": "005000000000001AAA", "Name": "Alice Admin", "Email": "alice@x.com", "IsActive": true}}
	mk := func(id string, v map[string]any, owner *fakeRow) *fakeRow {
		v["Id"] = ID18(id)
		r := &fakeRow{vals: v, parents: map[string]*fakeRow{}}
		if owner != nil {
			v["OwnerId"] = owner.vals["Id"]
			r.parents["OwnerId"] = owner
		}
		return r
	}
	return []*fakeRow{
		mk("00Q000000000001", map[string]any{"LastName": "Smith", "Company": "Acme", "Email": "smith@acme.com", "NumberOfEmployees": 10.0,
			"IsConverted": false, "SystemModstamp": ts("2024-01-01T10:00:00Z"), "ConvertedDate": nil, "Status": "Open"}, alice),
		mk("00Q000000000002", map[string]any{"LastName": "o'brien", "Company": "100% Pure", "Email": "ob@pure.io", "NumberOfEmployees": 250.0,
			"IsConverted": true, "SystemModstamp": ts("2024-05-10T08:00:00Z"), "ConvertedDate": "2024-05-09", "Status": "Closed"}, nil),
		mk("00Q000000000003", map[string]any{"LastName": "Zed", "Company": "Under_score", "NumberOfEmployees": 5.0,
			"IsConverted": false, "SystemModstamp": ts("2023-12-31T23:30:00Z"), "ConvertedDate": "2024-01-02", "Status": "open"}, alice),
		mk("00Q000000000004", map[string]any{"LastName": "adams", "Company": "", "Email": "", "IsConverted": false,
			"SystemModstamp": ts("2024-05-01T00:00:00Z")}, nil),
	}
}

// run compiles and runs q, returning LastNames in result order.
func run(t *testing.T, q string) []string {
	t.Helper()
	ast, err := Parse(q)
	if err != nil {
		t.Fatalf("Parse(%q): %v", q, err)
	}
	p, err := Compile(q, ast, newFakeSchema(), Options{Now: fixedNow})
	if err != nil {
		t.Fatalf("Compile(%q): %v", q, err)
	}
	var names []string
	for _, r := range p.Select(seqOf(fixtureRows())) {
		names = append(names, fmt.Sprint(r.(*fakeRow).vals["LastName"]))
	}
	return names
}

func TestWhere(t *testing.T) {
	tests := []struct {
		where string
		want  string // LastNames in insertion order, comma separated
	}{
		{"LastName = 'SMITH'", "Smith"},
		{"LastName != 'smith'", "o'brien,Zed,adams"},
		{"LastName <> 'smith'", "o'brien,Zed,adams"},
		{"LastName = 'o\\'brien'", "o'brien"},
		{"Email = null", "Zed,adams"},
		{"Email != null", "Smith,o'brien"},
		{"Email = ''", "Zed,adams"},
		{"Email != 'smith@acme.com'", "o'brien,Zed,adams"},
		{"NumberOfEmployees > 5", "Smith,o'brien"},
		{"NumberOfEmployees >= 5", "Smith,o'brien,Zed"},
		{"NumberOfEmployees < 10", "Zed"},
		{"NumberOfEmployees <= 10.0", "Smith,Zed"},
		{"NumberOfEmployees = null", "adams"},
		{"NumberOfEmployees IN (5, 250)", "o'brien,Zed"},
		{"NumberOfEmployees NOT IN (5, 250)", "Smith,adams"},
		{"IsConverted = true", "o'brien"},
		{"IsConverted != true", "Smith,Zed,adams"},
		{"LastName LIKE 's%'", "Smith"},
		{"LastName LIKE '%E%'", "o'brien,Zed"},
		{"LastName LIKE '_ed'", "Zed"},
		{"LastName LIKE 'a%s'", "adams"},
		{"Company LIKE '100\\% %'", "o'brien"},
		{"Company LIKE '100\\%'", ""},
		{"Company LIKE '%\\_%'", "Zed"},
		{"Company LIKE '%_%'", "Smith,o'brien,Zed"},
		{"NOT LastName LIKE 's%'", "o'brien,Zed,adams"},
		{"Status IN ('OPEN', 'x')", "Smith,Zed"},
		{"Status NOT IN ('open')", "o'brien,adams"},
		{"Status IN (null)", "adams"},
		{"LastName IN ('smith', 'ZED') AND NumberOfEmployees > 6", "Smith"},
		{"LastName = 'Smith' OR LastName = 'Zed' OR Email = null", "Smith,Zed,adams"},
		{"(LastName = 'Smith' OR LastName = 'Zed') AND NOT (NumberOfEmployees > 6)", "Zed"},
		{"NOT (LastName = 'Smith' OR IsConverted = true)", "Zed,adams"},
		{"SystemModstamp > 2024-01-01T10:00:00Z", "o'brien,adams"},
		{"SystemModstamp >= 2024-01-01T10:00:00Z", "Smith,o'brien,adams"},
		{"SystemModstamp = 2024-01-01T12:00:00+02:00", "Smith"},
		{"SystemModstamp < 2024-01-01T00:00:00+01:00", ""},
		{"SystemModstamp <= 2024-01-01T00:30:00+01:00", "Zed"},
		{"SystemModstamp = TODAY", "o'brien"},
		{"SystemModstamp = LAST_N_DAYS:10", "o'brien,adams"},
		{"SystemModstamp < LAST_N_DAYS:10", "Smith,Zed"},
		{"ConvertedDate = YESTERDAY", "o'brien"},
		{"ConvertedDate > 2024-01-01", "o'brien,Zed"},
		{"ConvertedDate <= 2024-01-02", "Zed"},
		{"ConvertedDate = null", "Smith,adams"},
		{"Id = '00Q000000000002'", "o'brien"},
		{"Id IN ('00Q000000000002EAA', '00q000000000003eaa')", "o'brien,Zed"},
		{"Id > '00Q000000000002EAA'", "Zed,adams"},
		{"Owner.Name = 'alice admin'", "Smith,Zed"},
		{"Owner.Email = null", "o'brien,adams"},
		{"OwnerId != null", "Smith,Zed"},
		{"Lead.LastName = 'Zed'", "Zed"},
	}
	for _, tt := range tests {
		got := strings.Join(run(t, "SELECT Id FROM Lead WHERE "+tt.where), ",")
		if got != tt.want {
			t.Errorf("WHERE %s: got %q, want %q", tt.where, got, tt.want)
		}
	}
}

func TestOrderLimitOffset(t *testing.T) {
	tests := []struct{ q, want string }{
		{"ORDER BY LastName", "adams,o'brien,Smith,Zed"},
		{"ORDER BY LastName DESC", "Zed,Smith,o'brien,adams"},
		{"ORDER BY Email", "Zed,adams,o'brien,Smith"},      // nulls first by default ASC
		{"ORDER BY Email DESC", "Smith,o'brien,Zed,adams"}, // nulls last by default DESC
		{"ORDER BY Email ASC NULLS LAST", "o'brien,Smith,Zed,adams"},
		{"ORDER BY Email DESC NULLS FIRST", "Zed,adams,Smith,o'brien"},
		{"ORDER BY IsConverted DESC, NumberOfEmployees", "o'brien,adams,Zed,Smith"},
		{"ORDER BY SystemModstamp", "Zed,Smith,adams,o'brien"},
		{"ORDER BY Owner.Name NULLS LAST, LastName DESC", "Zed,Smith,o'brien,adams"},
		{"ORDER BY LastName LIMIT 2", "adams,o'brien"},
		{"ORDER BY LastName LIMIT 2 OFFSET 1", "o'brien,Smith"},
		{"ORDER BY LastName OFFSET 3", "Zed"},
		{"ORDER BY LastName OFFSET 9", ""},
		{"LIMIT 0", ""},
	}
	for _, tt := range tests {
		got := strings.Join(run(t, "SELECT Id FROM Lead "+tt.q), ",")
		if got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.q, got, tt.want)
		}
	}
}

func TestCompileErrors(t *testing.T) {
	tests := []struct{ q, code, msg string }{
		{"SELECT Id FROM Bogus", CodeInvalidType, "\nSELECT Id FROM Bogus\n               ^\nERROR at Row:1:Column:16\nsObject type 'Bogus' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names."},
		{"SELECT Id, Foo FROM Lead", CodeInvalidField, "\nSELECT Id, Foo FROM Lead\n           ^\nERROR at Row:1:Column:12\nNo such column 'Foo' on entity 'Lead'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names."},
		{"SELECT Id FROM Lead WHERE Bar__c = 1", CodeInvalidField, ""},
		{"SELECT Owner.Foo FROM Lead", CodeInvalidField, ""},
		{"SELECT Boss.Name FROM Lead", CodeInvalidField, ""},
		{"SELECT Owner.Manager.Name FROM Lead", CodeInvalidField, ""},
		{"SELECT Id FROM Lead ORDER BY Nope", CodeInvalidField, ""},
		{"SELECT Id FROM Lead WHERE LastName = 5", CodeInvalidField, "\nSELECT Id FROM Lead WHERE LastName = 5\n                                     ^\nERROR at Row:1:Column:38\nvalue of filter criterion for field 'LastName' must be of type string and should be enclosed in quotes"},
		{"SELECT Id FROM Lead WHERE NumberOfEmployees = '5'", CodeInvalidField, ""},
		{"SELECT Id FROM Lead WHERE IsConverted = 'true'", CodeInvalidField, ""},
		{"SELECT Id FROM Lead WHERE SystemModstamp > 2024-01-01", CodeInvalidField, ""},
		{"SELECT Id FROM Lead WHERE ConvertedDate > 2024-01-01T00:00:00Z", CodeInvalidField, ""},
		{"SELECT Id FROM Lead WHERE ConvertedDate > '2024-01-01'", CodeInvalidField, ""},
		{"SELECT Id FROM Lead WHERE Id = 'nope'", CodeInvalidFilterOp, ""},
		{"SELECT Id FROM Lead WHERE IsConverted > false", CodeInvalidFilterOp, ""},
		{"SELECT Id FROM Lead WHERE NumberOfEmployees LIKE '5'", CodeInvalidFilterOp, ""},
		{"SELECT Id, COUNT() FROM Lead", CodeMalformedQuery, ""},
		{"SELECT Id, COUNT(Id) FROM Lead", CodeMalformedQuery, ""},
		{"SELECT Id, id FROM Lead", CodeMalformedQuery, ""},
	}
	for _, tt := range tests {
		ast, err := Parse(tt.q)
		if err == nil {
			_, err = Compile(tt.q, ast, newFakeSchema(), Options{})
		}
		var se *Error
		if !errors.As(err, &se) {
			t.Errorf("%q: err = %v, want *Error %s", tt.q, err, tt.code)
			continue
		}
		if se.Code != tt.code || tt.msg != "" && se.Message != tt.msg {
			t.Errorf("%q: got %s %q, want %s %q", tt.q, se.Code, se.Message, tt.code, tt.msg)
		}
	}
}

func TestColumnsAndCount(t *testing.T) {
	q := "SELECT id, owner.name, Lead.Email FROM Lead WHERE IsConverted = false"
	ast, _ := Parse(q)
	p, err := Compile(q, ast, newFakeSchema(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, c := range p.Columns {
		paths = append(paths, c.Path)
	}
	if want := []string{"Id", "Owner.Name", "Email"}; !slices.Equal(paths, want) {
		t.Errorf("paths = %v, want %v", paths, want)
	}
	if c := p.Columns[1]; c.Ref == nil || c.Ref.Name != "OwnerId" || c.Parent != "User" {
		t.Errorf("Owner.Name column = %+v", c)
	}
	rows := p.Select(seqOf(fixtureRows()))
	if got := p.Columns[1].Value(rows[0]); got != "Alice Admin" {
		t.Errorf("Owner.Name = %v", got)
	}
	if got := p.Columns[1].Value(rows[2]); got != nil {
		t.Errorf("Owner.Name of unowned = %v", got)
	}

	q = "SELECT COUNT() FROM Lead WHERE IsConverted = false LIMIT 2"
	ast, _ = Parse(q)
	p, err = Compile(q, ast, newFakeSchema(), Options{})
	if err != nil || !p.CountOnly {
		t.Fatalf("COUNT(): %v %+v", err, p)
	}
	if n := len(p.Select(seqOf(fixtureRows()))); n != 2 {
		t.Errorf("COUNT() LIMIT 2 = %d", n)
	}

	q = "SELECT COUNT(Id), COUNT(Email) mails FROM Lead"
	ast, _ = Parse(q)
	p, err = Compile(q, ast, newFakeSchema(), Options{})
	if err != nil || !p.Aggregate {
		t.Fatalf("COUNT(Id): %v", err)
	}
	vals := p.AggregateValues(p.Select(seqOf(fixtureRows())))
	if p.Columns[0].Path != "expr0" || p.Columns[1].Path != "mails" || vals[0] != 4 || vals[1] != 2 {
		t.Errorf("aggregate = %v %v %v", p.Columns[0].Path, p.Columns[1].Path, vals)
	}
}

func TestLikeMatch(t *testing.T) {
	tests := []struct {
		pat, s string
		want   bool
	}{
		{"%", "", true}, {"%", "abc", true}, {"a%c", "abc", true}, {"a%c", "abcd", false},
		{"%b%", "abc", true}, {"_b_", "abc", true}, {"_b_", "ab", false}, {"a%b%c", "axxbyyc", true},
		{"a%b%c", "axxcyyb", false}, {"%%a", "ba", true}, {"é_", "éa", true}, {"a\\%", "a%", true}, {"a\\%", "ab", false},
	}
	for _, tt := range tests {
		if got := likeMatch(compileLike(tt.pat), tt.s); got != tt.want {
			t.Errorf("%q LIKE %q = %v", tt.s, tt.pat, got)
		}
	}
}

func TestID18(t *testing.T) {
	for in, want := range map[string]string{
		"a0RE000000IJmcN": "a0RE000000IJmcNMAT", "001M000000qfPyS": "001M000000qfPySIAU",
		"aaaaaaaaaaaaaaa": "aaaaaaaaaaaaaaaAAA", "aBcDEfgHIJKLMNO": "aBcDEfgHIJKLMNO025",
	} {
		if got := ID18(in); got != want {
			t.Errorf("ID18(%s) = %s, want %s", in, got, want)
		}
	}
}

// FuzzCompile compiles and runs whatever parses against the fake schema:
// no query may panic the compiler or the evaluator (aggregates, HAVING,
// subqueries and parent paths included).
func FuzzCompile(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Add("SELECT Status, COUNT(Id), MAX(SystemModstamp), SUM(Score__c) s FROM Lead GROUP BY Status HAVING COUNT(Id) > 0 AND Status != null ORDER BY COUNT(Id) DESC, Status LIMIT 2 OFFSET 1")
	f.Add("SELECT Owner.Name, COUNT_DISTINCT(Email), AVG(NumberOfEmployees) FROM Lead GROUP BY Owner.Name")
	f.Fuzz(func(t *testing.T, src string) {
		q, err := Parse(src)
		if err != nil {
			return
		}
		p, err := Compile(src, q, newFakeSchema(), Options{Now: func() time.Time { return ts("2024-05-01T12:00:00Z") }})
		if err != nil {
			var se *Error
			if !errors.As(err, &se) || se.Code == "" {
				t.Fatalf("Compile(%q) error %#v is not an *Error", src, err)
			}
			return
		}
		rows := p.Select(seqOf(fixtureRows()))
		if p.Aggregate {
			for _, g := range p.Groups(rows) {
				if len(g) != len(p.Columns) {
					t.Fatalf("%q: group of %d values for %d columns", src, len(g), len(p.Columns))
				}
			}
		}
		for _, r := range rows {
			for _, c := range p.Columns {
				if c.Sub == nil && !c.Count {
					_ = c.Value(r)
				}
			}
		}
	})
}

// The relative date literals cover the documented ranges; today is
// Wednesday 2024-05-15 and weeks start on Sunday.
func TestDateLiteralSpans(t *testing.T) {
	today := time.Date(2024, 5, 15, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		lit      string
		n        int
		from, to string
	}{
		{"TODAY", 0, "2024-05-15", "2024-05-16"},
		{"LAST_N_DAYS", 2, "2024-05-13", "2024-05-16"},
		{"NEXT_N_DAYS", 2, "2024-05-16", "2024-05-18"},
		{"LAST_90_DAYS", 0, "2024-02-15", "2024-05-16"},
		{"NEXT_90_DAYS", 0, "2024-05-16", "2024-08-14"},
		{"THIS_WEEK", 0, "2024-05-12", "2024-05-19"},
		{"LAST_WEEK", 0, "2024-05-05", "2024-05-12"},
		{"NEXT_N_WEEKS", 2, "2024-05-19", "2024-06-02"},
		{"N_WEEKS_AGO", 2, "2024-04-28", "2024-05-05"},
		{"THIS_MONTH", 0, "2024-05-01", "2024-06-01"},
		{"LAST_N_MONTHS", 2, "2024-03-01", "2024-05-01"},
		{"NEXT_MONTH", 0, "2024-06-01", "2024-07-01"},
		{"N_MONTHS_AGO", 5, "2023-12-01", "2024-01-01"},
		{"THIS_QUARTER", 0, "2024-04-01", "2024-07-01"},
		{"LAST_QUARTER", 0, "2024-01-01", "2024-04-01"},
		{"NEXT_N_QUARTERS", 2, "2024-07-01", "2025-01-01"},
		{"THIS_FISCAL_QUARTER", 0, "2024-04-01", "2024-07-01"},
		{"THIS_YEAR", 0, "2024-01-01", "2025-01-01"},
		{"LAST_N_YEARS", 2, "2022-01-01", "2024-01-01"},
		{"N_FISCAL_YEARS_AGO", 1, "2023-01-01", "2024-01-01"},
	}
	for _, tt := range tests {
		dc := dateConstants[tt.lit]
		if !dc.ok || dc.takesN != (tt.n > 0) {
			t.Errorf("%s: known %v, takes n %v", tt.lit, dc.ok, dc.takesN)
			continue
		}
		from, to := dc.span(today, tt.n)
		if got := from.Format("2006-01-02") + " " + to.Format("2006-01-02"); got != tt.from+" "+tt.to {
			t.Errorf("%s:%d covers %s, want %s %s", tt.lit, tt.n, got, tt.from, tt.to)
		}
	}
}
