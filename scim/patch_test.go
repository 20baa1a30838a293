package scim

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// patchTestUser is the resource the PATCH tests start from unless a case
// gives its own.
const patchTestUser = `{
  "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User",
              "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
  "id": "u1",
  "userName": "bjensen",
  "name": {"givenName": "Barbara", "familyName": "Jensen"},
  "title": "Guide",
  "active": true,
  "emails": [
    {"value": "b@work.example", "type": "work", "primary": true},
    {"value": "b@home.example", "type": "home"}
  ],
  "meta": {"resourceType": "User", "lastModified": "2011-05-13T04:42:34Z"},
  "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
    "employeeNumber": "701984",
    "manager": {"value": "m1"}
  }
}`

// A user without a work email or enterprise extension.
const patchHomeOnlyUser = `{
  "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
  "id": "u2",
  "userName": "home",
  "emails": [{"value": "h@home.example", "type": "home"}],
  "meta": {"resourceType": "User"}
}`

// A group, for member removal.
const patchTestGroup = `{
  "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
  "id": "g1",
  "displayName": "Tour Guides",
  "members": [
    {"value": "a", "display": "Ann"},
    {"value": "b", "display": "Bob"},
    {"value": "c"}
  ],
  "meta": {"resourceType": "Group"}
}`

const enterpriseURN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

