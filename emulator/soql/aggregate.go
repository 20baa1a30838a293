package soql

import (
	"slices"
	"strconv"
	"strings"
	"time"
)

// Aggregate queries (GROUP BY, HAVING, COUNT/COUNT_DISTINCT/SUM/MIN/MAX/AVG)
// and parent-to-child subqueries.
//
// A group is evaluated as a Row (groupRow) that reads plain fields from its
// first record, which every record of the group shares for the grouped
// fields; aggregates read all of its records. So HAVING and ORDER BY
// compile with the ordinary comparison code.

// groupKey reads one GROUP BY field and normalises it for grouping: text
// compares case-insensitively, as Salesforce groups it.
type groupKey struct {
	get func(Row) any
	typ valueType
}

// groupRow is a group of rows seen as one Row.
type groupRow struct{ rows []Row }

func (g *groupRow) Get(f *Field) any {
	if len(g.rows) == 0 {
		return nil
	}
	return g.rows[0].Get(f)
}

func (g *groupRow) Parent(ref *Field) Row {
	if len(g.rows) == 0 {
		return nil
	}
	return g.rows[0].Parent(ref)
}

// aggregateColumn compiles an aggregate function of the SELECT list.
func (c *compiler) aggregateColumn(x *CountExpr) (*Column, error) {
	col, err := c.aggregateOperand(x)
	if err != nil {
		return nil, err
	}
	alias := x.Alias
	if alias == "" {
		alias = "expr" + strconv.Itoa(c.aggs)
		c.aggs++
	}
	col.Path = alias
	return col, nil
}

// aggregateOperand compiles FUNC(field) into a column whose reader takes a
// groupRow. Its Field is typed for comparisons: int for the counts, double
// for SUM and AVG, the field's own type for MIN and MAX.
func (c *compiler) aggregateOperand(x *CountExpr) (*Column, error) {
	if x.Field == nil {
		return nil, errAt(c.src, x.Pos, CodeMalformedQuery, "COUNT() cannot be used here; use COUNT(field)")
	}
	in, err := c.resolve(x.Field)
	if err != nil {
		return nil, err
	}
	fn := x.Name()
	vt := typeOf(in.Field.Type)
	out := &Field{Name: fn, Type: "int"}
	switch fn {
	case "SUM", "AVG":
		if vt != vNumber {
			// UNCONFIRMED wording.
			return nil, errAt(c.src, x.Field.Pos, CodeInvalidField, "field %s does not support aggregate operator %s", in.Field.Name, fn)
		}
		out.Type = "double"
	case "MIN", "MAX":
		if vt == vBool {
			return nil, errAt(c.src, x.Field.Pos, CodeInvalidField, "field %s does not support aggregate operator %s", in.Field.Name, fn)
		}
		out = in.Field
	}
	get, null := in.get, nullTest(vt)
	var eval func(rows []Row) any
	switch fn {
	case "COUNT":
		eval = func(rows []Row) any {
			n := 0
			for _, r := range rows {
				if !null(get(r)) {
					n++
				}
			}
			return n
		}
	case "COUNT_DISTINCT":
		eval = func(rows []Row) any {
			seen := map[string]bool{}
			for _, r := range rows {
				if v := get(r); !null(v) {
					seen[normKey(vt, v)] = true
				}
			}
			return len(seen)
		}
	case "SUM", "AVG":
		eval = func(rows []Row) any {
			sum, n := 0.0, 0
			for _, r := range rows {
				if f, ok := toFloat(get(r)); ok {
					sum += f
					n++
				}
			}
			switch {
			case n == 0:
				return nil
			case fn == "AVG":
				return sum / float64(n)
			}
			return sum
		}
	case "MIN", "MAX":
		eval = func(rows []Row) any {
			var best any
			for _, r := range rows {
				v := get(r)
				if null(v) {
					continue
				}
				if best == nil {
					best = v
					continue
				}
				d := compareValues(vt, v, best)
				if fn == "MIN" && d < 0 || fn == "MAX" && d > 0 {
					best = v
				}
			}
			return best
		}
	}
	return &Column{
		Field: out, Count: true, Agg: fn, Display: fn + "(" + x.Field.String() + ")",
		get: func(r Row) any {
			if g, ok := r.(*groupRow); ok {
				return eval(g.rows)
			}
			return eval([]Row{r})
		},
	}, nil
}

// normKey is a value's grouping key.
func normKey(vt valueType, v any) string {
	switch x := v.(type) {
	case nil:
		return "\\x00"
	case string:
		if vt == vText || vt == vID {
			if x == "" {
				return "\\x00"
			}
			return "s" + strings.ToLower(x)
		}
		return "s" + x
	case time.Time:
		return "t" + strconv.FormatInt(x.UnixNano(), 10)
	case bool:
		return "b" + strconv.FormatBool(x)
	}
	if f, ok := toFloat(v); ok {
		return "n" + strconv.FormatFloat(f, 'g', -1, 64)
	}
	return "?"
}

