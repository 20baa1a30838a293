package scim

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// filterTestUser is the resource the filter tests match against.
const filterTestUser = `{
  "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User",
              "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
  "id": "2819c223-7f76-453a-919d-413861904646",
  "externalId": "701984",
  "userName": "bjensen@example.com",
  "name": {"formatted": "Ms. Barbara J Jensen, III", "familyName": "Jensen", "givenName": "Barbara"},
  "displayName": "Babs \"B\" Jensen",
  "title": "Tour Guide",
  "active": true,
  "loginCount": 42,
  "emails": [
    {"value": "bjensen@example.com", "type": "work", "primary": true},
    {"value": "babs@jensen.org", "type": "home"}
  ],
  "phoneNumbers": [{"value": "555-555-5555", "type": "work"}],
  "meta": {
    "resourceType": "User",
    "created": "2010-01-23T04:56:22Z",
    "lastModified": "2011-05-13T04:42:34Z"
  },
  "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
    "employeeNumber": "701984",
    "department": "Tour Operations",
    "manager": {"value": "26118915-6090-4610-87e4-49d8ca9f808d", "displayName": "John Smith"}
  }
}`

// decodeResource decodes a JSON object the way the handlers do.
func decodeResource(t testing.TB, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("decode test resource: %v", err)
	}
	return m
}

