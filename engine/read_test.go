package engine

import (
	"encoding/json"
	"testing"
)

func TestSameValue(t *testing.T) {
	for _, tt := range []struct {
		a, b any
		same bool
	}{
		{nil, "", true},
		{"Smith", "Smith", true},
		{"Smith", "smith", false},
		{json.Number("5"), 5.0, true},
		{json.Number("5.50"), 5.5, true},
		{true, true, true},
		{true, false, false},
		{"2026-01-02T03:04:05.000+0000", "2026-01-02T03:04:05Z", true},
		{"2026-01-02T03:04:05.000+0000", "2026-01-02T04:04:05+01:00", true},
		{"2026-01-02T03:04:05.000+0000", "2026-01-02T03:04:06Z", false},
		{"2026-01-02", "2026-01-02", true},
	} {
		if got := sameValue(tt.a, tt.b); got != tt.same {
			t.Errorf("sameValue(%#v, %#v) = %v; want %v", tt.a, tt.b, got, tt.same)
		}
	}
}

func FuzzSameValue(f *testing.F) {
	f.Add("2026-01-02T03:04:05.000+0000", "2026-01-02T03:04:05Z")
	f.Add("abc", "abc")
	f.Fuzz(func(t *testing.T, a, b string) {
		// Never panics, and is symmetric and reflexive.
		if sameValue(a, b) != sameValue(b, a) || !sameValue(a, a) {
			t.Fatalf("sameValue(%q, %q) is not an equivalence", a, b)
		}
	})
}
