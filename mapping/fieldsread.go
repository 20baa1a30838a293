package mapping

import (
	"strings"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/vm"
)

// ReadsField reports whether the mapping reads the source field name
// (a top-level field, as a CSV column or an NDJSON key names it): a row
// copies it, a fallback chain or an expression (a value, the filter,
// disable_when) mentions it, it carries the password, or a pulled row
// writes Salesforce's value into it. A field inside it (a dot path such as
// address.city) counts for the field. An expression that reaches the
// record as a whole ($env) reads every field.
func (c *Compiled) ReadsField(name string) bool {
	c.readOnce.Do(c.collectReads)
	return c.readsAll || c.reads[name]
}

// collectReads fills reads and readsAll from the compiled mapping.
func (c *Compiled) collectReads() {
	c.reads = map[string]bool{}
	path := func(whole string, p []string) {
		c.reads[whole] = true
		if len(p) > 0 {
			c.reads[p[0]] = true
		}
	}
	prog := func(p *vm.Program) {
		if p == nil {
			return
		}
		n := p.Node()
		ast.Walk(&n, identVisitor(func(name string) {
			if name == "$env" {
				c.readsAll = true
			}
			c.reads[name] = true
		}))
	}
	for _, r := range c.rows {
		switch r.kind {
		case fromSource:
			path(r.field, r.path)
		case fromExpr:
			prog(r.prog)
		case fromFirstOf:
			for _, l := range r.chain {
				if !l.isConst {
					path(l.field, l.path)
				}
			}
		}
	}
	prog(c.filter)
	prog(c.life.disableWhen)
	if c.password != "" {
		c.reads[c.password] = true
	}
	for _, pf := range c.pulls {
		path(pf.Source, strings.Split(pf.Source, "."))
	}
}

// identVisitor calls its func with each identifier of an expression.
type identVisitor func(string)

func (f identVisitor) Visit(n *ast.Node) {
	if id, ok := (*n).(*ast.IdentifierNode); ok {
		f(id.Value)
	}
}