var filterMatchTests = []struct {
	filter string
	want   bool
}{
	// Operators on strings, case-insensitive in names and values.
	{`userName eq "bjensen@example.com"`, true},
	{`USERNAME EQ "BJensen@Example.COM"`, true},
	{`userName eq "bjensen"`, false},
	{`userName ne "someone@example.com"`, true},
	{`userName ne "BJENSEN@example.com"`, false},
	{`userName co "JENSEN"`, true},
	{`userName sw "bj"`, true},
	{`userName sw "jensen"`, false},
	{`userName ew "EXAMPLE.com"`, true},
	{`userName ew "example"`, false},
	{`userName gt "a"`, true},
	{`userName lt "a"`, false},
	{`userName ge "BJENSEN@EXAMPLE.COM"`, true},
	{`userName le "bjensen@example.com"`, true},
	{`displayName eq "babs \"b\" jensen"`, true},
	{`externalId eq "701984"`, true},

	// Presence and missing attributes.
	{`title pr`, true},
	{`nickName pr`, false},
	{`not (nickName pr)`, true},
	{`nickName eq "x"`, false},
	{`nickName ne "x"`, false},
	{`not (nickName eq "x")`, true},
	{`nickName eq null`, true},
	{`title eq null`, false},
	{`title ne null`, true},
	{`name pr`, true},
	{`emails pr`, true},

	// Sub-attributes.
	{`name.familyName eq "jensen"`, true},
	{`NAME.FAMILYNAME co "ENS"`, true},
	{`name.familyName eq "smith"`, false},
	{`name.nickName pr`, false},

	// Multi-valued attributes: any value matches; complex values compare
	// through their "value" sub-attribute.
	{`emails co "jensen.org"`, true},
	{`emails eq "babs@jensen.org"`, true},
	{`emails eq "nobody@example.com"`, false},
	{`emails.type eq "home"`, true},
	{`emails.type eq "other"`, false},
	{`emails.primary eq true`, true},
	{`phoneNumbers sw "555"`, true},

	// Value paths.
	{`emails[type eq "work" and value co "@example.com"]`, true},
	{`emails[type eq "home" and value co "@example.com"]`, false},
	{`emails[type eq "other" or value ew ".org"]`, true},
	{`emails[not (type eq "work")]`, true},
	{`emails[primary eq true and type eq "home"]`, false},
	{`emails[type eq "WORK"] and userName pr`, true},
	{`name[givenName eq "barbara"]`, true},
	{`nickNames[value eq "x"]`, false},

	// A comparison on a sub-attribute after a value path, as Entra ID sends
	// it: the same element must match both.
	{`emails[type eq "work"].value eq "BJENSEN@example.com"`, true},
	{`emails[type eq "home"].value eq "bjensen@example.com"`, false},
	{`emails[type eq "work"].value eq "babs@jensen.org"`, false},
	{`emails[type eq "home"].value co "jensen.org" and userName pr`, true},
	{`userName pr and (emails[type eq "work" or type eq "home"].value ew ".org")`, true},
	{`emails[type eq "work"].value eq "a]b" or emails[type eq "home"].primary pr`, false},
	{`emails[not (type eq "home")].value sw "bjensen"`, true},
	{`phoneNumbers[type eq "work"].value pr`, true},

	// Booleans and numbers.
	{`active eq true`, true},
	{`active eq false`, false},
	{`active ne false`, true},
	{`active eq "true"`, false},
	{`loginCount eq 42`, true},
	{`loginCount eq 42.0`, true},
	{`loginCount gt 40`, true},
	{`loginCount ge 42`, true},
	{`loginCount lt 42`, false},
	{`loginCount le 4.2e1`, true},
	{`loginCount ne -1`, true},
	{`loginCount eq "42"`, false},
	{`userName eq 42`, false},

	// dateTime values compare as instants when both sides are RFC 3339.
	{`meta.lastModified gt "2011-05-13T04:42:34Z"`, false},
	{`meta.lastModified ge "2011-05-13T04:42:34Z"`, true},
	{`meta.lastModified eq "2011-05-13T04:42:34.000Z"`, true},
	{`meta.lastModified eq "2011-05-13T06:42:34+02:00"`, true},
	// As strings "2011-05-13T04..." > "2011-05-13T00...", but as times
	// 04:42Z is before 05:00Z.
	{`meta.lastModified lt "2011-05-13T00:00:00-05:00"`, true},
	{`meta.created lt "2011"`, true}, // not RFC 3339: string comparison

	// id and meta compare case-sensitively; everything else does not.
	{`id eq "2819c223-7f76-453a-919d-413861904646"`, true},
	{`id eq "2819C223-7F76-453A-919D-413861904646"`, false},
	{`ID eq "2819c223-7f76-453a-919d-413861904646"`, true},
	{`meta.resourceType eq "User"`, true},
	{`meta.resourceType eq "user"`, false},

	// Schema URN prefixes.
	{`urn:ietf:params:scim:schemas:core:2.0:User:userName sw "bjensen"`, true},
	{`urn:ietf:params:scim:schemas:core:2.0:User:name.givenName eq "Barbara"`, true},
	{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "tour operations"`, true},
	{`URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER:DEPARTMENT eq "tour operations"`, true},
	{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber pr`, true},
	{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:costCenter pr`, false},
	{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "26118915-6090-4610-87e4-49d8ca9f808d"`, true},
	{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager eq "26118915-6090-4610-87e4-49d8ca9f808d"`, true},
	{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User pr`, true},
	{`urn:ietf:params:scim:schemas:extension:other:2.0:User:department pr`, false},
	{`department pr`, false}, // extension attributes need their URN

	// Logical operators, precedence and grouping.
	{`userName pr and title pr`, true},
	{`userName pr and nickName pr`, false},
	{`nickName pr or title pr`, true},
	{`userName pr or title pr and active eq false`, true}, // and binds tighter than or
	{`(userName pr or title pr) and active eq false`, false},
	{`title eq "nope" and (userName pr or active eq true)`, false},
	{`not (userName pr) or active eq true`, true},
	{`not(title pr and active eq true)`, false},
	{`userName pr AND NOT (title eq "x") Or nickName pr`, true},
	{`  userName   pr  `, true},
}

func TestFilterMatch(t *testing.T) {
	res := decodeResource(t, filterTestUser)
	for _, tt := range filterMatchTests {
		f, err := ParseFilter(tt.filter)
		if err != nil {
			t.Errorf("ParseFilter(%q): %v", tt.filter, err)
			continue
		}
		if got := f.Match(res); got != tt.want {
			t.Errorf("ParseFilter(%q).Match = %v, want %v", tt.filter, got, tt.want)
		}
	}
}

