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
