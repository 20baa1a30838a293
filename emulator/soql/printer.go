package soql

import (
	"strconv"
	"strings"
)

// String prints q as canonical SOQL: upper-case keywords, single spaces,
// identifiers and literals as written, parentheses exactly where a nested
// condition needs them. Parsing the output yields an equal Query.
func (q *Query) String() string {
	var b strings.Builder
	q.write(&b)
	return b.String()
}

func (c *CountExpr) write(b *strings.Builder) {
	b.WriteString(c.Name() + "(")
	if c.Field != nil {
		b.WriteString(c.Field.String())
	}
	b.WriteString(")")
}

func (q *Query) write(b *strings.Builder) {
	b.WriteString("SELECT ")
	for i, it := range q.Select {
		if i > 0 {
			b.WriteString(", ")
		}
		switch {
		case it.Sub != nil:
			b.WriteByte('(')
			it.Sub.write(b)
			b.WriteByte(')')
		case it.Count != nil:
			it.Count.write(b)
			if it.Count.Alias != "" {
				b.WriteString(" " + it.Count.Alias)
			}
		case it.Fields != nil:
			b.WriteString("FIELDS(" + it.Fields.Set + ")")
		case it.TypeOf != nil:
			it.TypeOf.write(b)
		default:
			b.WriteString(it.Field.String())
			if it.Alias != "" {
				b.WriteString(" " + it.Alias)
			}
		}
	}
	b.WriteString(" FROM " + q.From.Name)
	if q.From.Alias != "" {
		b.WriteString(" " + q.From.Alias)
	}
	if q.Where != nil {
		b.WriteString(" WHERE ")
		writeExpr(b, q.Where, false)
	}
	if q.With != "" {
		b.WriteString(" WITH " + q.With)
	}
	for i, g := range q.GroupBy {
		if i == 0 {
			b.WriteString(" GROUP BY ")
		} else {
			b.WriteString(", ")
		}
		b.WriteString(g.String())
	}
	if q.Having != nil {
		b.WriteString(" HAVING ")
		writeExpr(b, q.Having, false)
	}
	for i, o := range q.OrderBy {
		if i == 0 {
			b.WriteString(" ORDER BY ")
		} else {
			b.WriteString(", ")
		}
		if o.Agg != nil {
			o.Agg.write(b)
		} else {
			b.WriteString(o.Field.String())
		}
		if o.Desc {
			b.WriteString(" DESC")
		} else {
			b.WriteString(" ASC")
		}
		switch o.Nulls {
		case NullsFirst:
			b.WriteString(" NULLS FIRST")
		case NullsLast:
			b.WriteString(" NULLS LAST")
		}
	}
	if q.Limit != nil {
		b.WriteString(" LIMIT " + strconv.Itoa(q.Limit.Value))
	}
	if q.Offset != nil {
		b.WriteString(" OFFSET " + strconv.Itoa(q.Offset.Value))
	}
	if q.For != "" {
		b.WriteString(" FOR " + q.For)
	}
}

// writeExpr prints x; nested wraps a *Logical in parentheses.
func writeExpr(b *strings.Builder, x Expr, nested bool) {
	switch x := x.(type) {
	case *Logical:
		if nested {
			b.WriteByte('(')
		}
		op := " AND "
		if x.Or {
			op = " OR "
		}
		for i, t := range x.Terms {
			if i > 0 {
				b.WriteString(op)
			}
			writeExpr(b, t, true)
		}
		if nested {
			b.WriteByte(')')
		}
	case *Not:
		b.WriteString("NOT ")
		writeExpr(b, x.X, true)
	case *Compare:
		if x.Agg != nil {
			x.Agg.write(b)
		} else {
			b.WriteString(x.Field.String())
		}
		b.WriteByte(' ')
		b.WriteString(string(x.Op))
		b.WriteByte(' ')
		writeValue(b, x.Value)
	case *Includes:
		b.WriteString(x.Field.String())
		if x.Excludes {
			b.WriteString(" EXCLUDES (")
		} else {
			b.WriteString(" INCLUDES (")
		}
		for i, v := range x.Values {
			if i > 0 {
				b.WriteString(", ")
			}
			writeValue(b, v)
		}
		b.WriteByte(')')
	case *In:
		b.WriteString(x.Field.String())
		if x.Not {
			b.WriteString(" NOT IN (")
		} else {
			b.WriteString(" IN (")
		}
		if x.Sub != nil {
			x.Sub.write(b)
		}
		for i, v := range x.Values {
			if i > 0 {
				b.WriteString(", ")
			}
			writeValue(b, v)
		}
		b.WriteByte(')')
	}
}

func writeValue(b *strings.Builder, v Value) {
	switch v.Kind {
	case KindString:
		b.WriteByte('\'')
		b.WriteString(v.Text)
		b.WriteByte('\'')
	case KindDateConst:
		b.WriteString(v.Text)
		if dateConstants[v.Text].takesN {
			b.WriteString(":" + strconv.Itoa(v.N))
		}
	default:
		b.WriteString(v.Text)
	}
}

// Quote returns s as a SOQL string literal, escaping what SOQL requires.
func Quote(s string) string {
	var b strings.Builder
	b.WriteByte('\'')
	for _, r := range s {
		switch r {
		case '\\':
			b.WriteString(`\\`)
		case '\'':
			b.WriteString(`\'`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('\'')
	return b.String()
}

func (x *TypeOf) write(b *strings.Builder) {
	b.WriteString("TYPEOF " + x.Rel.String())
	list := func(fs []*FieldRef) {
		for i, f := range fs {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(f.String())
		}
	}
	for _, w := range x.Whens {
		b.WriteString(" WHEN " + w.Type + " THEN ")
		list(w.Fields)
	}
	if x.Else != nil {
		b.WriteString(" ELSE ")
		list(x.Else)
	}
	b.WriteString(" END")
}
