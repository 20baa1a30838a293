package mapping

import (
	"fmt"
	"reflect"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"
)

// exprOptions are the options every mapping expression is compiled with:
// the record's fields are the variables (a field the record lacks reads as
// nil rather than failing the compile, since records of one source differ),
// plus a few helpers that make fallbacks and templates short.
func exprOptions() []expr.Option {
	return append(append(compareOptions(), boolTextOptions()...),
		expr.Env(map[string]any{}),
		expr.AllowUndefinedVariables(),
		// str(x) renders x as text, nil as "" (expr's string(nil) is "<nil>"),
		// so templates do not print placeholders for missing fields.
		expr.Function("str", func(p ...any) (any, error) {
			if p[0] == nil {
				return "", nil
			}
			if s, ok := text(p[0]); ok {
				return s, nil
			}
			return fmt.Sprint(p[0]), nil
		}, new(func(any) string)),
		// coalesce(a, b, ...) is the first argument that is not empty.
		expr.Function("coalesce", func(p ...any) (any, error) {
			for _, v := range p {
				if !isEmpty(v) {
					return v, nil
				}
			}
			return nil, nil
		}),
		// blank(x) reports whether x is nil, blank text or an empty list.
		expr.Function("blank", func(p ...any) (any, error) {
			return isEmpty(p[0]), nil
		}, new(func(any) bool)),
	)
}

// compileExpr compiles a value expression.
func compileExpr(src string) (*vm.Program, error) {
	return expr.Compile(src, exprOptions()...)
}

// compileFilter compiles a filter; its result must be a boolean.
func compileFilter(src string) (*vm.Program, error) {
	return expr.Compile(src, append(exprOptions(), expr.AsBool())...)
}

// staticType is what the checker knows of an expression's result:
// "string", "bool", "number", "list" or "" when it depends on the record.
func staticType(p *vm.Program) string {
	n := p.Node()
	if n == nil || n.Type() == nil {
		return ""
	}
	switch n.Type().Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "bool"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Slice, reflect.Array:
		return "list"
	}
	return ""
}