// operand resolves the left side of a condition or an ORDER BY key: a
// field, or (in HAVING and aggregate ORDER BY) an aggregate function. In
// those, a plain field must be grouped.
func (c *compiler) operandIn(f *FieldRef, agg *CountExpr, clause string) (*Column, error) {
	if agg != nil {
		if !c.having {
			// UNCONFIRMED wording.
			return nil, errAt(c.src, agg.Pos, CodeMalformedQuery, "Aggregate functions are not allowed in the WHERE clause; use HAVING")
		}
		return c.aggregateOperand(agg)
	}
	col, err := c.resolveExpr(f, clause)
	if err != nil {
		return nil, err
	}
	if c.having && !c.grouped(col) {
		return nil, errAt(c.src, f.Pos, CodeMalformedQuery, "Field must be grouped or aggregated: %s", f.String())
	}
	return col, nil
}

// condClause is the clause a condition being compiled belongs to.
func (c *compiler) condClause() string {
	if c.having {
		return inHaving
	}
	return inWhere
}

// grouped reports whether col is one of the GROUP BY fields (or date
// functions of them).
func (c *compiler) grouped(col *Column) bool {
	for _, g := range c.plan.Query.GroupBy {
		if gc, err := c.resolveExpr(g, inGroupBy); err == nil && strings.EqualFold(groupPathOf(gc), groupPathOf(col)) {
			return true
		}
	}
	return false
}

// groupClauses compiles GROUP BY and HAVING, and checks that every plain
// field selected is grouped.
func (c *compiler) groupClauses(p *Plan, q *Query) error {
	if q.Having != nil && len(q.GroupBy) == 0 {
		return errAt(c.src, q.From.Pos, CodeMalformedQuery, "HAVING requires GROUP BY")
	}
	for _, g := range q.GroupBy {
		col, err := c.resolveExpr(g, inGroupBy)
		if err != nil {
			return err
		}
		p.groupBy = append(p.groupBy, groupKey{get: col.get, typ: typeOf(col.Field.Type)})
	}
	if len(q.GroupBy) > 0 {
		for i, it := range q.Select {
			if it.Field == nil {
				continue
			}
			if !c.grouped(p.Columns[i]) {
				return errAt(c.src, it.Field.Pos, CodeMalformedQuery, "Field must be grouped or aggregated: %s", it.Field.String())
			}
			// AggregateResult names a grouped field by its own name (a
			// date function by its alias or exprN, set already).
			if it.Alias == "" && !hasDateFunc(it.Field) {
				p.Columns[i].Path = p.Columns[i].Field.Name
			}
		}
	}
	if q.Having != nil {
		c.having = true
		h, err := c.expr(q.Having)
		c.having = false
		if err != nil {
			return err
		}
		p.having = h
	}
	return nil
}

// Groups computes an aggregate plan's AggregateResult rows over the rows
// the WHERE clause selected: one per group (one in all without GROUP BY,
// even over no rows), filtered by HAVING, ordered, then OFFSET and LIMIT.
// Each row holds the Columns' values in order: grouped fields as stored,
// counts as int, SUM and AVG as float64 (nil over no values), MIN and MAX
// as stored.
func (p *Plan) Groups(rows []Row) [][]any {
	var groups []*groupRow
	if len(p.groupBy) == 0 {
		groups = []*groupRow{{rows: rows}}
	} else {
		index := map[string]*groupRow{}
		var key strings.Builder
		for _, r := range rows {
			key.Reset()
			for _, g := range p.groupBy {
				key.WriteString(normKey(g.typ, g.get(r)))
				key.WriteByte(0x1f)
			}
			gr := index[key.String()]
			if gr == nil {
				gr = &groupRow{}
				index[key.String()] = gr
				groups = append(groups, gr)
			}
			gr.rows = append(gr.rows, r)
		}
	}
	if p.having != nil {
		kept := groups[:0]
		for _, g := range groups {
			if p.having(g) {
				kept = append(kept, g)
			}
		}
		groups = kept
	}
	if len(p.order) > 0 {
		slices.SortStableFunc(groups, func(a, b *groupRow) int { return p.compareRows(a, b) })
	}
	if p.Offset > 0 {
		groups = groups[min(p.Offset, len(groups)):]
	}
	if p.Limit >= 0 && p.Limit < len(groups) {
		groups = groups[:p.Limit]
	}
	out := make([][]any, len(groups))
	for i, g := range groups {
		vals := make([]any, len(p.Columns))
		for k, col := range p.Columns {
			vals[k] = col.get(g)
		}
		out[i] = vals
	}
	return out
}

// subquery compiles a parent-to-child subquery of the SELECT list.
func (c *compiler) subquery(p *Plan, q *Query) (*Column, error) {
	cr, ok := c.obj.(ChildRelationships)
	var child Object
	var ref *Field
	var name string
	if ok {
		child, ref, name = cr.ChildRelationship(q.From.Name)
	}
	if child == nil {
		return nil, errAt(c.src, q.From.Pos, CodeInvalidType,
			"Didn't understand relationship '%s' in FROM part of query call. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names.", q.From.Name)
	}
	for _, it := range q.Select {
		if it.Count != nil {
			return nil, errAt(c.src, it.Count.Pos, CodeMalformedQuery, "Aggregate functions are not supported in a subquery")
		}
	}
	sc := &compiler{src: c.src, schema: c.schema, obj: child, alias: q.From.Alias, today: c.today}
	sp, err := sc.compile(q, child)
	if err != nil {
		return nil, err
	}
	sub := &SubPlan{Name: name, Child: child, Ref: ref, Plan: sp}
	p.Subqueries = append(p.Subqueries, sub)
	return &Column{Path: name, Display: name, Sub: sub, get: func(Row) any { return nil }}, nil
}
