package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/forcesync/forcesync/emulator"
	"github.com/google/go-cmp/cmp"
)

func TestQueryCommand(t *testing.T) {
	o := startCLIOrg(t, emulator.Config{})
	var recs []map[string]any
	for i := 0; i < 450; i++ {
		recs = append(recs, map[string]any{"LastName": fmt.Sprintf("N%03d", i), "Company": "Acme, \"Ltd\"", "Email": fmt.Sprintf("n%d@example.com", i)})
	}
	if _, err := o.emu.Seed("Lead", recs); err != nil {
		t.Fatal(err)
	}
	o.loginClientCredentials(t, "default")
	soql := "SELECT Id, LastName, Company, Email FROM Lead WHERE LastName LIKE 'N%' ORDER BY LastName"

	// CSV: every record, paged by 200 under the hood.
	out, stderr, err := o.runCLI(t, "query", soql, "--format", "csv", "--batch-size", "200")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"Id", "LastName", "Company", "Email"}, rows[0]); diff != "" {
		t.Fatalf("header (-want +got):\n%s", diff)
	}
	if len(rows) != 451 || rows[1][1] != "N000" || rows[450][1] != "N449" || rows[1][2] != "Acme, \"Ltd\"" || len(rows[1][0]) != 18 {
		t.Fatalf("%d rows; first %v last %v", len(rows), rows[1], rows[len(rows)-1])
	}

	// JSON: an array of records without attributes.
	out, _, err = o.runCLI(t, "query", "SELECT Id, LastName FROM Lead WHERE LastName = 'N007'", "--format", "json")
	if err != nil {
		t.Fatal(err)
	}
	var js []map[string]any
	if err := json.Unmarshal([]byte(out), &js); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(js) != 1 || js[0]["LastName"] != "N007" || js[0]["attributes"] != nil {
		t.Fatalf("json %v", js)
	}

	// Table, with a relationship path and the count on stderr.
	out, stderr, err = o.runCLI(t, "query", "SELECT LastName, Owner.Username FROM Lead WHERE LastName = 'N001'")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "LastName") || !strings.Contains(lines[0], "Owner.Username") ||
		!strings.Contains(lines[1], "N001") || !strings.Contains(lines[1], emulator.DefaultUsername) {
		t.Fatalf("table:\n%s", out)
	}
	if !strings.Contains(stderr, "1 records") {
		t.Fatalf("stderr %q", stderr)
	}

	// --all finds deleted records; the plain query does not.
	ids, err := o.emu.Seed("Lead", []map[string]any{{"LastName": "Gone", "Company": "X"}})
	if err != nil {
		t.Fatal(err)
	}
	c, _, err := openClient(t.Context(), &Env{Getenv: o.getenv}, "default")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Delete(t.Context(), "Lead", ids[0]); err != nil {
		t.Fatal(err)
	}
	q := "SELECT Id FROM Lead WHERE LastName = 'Gone'"
	if out, _, err := o.runCLI(t, "query", q, "--format", "csv"); err != nil || strings.Contains(out, ids[0]) {
		t.Fatalf("deleted record in plain query: %v %s", err, out)
	}
	if out, _, err := o.runCLI(t, "query", q, "--format", "csv", "--all"); err != nil || !strings.Contains(out, ids[0]) {
		t.Fatalf("deleted record missing with --all: %v %s", err, out)
	}

	// Errors.
	if _, _, err := o.runCLI(t, "query", "SELECT Nope FROM Lead"); err == nil || !strings.Contains(err.Error(), "INVALID_FIELD") {
		t.Fatalf("bad field: %v", err)
	}
	if _, _, err := o.runCLI(t, "query", soql, "--format", "xml"); exitCode(err) != 2 {
		t.Fatalf("bad format: %v", err)
	}
}

func TestSelectColumns(t *testing.T) {
	tests := map[string][]string{
		"SELECT Id, Name FROM Lead":                                 {"Id", "Name"},
		"select id,Owner.Name from Lead where Name = 'a, from b'":   {"id", "Owner.Name"},
		"SELECT COUNT(Id), MAX(Amount) total FROM Opportunity":      {"COUNT(Id)", "total"},
		"SELECT Name, (SELECT LastName FROM Contacts) FROM Account": {"Name", "Contacts"},
		"DELETE FROM x": nil,
		"SELECT Id":     nil,
	}
	for q, want := range tests {
		var got []string
		for _, c := range selectColumns(q) {
			got = append(got, c.title)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("selectColumns(%q) (-want +got):\n%s", q, diff)
		}
	}
	cols := selectColumns("SELECT COUNT(Id), MAX(x) FROM Lead")
	if cols[0].path[0] != "expr0" || cols[1].path[0] != "expr1" {
		t.Errorf("aggregate keys %v %v", cols[0].path, cols[1].path)
	}
}

func FuzzSelectColumns(f *testing.F) {
	f.Add("SELECT Id, (SELECT x FROM y), COUNT(z) c FROM Lead WHERE a = 'it''s'")
	f.Fuzz(func(t *testing.T, q string) {
		for _, c := range selectColumns(q) {
			_ = lookup(map[string]any{"a": map[string]any{"b": 1.0}}, c.path)
		}
	})
}

// TestQueryAndDescribeRefusedExitCodes: what Salesforce refuses is the
// user's input, not a bug: a query it cannot parse or whose field it does
// not know exits 3 and prints no header; an object it does not have exits
// 4; an empty answer still prints the header.
func TestQueryAndDescribeRefusedExitCodes(t *testing.T) {
	o := startCLIOrg(t, emulator.Config{})
	o.loginClientCredentials(t, "default")
	for _, tc := range []struct {
		args []string
		want int
		says string
	}{
		{[]string{"query", "SELEKT"}, exitInvalid, "MALFORMED_QUERY"},
		{[]string{"query", "SELECT Bogus FROM Lead"}, exitInvalid, "INVALID_FIELD"},
		{[]string{"query", "SELECT Id FROM Nope__c", "--format", "json"}, exitInvalid, "INVALID_TYPE"},
		{[]string{"describe", "Nope__c"}, exitNotFound, "NOT_FOUND"},
	} {
		out, stderr, err := o.runCLI(t, tc.args...)
		if got := exitCode(err); got != tc.want || err == nil || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("%v: %v, exit %d, want %d saying %q\n%s", tc.args, err, got, tc.want, tc.says, stderr)
		}
		if out != "" {
			t.Errorf("%v: printed %q before the error", tc.args, out)
		}
	}
	out, stderr, err := o.runCLI(t, "query", "SELECT Id, LastName FROM Lead WHERE LastName = 'nobody'", "--format", "csv")
	if err != nil || out != "Id,LastName\n" {
		t.Fatalf("empty answer: %v %q\n%s", err, out, stderr)
	}
}