var patchTests = []struct {
	name   string
	start  string   // resource JSON; patchTestUser when empty
	ops    string   // JSON array of operations
	want   string   // JSON object: top-level attributes expected after the patch
	absent []string // top-level keys expected to be missing afterwards
}{
	// Microsoft Entra ID quirks.
	{
		name: "entra replace active with string False",
		ops:  `[{"op":"Replace","path":"active","value":"False"}]`,
		want: `{"active": false}`,
	},
	{
		name: "entra replace active with string TRUE",
		ops:  `[{"op":"Replace","path":"active","value":"False"},{"op":"Replace","path":"active","value":"TRUE"}]`,
		want: `{"active": true}`,
	},
	{
		name:  "entra add work email value when no work email exists",
		start: patchHomeOnlyUser,
		ops:   `[{"op":"Add","path":"emails[type eq \"work\"].value","value":"a@b.c"}]`,
		want: `{"emails": [{"value": "h@home.example", "type": "home"},
		                   {"type": "work", "value": "a@b.c"}]}`,
	},
	{
		name:  "entra add work email when the user has no emails",
		start: `{"id": "u3", "userName": "x"}`,
		ops:   `[{"op":"Add","path":"emails[type eq \"work\"].value","value":"a@b.c"}]`,
		want:  `{"emails": [{"type": "work", "value": "a@b.c"}]}`,
	},
	{
		name: "entra add work email value when a work email exists",
		ops:  `[{"op":"Add","path":"emails[type eq \"work\"].value","value":"new@work.example"}]`,
		want: `{"emails": [{"value": "new@work.example", "type": "work", "primary": true},
		                   {"value": "b@home.example", "type": "home"}]}`,
	},
	{
		name: "entra add manager as a string",
		ops:  `[{"op":"Add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":"abc"}]`,
		want: `{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": "701984", "manager": {"value": "abc"}}}`,
	},
	{
		name:  "entra add manager creates the extension",
		start: patchHomeOnlyUser,
		ops:   `[{"op":"Add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":"abc"}]`,
		want:  `{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"manager": {"value": "abc"}}}`,
	},
	{
		name: "entra remove manager",
		ops:  `[{"op":"Remove","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"}]`,
		want: `{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": "701984"}}`,
	},
	{
		name:   "entra remove the last extension attribute drops the extension",
		ops:    `[{"op":"Remove","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"},{"op":"Remove","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber"}]`,
		absent: []string{enterpriseURN},
	},
	{
		name:   "entra remove manager when there is none",
		start:  patchHomeOnlyUser,
		ops:    `[{"op":"Remove","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"}]`,
		want:   `{"userName": "home"}`,
		absent: []string{enterpriseURN},
	},
	{
		name: "entra replace manager with empty string unassigns it",
		ops:  `[{"op":"Replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":""}]`,
		want: `{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": "701984"}}`,
	},
	{
		name:  "entra remove group members listed in value",
		start: patchTestGroup,
		ops:   `[{"op":"Remove","path":"members","value":[{"value":"a"},{"value":"c"},{"value":"zzz"}]}]`,
		want:  `{"members": [{"value": "b", "display": "Bob"}]}`,
	},
	{
		name:  "add group members skips ones already present",
		start: patchTestGroup,
		ops:   `[{"op":"Add","path":"members","value":[{"value":"a"},{"value":"d"}]}]`,
		want: `{"members": [{"value": "a", "display": "Ann"}, {"value": "b", "display": "Bob"},
		                    {"value": "c"}, {"value": "d"}]}`,
	},

	{
		name: "entra pathless replace active with string",
		ops:  `[{"op":"Replace","value":{"active":"false","displayName":"B"}}]`,
		want: `{"active": false, "displayName": "B"}`,
	},

	// Okta.
	{
		name: "okta pathless replace active",
		ops:  `[{"op":"replace","value":{"active":false}}]`,
		want: `{"active": false}`,
	},
	{
		name: "okta pathless replace of several attributes",
		ops: `[{"op":"replace","value":{"userName":"babs","name":{"givenName":"Babs"},
		        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"Tours"}}}]`,
		want: `{"userName": "babs", "name": {"givenName": "Babs", "familyName": "Jensen"},
		        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": "701984", "manager": {"value": "m1"}, "department": "Tours"}}`,
	},

	// Op names are case-insensitive.
	{
		name: "op names in any case",
		ops:  `[{"op":"ADD","path":"nickName","value":"Babs"},{"op":" rePlace ","path":"title","value":"Boss"},{"op":"REMOVE","path":"name.familyName"}]`,
		want: `{"nickName": "Babs", "title": "Boss", "name": {"givenName": "Barbara"}}`,
	},

	// add.
	{
		name: "add sets a simple attribute",
		ops:  `[{"op":"add","path":"title","value":"Boss"},{"op":"add","path":"nickName","value":"Babs"}]`,
		want: `{"title": "Boss", "nickName": "Babs"}`,
	},
	{
		name: "add a sub-attribute",
		ops:  `[{"op":"add","path":"name.middleName","value":"J"}]`,
		want: `{"name": {"givenName": "Barbara", "familyName": "Jensen", "middleName": "J"}}`,
	},
	{
		name:  "add a sub-attribute creates the complex attribute",
		start: patchHomeOnlyUser,
		ops:   `[{"op":"add","path":"name.givenName","value":"H"}]`,
		want:  `{"name": {"givenName": "H"}}`,
	},
	{
		name: "add a complex attribute merges sub-attributes",
		ops:  `[{"op":"add","path":"name","value":{"givenName":"Babs","formatted":"Babs Jensen"}}]`,
		want: `{"name": {"givenName": "Babs", "familyName": "Jensen", "formatted": "Babs Jensen"}}`,
	},
	{
		name: "add one value to a multi-valued attribute",
		ops:  `[{"op":"add","path":"emails","value":{"value":"x@other.example","type":"other"}}]`,
		want: `{"emails": [{"value": "b@work.example", "type": "work", "primary": true},
		                   {"value": "b@home.example", "type": "home"},
		                   {"value": "x@other.example", "type": "other"}]}`,
	},
	{
		name: "add an array of values",
		ops:  `[{"op":"add","path":"phoneNumbers","value":[{"value":"1","type":"work"},{"value":"2","type":"mobile"}]}]`,
		want: `{"phoneNumbers": [{"value": "1", "type": "work"}, {"value": "2", "type": "mobile"}]}`,
	},
	{
		name: "add a value already present changes nothing",
		ops:  `[{"op":"add","path":"emails","value":[{"value":"b@home.example","type":"home"}]}]`,
		want: `{"emails": [{"value": "b@work.example", "type": "work", "primary": true},
		                   {"value": "b@home.example", "type": "home"}]}`,
	},
	{
		name: "add an existing value merges into it",
		ops:  `[{"op":"add","path":"emails","value":{"value":"B@HOME.example","type":"home","primary":true}}]`,
		want: `{"emails": [{"value": "b@work.example", "type": "work", "primary": false},
		                   {"value": "B@HOME.example", "type": "home", "primary": true}]}`,
	},
	{
		name: "add the same value with another type appends",
		ops:  `[{"op":"add","path":"emails","value":{"value":"b@home.example","type":"other"}}]`,
		want: `{"emails": [{"value": "b@work.example", "type": "work", "primary": true},
		                   {"value": "b@home.example", "type": "home"},
		                   {"value": "b@home.example", "type": "other"}]}`,
	},
	{
		name: "add a primary email clears the old primary",
		ops:  `[{"op":"add","path":"emails","value":{"value":"p@x.example","type":"other","primary":"True"}}]`,
		want: `{"emails": [{"value": "b@work.example", "type": "work", "primary": false},
		                   {"value": "b@home.example", "type": "home"},
		                   {"value": "p@x.example", "type": "other", "primary": true}]}`,
	},
	{
		name: "pathless add merges and appends",
		ops: `[{"op":"add","value":{"nickName":"Babs","name":{"middleName":"J"},
		        "emails":[{"value":"x@other.example","type":"other"}]}}]`,
		want: `{"nickName": "Babs",
		        "name": {"givenName": "Barbara", "familyName": "Jensen", "middleName": "J"},
		        "emails": [{"value": "b@work.example", "type": "work", "primary": true},
		                   {"value": "b@home.example", "type": "home"},
		                   {"value": "x@other.example", "type": "other"}]}`,
	},
	{
		name: "add with a value filter and no sub-attribute merges into the element",
		ops:  `[{"op":"add","path":"emails[type eq \"home\"]","value":{"display":"Home"}}]`,
		want: `{"emails": [{"value": "b@work.example", "type": "work", "primary": true},
		                   {"value": "b@home.example", "type": "home", "display": "Home"}]}`,
	},
	{
		name: "add with an and filter creates the element from its terms",
		ops:  `[{"op":"add","path":"phoneNumbers[type eq \"work\" and primary eq true].value","value":"555"}]`,
		want: `{"phoneNumbers": [{"type": "work", "primary": true, "value": "555"}]}`,
	},

	// replace.
	{
		name: "replace a simple attribute",
		ops:  `[{"op":"replace","path":"title","value":"Boss"}]`,
		want: `{"title": "Boss"}`,
	},
	{
		name: "replace a missing attribute adds it",
		ops:  `[{"op":"replace","path":"nickName","value":"Babs"}]`,
		want: `{"nickName": "Babs"}`,
	},
	{
		name: "replace a sub-attribute",
		ops:  `[{"op":"replace","path":"name.givenName","value":"Babs"}]`,
		want: `{"name": {"givenName": "Babs", "familyName": "Jensen"}}`,
	},
	{
		name: "replace a multi-valued attribute without filter replaces all values",
		ops:  `[{"op":"replace","path":"emails","value":[{"value":"only@x.example","type":"work"}]}]`,
		want: `{"emails": [{"value": "only@x.example", "type": "work"}]}`,
	},
	{
		name: "replace a filtered sub-attribute",
		ops:  `[{"op":"replace","path":"emails[type eq \"home\"].value","value":"new@home.example"}]`,
		want: `{"emails": [{"value": "b@work.example", "type": "work", "primary": true},
		                   {"value": "new@home.example", "type": "home"}]}`,
	},
	{
		name: "replace filtered elements merges the value",
		ops:  `[{"op":"replace","path":"emails[value ew \"example\"]","value":{"display":"x"}}]`,
		want: `{"emails": [{"value": "b@work.example", "type": "work", "primary": true, "display": "x"},
		                   {"value": "b@home.example", "type": "home", "display": "x"}]}`,
	},
	{
		name: "replace primary through a filter moves it",
		ops:  `[{"op":"replace","path":"emails[type eq \"home\"].primary","value":"true"}]`,
		want: `{"emails": [{"value": "b@work.example", "type": "work", "primary": false},
		                   {"value": "b@home.example", "type": "home", "primary": true}]}`,
	},
	{
		name: "replace an array with several primaries keeps the last",
		ops:  `[{"op":"replace","path":"emails","value":[{"value":"1","primary":true},{"value":"2","primary":true}]}]`,
		want: `{"emails": [{"value": "1", "primary": false}, {"value": "2", "primary": true}]}`,
	},
	{
		name: "pathless replace replaces multi-valued and merges complex attributes",
		ops:  `[{"op":"replace","value":{"emails":[{"value":"only@x.example"}],"name":{"givenName":"Barb"}}}]`,
		want: `{"emails": [{"value": "only@x.example"}], "name": {"givenName": "Barb", "familyName": "Jensen"}}`,
	},
	{
		name:   "replace with null unassigns",
		ops:    `[{"op":"replace","path":"title","value":null},{"op":"replace","value":{"name":{"familyName":null}}}]`,
		want:   `{"name": {"givenName": "Barbara"}}`,
		absent: []string{"title"},
	},
	{
		name: "pathless value keys may be sub-attribute paths",
		ops:  `[{"op":"replace","value":{"name.givenName":"Babs","NAME.familyName":"J"}}]`,
		want: `{"name": {"givenName": "Babs", "familyName": "J"}}`,
	},
	{
		name: "entra pathless value keys may be value-filter paths",
		ops: `[{"op":"replace","value":{"emails[type eq \"work\"].value":"new@work.example",
		        "phoneNumbers[type eq \"mobile\"].value":"+1 555 0100"}}]`,
		want: `{"emails": [{"value": "new@work.example", "type": "work", "primary": true}, {"value": "b@home.example", "type": "home"}],
		        "phoneNumbers": [{"type": "mobile", "value": "+1 555 0100"}]}`,
	},
	{
		name: "pathless value keys may be URN-qualified",
		ops: `[{"op":"replace","value":{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department":"Tours",
		        "urn:ietf:params:scim:schemas:core:2.0:User:title":"Boss"}}]`,
		want: `{"title": "Boss", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": "701984", "manager": {"value": "m1"}, "department": "Tours"}}`,
	},
	{
		name: "pathless value under the core schema URN",
		ops:  `[{"op":"replace","value":{"urn:ietf:params:scim:schemas:core:2.0:User":{"title":"Boss"}}}]`,
		want: `{"title": "Boss"}`,
	},
	{
		name: "pathless value ignores id, meta and schemas",
		ops:  `[{"op":"replace","value":{"id":"hijack","ID":"x","meta":{"resourceType":"Group"},"schemas":[],"title":"Boss"}}]`,
		want: `{"id": "u1", "title": "Boss"}`,
	},

	// URN paths.
	{
		name: "core URN-qualified path",
		ops:  `[{"op":"replace","path":"urn:ietf:params:scim:schemas:core:2.0:User:displayName","value":"Babs"}]`,
		want: `{"displayName": "Babs"}`,
	},
	{
		name: "core URN-qualified sub-attribute path",
		ops:  `[{"op":"replace","path":"urn:ietf:params:scim:schemas:core:2.0:User:name.familyName","value":"J"}]`,
		want: `{"name": {"givenName": "Barbara", "familyName": "J"}}`,
	},
	{
		name: "extension attribute path",
		ops:  `[{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department","value":"Tours"}]`,
		want: `{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": "701984", "manager": {"value": "m1"}, "department": "Tours"}}`,
	},
	{
		name: "extension path in another case reuses existing keys",
		ops:  `[{"op":"replace","path":"URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER:EMPLOYEENUMBER","value":"1"}]`,
		want: `{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": "1", "manager": {"value": "m1"}}}`,
	},
	{
		name: "extension sub-attribute path",
		ops:  `[{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value","value":"m2"}]`,
		want: `{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": "701984", "manager": {"value": "m2"}}}`,
	},
	{
		name: "whole extension path merges",
		ops:  `[{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User","value":{"department":"Tours","manager":"m3"}}]`,
		want: `{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": "701984", "manager": {"value": "m3"}, "department": "Tours"}}`,
	},
	{
		name:  "whole extension path creates a custom extension",
		start: patchHomeOnlyUser,
		ops:   `[{"op":"add","path":"urn:ietf:params:scim:schemas:extension:acme:2.0:User","value":{"badge":"7"}}]`,
		want:  `{"urn:ietf:params:scim:schemas:extension:acme:2.0:User": {"badge": "7"}}`,
	},
	{
		name:   "remove a whole extension",
		ops:    `[{"op":"remove","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"}]`,
		absent: []string{enterpriseURN},
	},

	// Case-insensitive attribute names.
	{
		name:   "attribute names in another case replace the existing key",
		ops:    `[{"op":"replace","path":"USERNAME","value":"babs"},{"op":"replace","path":"Name.GivenName","value":"Babs"},{"op":"add","value":{"Title":"Boss"}}]`,
		want:   `{"userName": "babs", "name": {"givenName": "Babs", "familyName": "Jensen"}, "title": "Boss"}`,
		absent: []string{"USERNAME", "Name", "Title"},
	},
	{
		name: "filter attribute names and values are case-insensitive",
		ops:  `[{"op":"replace","path":"EMAILS[TYPE eq \"HOME\"].VALUE","value":"x@home.example"}]`,
		want: `{"emails": [{"value": "b@work.example", "type": "work", "primary": true},
		                   {"value": "x@home.example", "type": "home"}]}`,
	},

	// remove.
	{
		name:   "remove an attribute",
		ops:    `[{"op":"remove","path":"title"}]`,
		absent: []string{"title"},
	},
	{
		name: "remove a missing attribute succeeds",
		ops:  `[{"op":"remove","path":"nickName"}]`,
		want: `{"title": "Guide"}`,
	},
	{
		name: "remove a sub-attribute",
		ops:  `[{"op":"remove","path":"name.givenName"}]`,
		want: `{"name": {"familyName": "Jensen"}}`,
	},
	{
		name:   "remove the last sub-attribute removes the attribute",
		ops:    `[{"op":"remove","path":"name.givenName"},{"op":"remove","path":"name.familyName"}]`,
		absent: []string{"name"},
	},
	{
		name: "remove filtered elements",
		ops:  `[{"op":"remove","path":"emails[type eq \"home\"]"}]`,
		want: `{"emails": [{"value": "b@work.example", "type": "work", "primary": true}]}`,
	},
	{
		name:   "remove every element removes the attribute",
		ops:    `[{"op":"remove","path":"emails[value co \"@\"]"}]`,
		absent: []string{"emails"},
	},
	{
		name: "remove a filtered sub-attribute",
		ops:  `[{"op":"remove","path":"emails[type eq \"work\"].primary"}]`,
		want: `{"emails": [{"value": "b@work.example", "type": "work"}, {"value": "b@home.example", "type": "home"}]}`,
	},
	{
		name:   "remove a multi-valued attribute",
		ops:    `[{"op":"remove","path":"emails"}]`,
		absent: []string{"emails"},
	},

	{
		name: "operations apply in order",
		ops:  `[{"op":"add","path":"title","value":"A"},{"op":"replace","path":"title","value":"B"},{"op":"remove","path":"title"},{"op":"add","path":"title","value":"C"}]`,
		want: `{"title": "C"}`,
	},
}