func TestFilterMatchOddResources(t *testing.T) {
	f, err := ParseFilter(`emails[type eq "work"] or name.givenName eq "x" or tags eq "a"`)
	if err != nil {
		t.Fatal(err)
	}
	odd := []map[string]any{
		nil,
		{},
		{"emails": "not-an-array", "name": "not-an-object"},
		{"emails": []any{nil, 1.0, "x", []any{"nested"}}},
		{"name": []any{map[string]any{"givenName": 7.0}}},
	}
	for _, res := range odd {
		if f.Match(res) {
			t.Errorf("Match(%v) = true, want false", res)
		}
	}
	// Simple multi-valued attributes: elements are seen as {"value": e}.
	simple := map[string]any{"tags": []any{"a", "b"}}
	if !f.Match(simple) {
		t.Errorf("Match(%v) = false, want true", simple)
	}
	vp, err := ParseFilter(`tags[value eq "B"]`)
	if err != nil {
		t.Fatal(err)
	}
	if !vp.Match(simple) {
		t.Errorf("tags[value eq \"B\"] did not match %v", simple)
	}
}

func TestNilFilterMatchesAll(t *testing.T) {
	var f *Filter
	if !f.Match(map[string]any{"userName": "x"}) {
		t.Error("nil filter did not match")
	}
	if _, _, ok := f.EqualityOn(); ok {
		t.Error("nil filter reported an equality")
	}
}

var filterErrorTests = []struct {
	filter string
	detail string // substring expected in the error detail
}{
	{``, "empty"},
	{`   `, "empty"},
	{`userName`, "syntax error"},
	{`userName eq`, "syntax error"},
	{`userName eq bjensen`, "syntax error"},
	{`userName xx "a"`, "eq, ne, co"},
	{`userName eq "a" and`, `position 16, near " and"`},
	{`userName eq "a" or title`, "position 16"},
	{`(userName eq "a"`, "unclosed parenthesis"},
	{`userName eq "a")`, `unmatched ')' at position 16`},
	{`emails[type eq "work"]]`, `unmatched ']' at position 23`},
	{`not userName pr`, "syntax error"},
	{`userName eq "unterminated`, "unterminated string"},
	{`userName eq "a\"`, "unterminated string"},
	{`emails[type eq "work"`, "unclosed"},
	{`emails[type eq "work")`, "syntax error"},
	{`emails[type eq "work"].value eq`, `position 23, near ".value`},
	{`emails[type eq "work"].value eq "x" and`, `position 36, near " and"`},
	{`emails[type eq "work"].value zz "x"`, `position 23, near ".value`},
	{`emails[type eq "a" and value eq "b" and primary eq true]`, "syntax error"},
	{`active gt true`, "operator gt"},
	{`loginCount lt null`, "operator lt"},
	{`userName co 5`, "operator co"},
	{`title sw true`, "operator sw"},
	{`loginCount gt 1` + strings.Repeat("0", 400), "out of range"},
	{`userName eq "a` + "\n" + `"`, "control character"},
	{"userName eq \"\xff\"", "UTF-8"},
	{strings.Repeat("(", 40) + `a pr` + strings.Repeat(")", 40), "nest"},
	{`a eq "` + strings.Repeat("x", maxFilterLen) + `"`, "longer than"},
}

