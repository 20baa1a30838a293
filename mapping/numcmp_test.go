package mapping

import (
	"encoding/json"
	"testing"

	"github.com/expr-lang/expr"
)

// TestComparisonsReadNumericText checks a number compared with text that
// spells a number compares as numbers (CSV values are text), while text
// against text, nil and other types compare as before.
func TestComparisonsReadNumericText(t *testing.T) {
	for _, tc := range []struct {
		src    string
		env    map[string]any
		want   bool
		hasErr bool
	}{
		{"(score ?? 0) >= 50", map[string]any{"score": "60"}, true, false},
		{"(score ?? 0) >= 50", map[string]any{"score": " 49.5 "}, false, false},
		{"(score ?? 0) >= 50", map[string]any{"score": 60.0}, true, false},
		{"(score ?? 0) >= 50", map[string]any{"score": json.Number("75")}, true, false},
		{"(score ?? 0) >= 50", map[string]any{}, false, false},
		{"score < 1e3", map[string]any{"score": "-2"}, true, false},
		{"50 <= score", map[string]any{"score": "50"}, true, false},
		{"status == 1", map[string]any{"status": "1"}, true, false},
		{"status != 1", map[string]any{"status": "1.0"}, false, false},
		{"status == 'active'", map[string]any{"status": "active"}, true, false},
		{"name >= 'M'", map[string]any{"name": "Zed"}, true, false},
		{"code < '9'", map[string]any{"code": "10"}, true, false}, // text against text stays text
		{"x == nil", map[string]any{}, true, false},
		{"score >= 50", map[string]any{"score": "lots"}, false, true},
		{"score >= 50", map[string]any{"score": "0x40"}, false, true},
		{"score >= 50", map[string]any{"score": nil}, false, true},
	} {
		p, err := compileFilter(tc.src)
		if err != nil {
			t.Fatalf("%s: %v", tc.src, err)
		}
		got, err := expr.Run(p, tc.env)
		if (err != nil) != tc.hasErr {
			t.Errorf("%s with %v: error %v", tc.src, tc.env, err)
			continue
		}
		if err == nil && got != tc.want {
			t.Errorf("%s with %v = %v, want %v", tc.src, tc.env, got, tc.want)
		}
	}
}