// decodeOps decodes a JSON array of PATCH operations.
func decodeOps(t testing.TB, s string) []PatchOp {
	t.Helper()
	var ops []PatchOp
	if err := json.Unmarshal([]byte(s), &ops); err != nil {
		t.Fatalf("decode ops: %v", err)
	}
	return ops
}

// protectedAttrs returns id, meta and schemas of res, which PATCH must not
// change.
func protectedAttrs(res map[string]any) []any {
	return []any{res["id"], res["meta"], res["schemas"]}
}

func TestApplyPatch(t *testing.T) {
	for _, tt := range patchTests {
		t.Run(tt.name, func(t *testing.T) {
			start := tt.start
			if start == "" {
				start = patchTestUser
			}
			res := decodeResource(t, start)
			before := protectedAttrs(res)
			if err := ApplyPatch(res, decodeOps(t, tt.ops)); err != nil {
				t.Fatalf("ApplyPatch: %v", err)
			}
			if tt.want != "" {
				for k, want := range decodeResource(t, tt.want) {
					if diff := cmp.Diff(want, res[k]); diff != "" {
						t.Errorf("%s mismatch (-want +got):\n%s", k, diff)
					}
				}
			}
			for _, k := range tt.absent {
				if v, ok := res[k]; ok {
					t.Errorf("%s = %v, want it absent", k, v)
				}
			}
			if diff := cmp.Diff(before, protectedAttrs(res)); diff != "" {
				t.Errorf("id, meta or schemas changed (-before +after):\n%s", diff)
			}
		})
	}
}