func TestParseFilterErrors(t *testing.T) {
	for _, tt := range filterErrorTests {
		f, err := ParseFilter(tt.filter)
		if err == nil {
			t.Errorf("ParseFilter(%q) = %v, want an error", tt.filter, f)
			continue
		}
		var se *Error
		if !errors.As(err, &se) {
			t.Errorf("ParseFilter(%q) error %T is not *Error", tt.filter, err)
			continue
		}
		if se.Status != 400 || se.ScimType != "invalidFilter" {
			t.Errorf("ParseFilter(%q) = status %d scimType %q, want 400 invalidFilter", tt.filter, se.Status, se.ScimType)
		}
		if !strings.Contains(se.Detail, tt.detail) {
			t.Errorf("ParseFilter(%q) detail %q does not mention %q", tt.filter, se.Detail, tt.detail)
		}
	}
}

func TestParseFilterNesting(t *testing.T) {
	// Nesting up to the limit is fine; strings may hold any brackets.
	deep := strings.Repeat("(", maxFilterNesting) + `a eq "((((]]]]"` + strings.Repeat(")", maxFilterNesting)
	f, err := ParseFilter(deep)
	if err != nil {
		t.Fatalf("ParseFilter(%d-deep): %v", maxFilterNesting, err)
	}
	if !f.Match(map[string]any{"A": "((((]]]]"}) {
		t.Error("deeply nested filter did not match")
	}
}

func TestEqualityOn(t *testing.T) {
	tests := []struct {
		filter      string
		attr, value string
		ok          bool
	}{
		{`userName eq "bjensen"`, "userName", "bjensen", true},
		{`externalId eq "x\"y\\z"`, "externalId", `x"y\z`, true},
		{`UserName EQ "BJensen"`, "UserName", "BJensen", true},
		{`(userName eq "a")`, "userName", "a", true},
		{`id eq "2819c223"`, "id", "2819c223", true},
		{`urn:ietf:params:scim:schemas:core:2.0:User:userName eq "a"`, "userName", "a", true},
		{`emails eq "a@b.c"`, "emails", "a@b.c", true},
		{`userName eq "a" and active eq true`, "", "", false},
		{`userName eq "a" or userName eq "b"`, "", "", false},
		{`not (userName eq "a")`, "", "", false},
		{`userName ne "a"`, "", "", false},
		{`userName co "a"`, "", "", false},
		{`userName pr`, "", "", false},
		{`name.familyName eq "x"`, "", "", false},
		{`loginCount eq 1`, "", "", false},
		{`active eq true`, "", "", false},
		{`userName eq null`, "", "", false},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "1"`, "", "", false},
		{`emails[value eq "a"]`, "", "", false},
	}
	for _, tt := range tests {
		f, err := ParseFilter(tt.filter)
		if err != nil {
			t.Errorf("ParseFilter(%q): %v", tt.filter, err)
			continue
		}
		attr, value, ok := f.EqualityOn()
		if attr != tt.attr || value != tt.value || ok != tt.ok {
			t.Errorf("ParseFilter(%q).EqualityOn() = %q, %q, %v; want %q, %q, %v",
				tt.filter, attr, value, ok, tt.attr, tt.value, tt.ok)
		}
	}
}

func FuzzParseFilter(f *testing.F) {
	for _, tt := range filterMatchTests {
		f.Add(tt.filter)
	}
	for _, tt := range filterErrorTests {
		f.Add(tt.filter)
	}
	f.Add(`a eq "\uFFFD"`)
	f.Add("a eq \"\uFFFD\"")
	f.Add(`members[value eq "x"].display`)
	res := decodeResource(f, filterTestUser)
	f.Fuzz(func(t *testing.T, s string) {
		flt, err := ParseFilter(s)
		if err != nil {
			se, ok := err.(*Error)
			if !ok {
				t.Fatalf("ParseFilter(%q) error %T is not *Error", s, err)
			}
			if se.Status != 400 || se.ScimType != "invalidFilter" || se.Detail == "" {
				t.Fatalf("ParseFilter(%q) = %+v, want a detailed 400 invalidFilter", s, se)
			}
			if flt != nil {
				t.Fatalf("ParseFilter(%q) returned a filter with an error", s)
			}
			return
		}
		flt.Match(res)
		flt.Match(map[string]any{})
		flt.EqualityOn()
	})
}
