package mapping

import (
	"fmt"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
)

// Logic in expressions reads text that spells a boolean as that boolean:
// a CSV file carries every value as text, so disable_when: "!activated"
// must read the column's "false" as false, as it reads JSON's false, rather
// than fail the record. The texts are those a boolean field takes
// (true/false, yes/no, y/n, 1/0, on/off, t/f, any case). Other values are
// left as they are, so expr still refuses !"maybe". An empty operand (a
// missing field, an empty CSV cell) fails the record naming the operand
// and the way out, (activated ?? false), rather than with expr's
// "interface conversion: interface {} is nil, not bool".

// truthFunc is the function the operands of !, &&, || and ?: are wrapped in.
const truthFunc = "__truth"

// boolText wraps the operands of the logical operators and the condition
// of a ternary in __truth(x). A bare field as the whole filter is not
// read this way (expr's AsBool casts it): compare it, activated == "true".
type boolText struct{}

func (boolText) Visit(node *ast.Node) {
	switch n := (*node).(type) {
	case *ast.UnaryNode:
		if n.Operator == "!" || n.Operator == "not" {
			n.Node = truthCall(n.Node)
		}
	case *ast.BinaryNode:
		switch n.Operator {
		case "&&", "||", "and", "or":
			n.Left, n.Right = truthCall(n.Left), truthCall(n.Right)
		}
	case *ast.ConditionalNode:
		n.Cond = truthCall(n.Cond)
	}
}

func truthCall(n ast.Node) ast.Node {
	if c, ok := n.(*ast.CallNode); ok {
		if id, ok := c.Callee.(*ast.IdentifierNode); ok && id.Value == truthFunc {
			return n // already wrapped (patchers may run more than once)
		}
	}
	return &ast.CallNode{Callee: &ast.IdentifierNode{Value: truthFunc}, Arguments: []ast.Node{n, &ast.StringNode{Value: n.String()}}}
}

// truth returns the boolean text v spells, else v unchanged; nil (what
// the operand src gave) is an error saying so.
func truth(v any, src string) (any, error) {
	if v == nil {
		return nil, fmt.Errorf("%s is empty (a missing field or an empty cell) where true or false is wanted; give it a default: (%s ?? false)", src, src)
	}
	if s, ok := v.(string); ok {
		if b, ok := parseBool(s); ok {
			return b, nil
		}
	}
	return v, nil
}

// boolTextOptions adds the rewrite and its function to an expression's
// options.
func boolTextOptions() []expr.Option {
	return []expr.Option{
		expr.Function(truthFunc, func(p ...any) (any, error) { return truth(p[0], p[1].(string)) }, new(func(any, string) any)),
		expr.Patch(boolText{}),
	}
}