var patchErrorTests = []struct {
	name     string
	start    string
	ops      []PatchOp
	scimType string
	detail   string // substring expected in the detail
}{
	{"unknown op", "", []PatchOp{{Op: "move", Path: "title", Value: json.RawMessage(`"x"`)}}, "invalidSyntax", "unknown op"},
	{"empty op", "", []PatchOp{{Path: "title", Value: json.RawMessage(`"x"`)}}, "invalidSyntax", "unknown op"},
	{"value is not JSON", "", []PatchOp{{Op: "add", Path: "title", Value: json.RawMessage(`{`)}}, "invalidSyntax", "not valid JSON"},
	{"remove without path", "", []PatchOp{{Op: "remove"}}, "noTarget", "needs a path"},
	{"remove with value but no path", "", []PatchOp{{Op: "Remove", Value: json.RawMessage(`{"title":"x"}`)}}, "noTarget", "needs a path"},
	{"add without value", "", []PatchOp{{Op: "add", Path: "title"}}, "invalidValue", "needs a value"},
	{"replace without path or value", "", []PatchOp{{Op: "replace"}}, "invalidValue", "object of attributes"},
	{"pathless add of a non-object", "", []PatchOp{{Op: "add", Value: json.RawMessage(`"x"`)}}, "invalidValue", "object of attributes"},
	{"pathless key that is not an attribute", "", []PatchOp{{Op: "add", Value: json.RawMessage(`{"not an attr":1}`)}}, "invalidValue", "not an attr"},
	{"path syntax", "", []PatchOp{{Op: "add", Path: "emails[type eq", Value: json.RawMessage(`"x"`)}}, "invalidPath", "emails[type eq"},
	{"path with spaces", "", []PatchOp{{Op: "add", Path: "display name", Value: json.RawMessage(`"x"`)}}, "invalidPath", "position 8"},
	{"path filter with a bad operator value", "", []PatchOp{{Op: "remove", Path: `emails[value co 5]`}}, "invalidPath", "operator co"},
	{"path with filter after a sub-attribute", "", []PatchOp{{Op: "remove", Path: `name.givenName[value eq "x"]`}}, "invalidPath", "top-level"},
	{"replace id", "", []PatchOp{{Op: "replace", Path: "id", Value: json.RawMessage(`"x"`)}}, "mutability", "id"},
	{"replace ID in another case", "", []PatchOp{{Op: "replace", Path: "ID", Value: json.RawMessage(`"x"`)}}, "mutability", "ID"},
	{"remove id", "", []PatchOp{{Op: "remove", Path: "id"}}, "mutability", "id"},
	{"URN-qualified id", "", []PatchOp{{Op: "replace", Path: "urn:ietf:params:scim:schemas:core:2.0:User:id", Value: json.RawMessage(`"x"`)}}, "mutability", "id"},
	{"schema prefix that is not a URN", "", []PatchOp{{Op: "replace", Path: "meta:lastModified", Value: json.RawMessage(`"x"`)}}, "invalidPath", "not a URN"},
	{"pathless key with a prefix that is not a URN", "", []PatchOp{{Op: "add", Value: json.RawMessage(`{"meta:version":"x"}`)}}, "invalidValue", "not a URN"},
	{"replace meta sub-attribute", "", []PatchOp{{Op: "replace", Path: "meta.lastModified", Value: json.RawMessage(`"2020-01-01T00:00:00Z"`)}}, "mutability", "meta"},
	{"remove meta", "", []PatchOp{{Op: "remove", Path: "meta"}}, "mutability", "meta"},
	{"add schemas", "", []PatchOp{{Op: "add", Path: "schemas", Value: json.RawMessage(`["urn:x"]`)}}, "mutability", "schemas"},
	{"active not a boolean", "", []PatchOp{{Op: "Replace", Path: "active", Value: json.RawMessage(`"yes"`)}}, "invalidValue", "boolean"},
	{"pathless active not a boolean", "", []PatchOp{{Op: "replace", Value: json.RawMessage(`{"active":1}`)}}, "invalidValue", "boolean"},
	{"primary not a boolean", "", []PatchOp{{Op: "add", Path: "emails", Value: json.RawMessage(`{"value":"x","primary":"maybe"}`)}}, "invalidValue", "boolean"},
	{"complex attribute given a string", "", []PatchOp{{Op: "replace", Path: "name", Value: json.RawMessage(`"Babs"`)}}, "invalidValue", "object"},
	{"multi-valued complex given a string", "", []PatchOp{{Op: "add", Path: "emails", Value: json.RawMessage(`"a@b.c"`)}}, "invalidValue", "objects"},
	{"sub-attribute given an object", "", []PatchOp{{Op: "add", Path: "name.givenName", Value: json.RawMessage(`{"x":1}`)}}, "invalidValue", "single simple value"},
	{"sub-attribute of multi-valued without filter", "", []PatchOp{{Op: "replace", Path: "emails.value", Value: json.RawMessage(`"x"`)}}, "invalidPath", "multi-valued"},
	{"remove sub-attribute of multi-valued without filter", "", []PatchOp{{Op: "remove", Path: "emails.value"}}, "invalidPath", "multi-valued"},
	{"filter on a single-valued attribute", "", []PatchOp{{Op: "replace", Path: `title[value eq "Guide"]`, Value: json.RawMessage(`"x"`)}}, "invalidPath", "not multi-valued"},
	{"sub-attribute of a simple attribute", "", []PatchOp{{Op: "add", Path: "title.x", Value: json.RawMessage(`"x"`)}}, "invalidPath", "no sub-attributes"},
	{"replace with a filter in a missing extension", patchHomeOnlyUser, []PatchOp{{Op: "replace", Path: `urn:ietf:params:scim:schemas:extension:acme:2.0:User:badges[value eq "x"]`, Value: json.RawMessage(`null`)}}, "noTarget", "badges"},
	{"remove with a filter matching nothing", "", []PatchOp{{Op: "remove", Path: `emails[type eq "other"]`}}, "noTarget", "emails"},
	{"remove with a filter on a missing extension", patchHomeOnlyUser, []PatchOp{{Op: "remove", Path: `urn:ietf:params:scim:schemas:extension:acme:2.0:User:badges[value eq "x"]`}}, "noTarget", "badges"},
	{"add with a filter that cannot build a value", "", []PatchOp{{Op: "add", Path: `emails[value co "zzz"].type`, Value: json.RawMessage(`"x"`)}}, "noTarget", "eq terms"},
	{"remove the whole resource", "", []PatchOp{{Op: "remove", Path: "urn:ietf:params:scim:schemas:core:2.0:User"}}, "invalidPath", "whole resource"},
	{"extension that is not an object", `{"id":"x","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":"oops"}`,
		[]PatchOp{{Op: "add", Path: "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", Value: json.RawMessage(`"d"`)}}, "invalidPath", "not an object"},
	{"error names the operation", "", []PatchOp{
		{Op: "add", Path: "title", Value: json.RawMessage(`"x"`)},
		{Op: "replace", Path: "id", Value: json.RawMessage(`"x"`)},
	}, "mutability", "operation 2:"},
}

