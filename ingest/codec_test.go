package ingest

import (
	"strings"
	"testing"
)

// A body that is not JSON must say what is wrong with it, not only where:
// a pretty-printed record (sent as application/json, read line by line like
// NDJSON) is told to fit on one line or go in an array.
func TestDecodeBodyBadNDJSONLineSaysWhy(t *testing.T) {
	cases := []struct {
		body string
		want []string
	}{
		{"{\n  \"key\": \"a\",\n  \"fields\": {\"last\": \"B\"}\n}\n",
			[]string{"line 1", "unexpected end of JSON input", "one line", "JSON array"}},
		{"{\"key\":\"a\",\"fields\":{\"last\":\"B\"}}\n{\"key\":\"b\" \"fields\":{}}\n",
			[]string{"line 2", "invalid character", "byte"}},
	}
	for _, c := range cases {
		_, _, err := DecodeBody(strings.NewReader(c.body))
		if err == nil {
			t.Fatalf("%q: decoded without error", c.body)
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%q: error %q does not say %q", c.body, err, w)
			}
		}
	}
	// A wrong byte is not an unclosed record: no one-line hint.
	_, _, err := DecodeBody(strings.NewReader("{\"key\":\"b\" \"fields\":{}}\n"))
	if err == nil || strings.Contains(err.Error(), "one line") {
		t.Errorf("error %v: want a syntax error without the one-line hint", err)
	}
}

// A refused key of a megabyte is not echoed back whole: the problem names
// the field, the limit and the key's length, and quotes its start only.
func TestDecodeBodyLongKeyNotEchoedWhole(t *testing.T) {
	long := strings.Repeat("é", 1<<19) // 1 MiB of two-byte runes
	for _, body := range []string{
		`[{"key":"` + long + `","fields":{}}]`,
		`[{"key":"` + long + `","op":"zap"}]`,
	} {
		_, probs, err := DecodeBody(strings.NewReader(body))
		if err != nil || len(probs) != 1 {
			t.Fatalf("%v %v", probs, err)
		}
		p := probs[0]
		if len(p.Key) > MaxKeyBytes+3 || !strings.HasPrefix(long, strings.TrimSuffix(p.Key, "...")) || !strings.HasSuffix(p.Key, "...") {
			t.Errorf("problem key of %d bytes (%q...), want the key's first %d bytes at most, marked cut", len(p.Key), p.Key[:min(len(p.Key), 20)], MaxKeyBytes)
		}
		if p.Field == "key" && !strings.Contains(p.Error, "1048576 bytes") {
			t.Errorf("problem %q does not give the key's length", p.Error)
		}
	}
}
