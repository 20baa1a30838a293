package mapping

import (
	"strings"
	"testing"

	"github.com/expr-lang/expr"
)

// TestLogicReadsBooleanText checks that !, &&, || and ?: read
// text spelling a boolean (a CSV column) as that boolean, while other text
// still fails the record as before.
func TestLogicReadsBooleanText(t *testing.T) {
	for _, tc := range []struct {
		src    string
		env    map[string]any
		want   bool
		hasErr bool
	}{
		{"!activated", map[string]any{"activated": "false"}, true, false},
		{"!activated", map[string]any{"activated": "TRUE"}, false, false},
		{"!activated", map[string]any{"activated": false}, true, false},
		{"not activated", map[string]any{"activated": "0"}, true, false},
		{"activated && vip", map[string]any{"activated": "yes", "vip": "on"}, true, false},
		{"activated || vip", map[string]any{"activated": "no", "vip": "f"}, false, false},
		{"(activated ? 'a' : 'b') == 'b'", map[string]any{"activated": "false"}, true, false},
		{"!activated", map[string]any{"activated": "maybe"}, false, true},
		{"!activated", map[string]any{}, false, true},
		{"vip || activated", map[string]any{"vip": "no"}, false, true},
		{"activated || vip", map[string]any{"activated": "yes"}, true, false}, // vip never read
		{"!(activated ?? false)", map[string]any{}, true, false},
	} {
		p, err := compileFilter(tc.src)
		if err != nil {
			t.Fatalf("%s: %v", tc.src, err)
		}
		c := &Compiled{filter: p}
		got, err := c.Filter(tc.env)
		if (err != nil) != tc.hasErr || (err == nil && got != tc.want) {
			t.Errorf("%s with %v: %v, %v; want %v (error %v)", tc.src, tc.env, got, err, tc.want, tc.hasErr)
		}
		c = &Compiled{}
		if c.life.disableWhen, err = expr.Compile(tc.src, append(exprOptions(), expr.AsBool())...); err != nil {
			t.Fatal(err)
		}
		got, err = c.DisabledBy(tc.env)
		if (err != nil) != tc.hasErr || (err == nil && got != tc.want) {
			t.Errorf("disable_when %s with %v: %v, %v; want %v (error %v)", tc.src, tc.env, got, err, tc.want, tc.hasErr)
		}
	}
}

// TestLogicNamesAnEmptyOperand: disable_when: "!activated" on a record
// without the field (an empty CSV cell) fails naming the field and the
// way out, not with Go's "interface conversion: interface {} is nil".
func TestLogicNamesAnEmptyOperand(t *testing.T) {
	c := &Compiled{}
	var err error
	if c.life.disableWhen, err = expr.Compile("!activated", append(exprOptions(), expr.AsBool())...); err != nil {
		t.Fatal(err)
	}
	_, err = c.DisabledBy(map[string]any{"login": "ada"})
	if err == nil || !strings.Contains(err.Error(), "activated is empty") || !strings.Contains(err.Error(), "(activated ?? false)") ||
		strings.Contains(err.Error(), "interface conversion") {
		t.Fatalf("DisabledBy without the field: %v; want an error naming activated and the default", err)
	}
}