func TestApplyPatchErrors(t *testing.T) {
	for _, tt := range patchErrorTests {
		t.Run(tt.name, func(t *testing.T) {
			start := tt.start
			if start == "" {
				start = patchTestUser
			}
			res := decodeResource(t, start)
			before := protectedAttrs(res)
			err := ApplyPatch(res, tt.ops)
			var se *Error
			if !errors.As(err, &se) {
				t.Fatalf("ApplyPatch error = %v (%T), want *Error", err, err)
			}
			if se.Status != 400 || se.ScimType != tt.scimType {
				t.Errorf("ApplyPatch = status %d scimType %q, want 400 %q (%s)", se.Status, se.ScimType, tt.scimType, se.Detail)
			}
			if !strings.Contains(se.Detail, tt.detail) {
				t.Errorf("detail %q does not mention %q", se.Detail, tt.detail)
			}
			if diff := cmp.Diff(before, protectedAttrs(res)); diff != "" {
				t.Errorf("id, meta or schemas changed (-before +after):\n%s", diff)
			}
		})
	}
}

func TestApplyPatchNilResource(t *testing.T) {
	err := ApplyPatch(nil, []PatchOp{{Op: "add", Path: "title", Value: json.RawMessage(`"x"`)}})
	if _, ok := err.(*Error); !ok {
		t.Fatalf("ApplyPatch(nil) = %v, want *Error", err)
	}
}

