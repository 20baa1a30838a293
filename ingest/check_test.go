package ingest

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/forcesync/forcesync"
)

// TestCheckRefusesNumbersPastFloat64: the REST ingest body, and a change a
// door builds with decoded fields (SCIM), refuse a number a float64
// cannot hold, naming where it is; the stores read fields as float64, so
// such a record, once stored, stalled every push of its mappings.
func TestCheckRefusesNumbersPastFloat64(t *testing.T) {
	changes, problems, err := DecodeBody(strings.NewReader(`[
		{"key": "a", "fields": {"n": 1e400}},
		{"key": "b", "fields": {"deep": {"list": [0, 123456789e-3, -1e309]}}},
		{"key": "c", "fields": {"n": 1e308, "t": 1e-400, "s": "e400 and 1e400 in text"}}]`))
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 1 || changes[0].Key != "c" || len(problems) != 2 {
		t.Fatalf("changes %+v, problems %+v", changes, problems)
	}
	for i, want := range []string{"n: 1e400 is too large a number", "deep.list[2]: -1e309 is too large a number"} {
		if p := problems[i]; p.Field != "fields" || !strings.HasPrefix(p.Error, want) {
			t.Errorf("problem %d: %+v, want fields: %s", i, p, want)
		}
	}
	long := strings.Repeat("9", 400)
	if _, p := Check(forcesync.Change{Key: "d", FieldsJSON: []byte(`{"n": ` + long + `}`)}); p == nil {
		t.Error("a 400-digit number was accepted")
	}
	if _, p := Check(forcesync.Change{Key: "e", Fields: map[string]any{"n": json.Number("1e400")}}); p == nil || p.Field != "fields" {
		t.Errorf("decoded fields: %+v", p)
	}
}

func TestMayOverflow(t *testing.T) {
	for in, want := range map[string]bool{
		`{"n": 1e40}`: false, `{"n": 1e400}`: true, `{"n": 1E+308}`: true, `{"s": "the123"}`: true, // a cheap scan: text may match
		`{"n": 12345}`: false, `{"n": ` + strings.Repeat("1", 309) + `}`: true, `{"n": 2e-5}`: false,
	} {
		if got := mayOverflow([]byte(in)); got != want {
			t.Errorf("mayOverflow(%.40s) = %v, want %v", in, got, want)
		}
	}
}

// BenchmarkDecodeBody decodes a body of 1,000 typical records (the REST
// ingest's path), to weigh the range scan of check.go.
func BenchmarkDecodeBody(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("[")
	for i := range 1000 {
		if i > 0 {
			sb.WriteString(",")
		}
		fmt.Fprintf(&sb, `{"key": "k%d", "version": %d, "fields": {"email": "user%d@example.com", "last_name": "Lovelace", "first_name": "Ada", "score": %d, "ratio": 0.25, "tags": ["a", "b"], "note": "registered 2026-12-05"}}`, i, i+1, i, i%100)
	}
	sb.WriteString("]")
	body := sb.String()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, problems, err := DecodeBody(strings.NewReader(body)); err != nil || len(problems) > 0 {
			b.Fatal(err, problems)
		}
	}
}
