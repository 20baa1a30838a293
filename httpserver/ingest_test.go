package httpserver

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/forcesync/forcesync"
)

func TestDecodeIngest(t *testing.T) {
	for _, tc := range []struct {
		name      string
		body      string
		wantKeys  []string
		wantProbs []string // field of each problem
		wantErr   bool
	}{
		{"array", `[{"key":"a","fields":{"x":1}},{"key":"b","op":"delete"}]`, []string{"a", "b"}, nil, false},
		{"ndjson", "{\"key\":\"a\",\"fields\":{}}\n\n{\"key\":\"b\",\"op\":\"disable\"}\n", []string{"a", "b"}, nil, false},
		{"bom", "\ufeff[{\"key\":\"a\",\"fields\":{}}]", []string{"a"}, nil, false},
		{"numeric key", `[{"key":42,"fields":{}}]`, []string{"42"}, nil, false},
		{"problems", `[{"key":"a"},{"fields":{}},{"key":"c","op":"nuke","fields":{}},{"key":"d","fields":[]},{"key":"e","version":-1,"fields":{}},{"key":"f","extra":1}, 7]`,
			nil, []string{"fields", "key", "op", "fields", "version", "extra", ""}, false},
		{"empty", "  ", nil, nil, true},
		{"garbage", `[{"key":`, nil, nil, true},
		{"bad ndjson", "{\"key\":\"a\"}\nnot json\n", nil, nil, true},
		{"trailing", `[] []`, nil, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cs, probs, err := DecodeIngest(strings.NewReader(tc.body))
			if (err != nil) != tc.wantErr {
				t.Fatalf("err %v", err)
			}
			if err != nil {
				if forcesync.ErrorCode(err) != forcesync.EInvalid {
					t.Fatalf("error code %q", forcesync.ErrorCode(err))
				}
				return
			}
			var keys []string
			for _, c := range cs {
				keys = append(keys, c.Key)
			}
			if strings.Join(keys, ",") != strings.Join(tc.wantKeys, ",") {
				t.Fatalf("keys %v, want %v", keys, tc.wantKeys)
			}
			var fields []string
			for _, p := range probs {
				fields = append(fields, p.Field)
				if p.Error == "" {
					t.Fatalf("problem without text: %+v", p)
				}
			}
			if strings.Join(fields, ",") != strings.Join(tc.wantProbs, ",") {
				t.Fatalf("problem fields %v, want %v", fields, tc.wantProbs)
			}
		})
	}
}

func FuzzDecodeIngest(f *testing.F) {
	for _, s := range []string{`[{"key":"a","fields":{"x":1}}]`, "{\"key\":\"a\"}\n", `[{"key":1.5e300}]`, "\ufeff[]", `[null]`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		cs, probs, err := DecodeIngest(strings.NewReader(body))
		if err != nil {
			return
		}
		for _, c := range cs {
			if c.Key == "" || (c.Op == forcesync.OpUpsert && c.Fields == nil && c.FieldsJSON == nil) {
				t.Fatalf("invalid change accepted: %+v", c)
			}
			var m map[string]any
			if c.FieldsJSON != nil && json.Unmarshal(c.FieldsJSON, &m) != nil {
				t.Fatalf("invalid change accepted: %+v", c)
			}
		}
		_ = probs
	})
}