func TestApplyPatchNoOps(t *testing.T) {
	res := decodeResource(t, patchTestUser)
	want := decodeResource(t, patchTestUser)
	if err := ApplyPatch(res, nil); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, res); diff != "" {
		t.Errorf("resource changed (-want +got):\n%s", diff)
	}
}

func TestApplyPatchValuesAreNotShared(t *testing.T) {
	// One value written into several elements must not alias between them.
	res := decodeResource(t, patchTestUser)
	ops := decodeOps(t, `[{"op":"replace","path":"emails[value co \"@\"]","value":{"display":"x"}}]`)
	if err := ApplyPatch(res, ops); err != nil {
		t.Fatal(err)
	}
	emails := res["emails"].([]any)
	emails[0].(map[string]any)["display"] = "changed"
	if got := emails[1].(map[string]any)["display"]; got != "x" {
		t.Errorf("second email display = %v, want x", got)
	}
}

func FuzzApplyPatch(f *testing.F) {
	for _, tt := range patchTests {
		for _, op := range decodeOps(f, tt.ops) {
			f.Add(op.Op, op.Path, string(op.Value))
		}
	}
	for _, tt := range patchErrorTests {
		for _, op := range tt.ops {
			f.Add(op.Op, op.Path, string(op.Value))
		}
	}
	f.Fuzz(func(t *testing.T, op, path, value string) {
		for _, start := range []string{patchTestUser, patchTestGroup, `{"emails":"odd","name":[1,{"x":null}],"members":[null,"a",[1]]}`} {
			res := decodeResource(t, start)
			before := protectedAttrs(res)
			err := ApplyPatch(res, []PatchOp{{Op: op, Path: path, Value: json.RawMessage(value)}})
			if err != nil {
				se, ok := err.(*Error)
				if !ok {
					t.Fatalf("ApplyPatch error %T is not *Error: %v", err, err)
				}
				if se.Status != 400 || se.ScimType == "" || se.Detail == "" {
					t.Fatalf("ApplyPatch error %+v lacks status, scimType or detail", se)
				}
			}
			if diff := cmp.Diff(before, protectedAttrs(res)); diff != "" {
				t.Fatalf("id, meta or schemas changed (-before +after):\n%s", diff)
			}
			if _, err := json.Marshal(res); err != nil {
				t.Fatalf("patched resource does not marshal: %v", err)
			}
		}
	})
}
