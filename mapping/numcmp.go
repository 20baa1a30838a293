package mapping

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/vm/runtime"
)

// Comparisons in expressions treat text that spells a number as that
// number when the other side is a number: a CSV file carries every value as
// text, so a filter such as (score ?? 0) >= 50 must read "60" as 60 rather
// than fail. Text against text still compares as text, and anything else
// compares as expr does.

// compareFunc is the function the comparisons are rewritten into.
const compareFunc = "__compare"

// numericCompare rewrites a < b, a <= b, a > b, a >= b, a == b and a != b
// into __compare("op", a, b).
type numericCompare struct{}

func (numericCompare) Visit(node *ast.Node) {
	b, ok := (*node).(*ast.BinaryNode)
	if !ok {
		return
	}
	switch b.Operator {
	case "<", "<=", ">", ">=", "==", "!=":
	default:
		return
	}
	call := &ast.CallNode{Callee: &ast.IdentifierNode{Value: compareFunc},
		Arguments: []ast.Node{&ast.StringNode{Value: b.Operator}, b.Left, b.Right}}
	ast.Patch(node, call)
}

// compareOptions adds the rewrite and its function to an expression's
// options.
func compareOptions() []expr.Option {
	return []expr.Option{
		expr.Function(compareFunc, func(p ...any) (any, error) {
			return compare(p[0].(string), p[1], p[2])
		}, new(func(string, any, any) bool)),
		expr.Patch(numericCompare{}),
	}
}

// compare applies op to a and b, reading numeric text as a number when the
// other side is a number.
func compare(op string, a, b any) (res bool, err error) {
	if x, ok := numberOf(a); ok {
		if y, ok := numericText(b); ok {
			return compareFloats(op, x, y), nil
		}
	}
	if y, ok := numberOf(b); ok {
		if x, ok := numericText(a); ok {
			return compareFloats(op, x, y), nil
		}
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	switch op {
	case "==":
		return runtime.Equal(a, b), nil
	case "!=":
		return !runtime.Equal(a, b), nil
	case "<":
		return runtime.Less(a, b), nil
	case "<=":
		return runtime.LessOrEqual(a, b), nil
	case ">":
		return runtime.More(a, b), nil
	case ">=":
		return runtime.MoreOrEqual(a, b), nil
	}
	return false, fmt.Errorf("unknown comparison %q", op)
}

func compareFloats(op string, x, y float64) bool {
	switch op {
	case "==":
		return x == y
	case "!=":
		return x != y
	case "<":
		return x < y
	case "<=":
		return x <= y
	case ">":
		return x > y
	}
	return x >= y
}

// numberOf returns v as a float64 when v is a number (not text).
func numberOf(v any) (float64, bool) {
	switch x := v.(type) {
	case int:
		return float64(x), true
	case int8:
		return float64(x), true
	case int16:
		return float64(x), true
	case int32:
		return float64(x), true
	case int64:
		return float64(x), true
	case uint:
		return float64(x), true
	case uint8:
		return float64(x), true
	case uint16:
		return float64(x), true
	case uint32:
		return float64(x), true
	case uint64:
		return float64(x), true
	case float32:
		return float64(x), true
	case float64:
		return x, true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	}
	return 0, false
}

// numericText returns the number text v spells: an optional sign, digits
// with an optional decimal point, an optional exponent; spaces around are
// ignored. "1e3" and "-2.5" are numbers; "0x10", "Inf", "1_000" and "" are
// not.
func numericText(v any) (float64, bool) {
	s, ok := v.(string)
	if !ok {
		if n, ok := v.(json.Number); ok {
			s = string(n)
		} else {
			return 0, false
		}
	}
	s = strings.TrimSpace(s)
	if !plainNumber(s) {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	return f, err == nil
}

func plainNumber(s string) bool {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
		digits++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			digits++
		}
	}
	if digits == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		exp := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			exp++
		}
		if exp == 0 {
			return false
		}
	}
	return i == len(s)
}
