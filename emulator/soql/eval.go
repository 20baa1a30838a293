package soql

import (
	"cmp"
	"encoding/json"
	"iter"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Options tunes Compile. The zero value is ready to use.
type Options struct {
	// Now anchors date constants (TODAY, LAST_N_DAYS:n), taken in UTC.
	// Nil means time.Now.
	Now func() time.Time
	// Location is the querying user's time zone, for convertTimezone()
	// and FORMAT() of dateTimes. Nil means UTC.
	Location *time.Location
}

// Plan is a query compiled against a schema: names resolved, literals typed,
// the WHERE clause turned into closures. A Plan holds no rows and may be run
// any number of times, from several goroutines.
type Plan struct {
	Query  *Query
	Object Object
	// CountOnly is set for SELECT COUNT(): the answer is the number of rows.
	CountOnly bool
	// Aggregate is set for aggregate functions or GROUP BY: the answer is
	// AggregateResult rows, which Groups computes (one row without GROUP BY).
	Aggregate bool
	// Subqueries are the parent-to-child subqueries, in SELECT order (each
	// also has a Column with Sub set).
	Subqueries []*SubPlan
	// Columns are the selected items in order (empty for COUNT()).
	Columns []*Column
	// Limit is the LIMIT, or -1; Offset the OFFSET, or 0.
	Limit, Offset int

	where func(Row) bool
	order []orderKey
	// Aggregate plans: GROUP BY readers, HAVING on a group.
	groupBy []groupKey
	having  func(Row) bool
}

// SubPlan is a compiled parent-to-child subquery.
type SubPlan struct {
	// Name is the relationship name as Salesforce spells it (Contacts),
	// the key of the nested result.
	Name string
	// Child is the child object; Ref its reference field to the parent.
	Child Object
	Ref   *Field
	// Plan selects, orders and limits one parent's children.
	Plan *Plan
}

// Column is one selected item.
type Column struct {
	// Path is the canonical name: "Email", "Owner.Name"; for COUNT(field)
	// the alias ("expr0" unless aliased).
	Path string
	// Field is the field read: on the queried object, or on the parent.
	Field *Field
	// Ref is the reference field on the queried object for a parent column
	// (OwnerId for Owner.Name); nil for a field of the object itself.
	Ref *Field
	// Parent is the parent object's canonical name for a parent column.
	Parent string
	// Count is set for aggregate functions (COUNT(field), SUM, ...); Agg
	// names the function.
	Count bool
	Agg   string
	// Display is how the item reads in column metadata: COUNT(Id), Owner.Name.
	Display string
	// Refs is the chain of reference fields of a parent column, from the
	// queried object up (Account, then Owner for Account.Owner.Name); Ref
	// is Refs[0].
	Refs []*Field
	// Sub is set for a subquery column; its value is the children.
	Sub *SubPlan
	// TypeOf is set for a TYPEOF column; the caller renders it from the
	// polymorphic parent record.
	TypeOf *TypeOfPlan
	// Func names the value function of a column of the object or a parent
	// (toLabel, FORMAT); Field stays the field read. Formatted says the
	// value is already the string to send. Alias, when set, is the key the
	// column answers under instead of the field's name.
	Func      string
	Formatted bool
	Alias     string

	get func(Row) any
	// groupPath is how GROUP BY matching names a date-function column
	// (CALENDAR_YEAR(CreatedDate)); "" means Path. inner is the column a
	// function wraps.
	groupPath string
	inner     *Column
}

// TypeOfPlan is a compiled TYPEOF: which fields to read of the polymorphic
// parent, by the parent's type.
type TypeOfPlan struct {
	// Name is the relationship name (Owner); Ref its reference field.
	Name string
	Ref  *Field
	// Cases are the WHEN branches in order; Else the ELSE fields by name
	// (read on whatever type the parent is), nil without ELSE.
	Cases []TypeOfCase
	Else  []string
}

// TypeOfCase is one WHEN Type THEN fields branch, the fields resolved on Type.
type TypeOfCase struct {
	Type   string
	Fields []*Field
}

// Fields returns the fields to read of a parent of type typ, and whether
// the parent renders at all (a type no branch names, without ELSE, gives
// just its attributes); names are for ELSE fields.
func (t *TypeOfPlan) Fields(typ string) (fields []*Field, names []string) {
	for _, c := range t.Cases {
		if strings.EqualFold(c.Type, typ) {
			return c.Fields, nil
		}
	}
	return nil, t.Else
}

// Value reads the column from r (nil for null, or an empty reference).
func (c *Column) Value(r Row) any { return c.get(r) }

type orderKey struct {
	get        func(Row) any
	typ        valueType
	desc       bool
	nullsFirst bool
}

// compiler carries what resolution needs.
type compiler struct {
	src    string
	schema Schema
	obj    Object
	alias  string
	today  time.Time
	// having is set while compiling HAVING and aggregate ORDER BY keys,
	// where rows are groups and aggregates may appear.
	having bool
	plan   *Plan
	// aggs numbers unaliased aggregates (expr0, expr1, ...).
	aggs int
	// loc is the user's time zone (Options.Location); aggregateQuery is
	// set when the query has aggregates or GROUP BY.
	loc            *time.Location
	aggregateQuery bool
}

// Compile resolves q against schema. src is the query text, used to place
// errors. Errors are *Error: INVALID_TYPE for an unknown object,
// INVALID_FIELD for unknown fields or mistyped literals,
// INVALID_QUERY_FILTER_OPERATOR for operators a field type does not allow,
// MALFORMED_QUERY for misplaced COUNT.
func Compile(src string, q *Query, schema Schema, opts Options) (*Plan, error) {
	obj := schema.Object(q.From.Name)
	if obj == nil {
		return nil, errAt(src, q.From.Pos, CodeInvalidType,
			"sObject type '%s' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names.", q.From.Name)
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	n := now().UTC()
	loc := opts.Location
	if loc == nil {
		loc = time.UTC
	}
	c := &compiler{src: src, schema: schema, obj: obj, alias: q.From.Alias, loc: loc,
		today: time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, time.UTC)}
	return c.compile(q, obj)
}

// compile builds the plan of q (the top query, or a subquery with obj its
// child object).
func (c *compiler) compile(q *Query, obj Object) (*Plan, error) {
	p := &Plan{Query: q, Object: obj, Limit: -1}
	c.plan = p
	c.aggregateQuery = len(q.GroupBy) > 0
	for _, it := range q.Select {
		if it.Count != nil && it.Count.Field != nil {
			c.aggregateQuery = true
		}
	}
	if q.Limit != nil {
		p.Limit = q.Limit.Value
	}
	if q.Offset != nil {
		p.Offset = q.Offset.Value
	}
	if err := c.selectList(p, q); err != nil {
		return nil, err
	}
	if q.Where != nil {
		w, err := c.expr(q.Where)
		if err != nil {
			return nil, err
		}
		p.where = w
	}
	if err := c.groupClauses(p, q); err != nil { // aggregate.go
		return nil, err
	}
	for _, o := range q.OrderBy {
		var col *Column
		var err error
		if p.Aggregate {
			c.having = true
			col, err = c.operandIn(o.Field, o.Agg, inOrderBy)
			c.having = false
		} else if o.Agg != nil {
			err = errAt(c.src, o.Agg.Pos, CodeMalformedQuery, "Ordered field must be grouped or aggregated: %s", o.Agg.Name())
		} else {
			col, err = c.resolveExpr(o.Field, inOrderBy)
		}
		if err != nil {
			return nil, err
		}
		nf := !o.Desc
		switch o.Nulls {
		case NullsFirst:
			nf = true
		case NullsLast:
			nf = false
		}
		p.order = append(p.order, orderKey{get: col.get, typ: typeOf(col.Field.Type), desc: o.Desc, nullsFirst: nf})
	}
	return p, nil
}

func (c *compiler) selectList(p *Plan, q *Query) error {
	seen := map[string]bool{}
	var plain *FieldRef
	for _, it := range q.Select {
		switch {
		case it.Sub != nil:
			col, err := c.subquery(p, it.Sub)
			if err != nil {
				return err
			}
			p.Columns = append(p.Columns, col)
			continue
		case it.Count != nil && it.Count.Field == nil:
			if len(q.Select) > 1 {
				return errAt(c.src, it.Count.Pos, CodeMalformedQuery, "COUNT() must be the only element in the SELECT list")
			}
			if len(q.GroupBy) > 0 {
				// UNCONFIRMED wording.
				return errAt(c.src, it.Count.Pos, CodeMalformedQuery, "COUNT() cannot be used with GROUP BY; use COUNT(field)")
			}
			p.CountOnly = true
			continue
		case it.Fields != nil:
			cols, err := c.fieldsMacro(q, it.Fields)
			if err != nil {
				return err
			}
			for _, col := range cols {
				// A field also named on its own is selected once.
				if !seen[strings.ToLower(col.Path)] {
					seen[strings.ToLower(col.Path)] = true
					p.Columns = append(p.Columns, col)
				}
			}
			continue
		case it.TypeOf != nil:
			col, err := c.typeOf(it.TypeOf)
			if err != nil {
				return err
			}
			if seen[strings.ToLower(col.Path)] {
				return errAt(c.src, it.TypeOf.Pos, CodeMalformedQuery, "duplicate field selected: %s", col.Path)
			}
			seen[strings.ToLower(col.Path)] = true
			p.Columns = append(p.Columns, col)
			continue
		case it.Count != nil:
			col, err := c.aggregateColumn(it.Count)
			if err != nil {
				return err
			}
			if seen[strings.ToLower(col.Path)] {
				return errAt(c.src, it.Count.Pos, CodeMalformedQuery, "duplicate alias: %s", col.Path)
			}
			seen[strings.ToLower(col.Path)] = true
			p.Aggregate = true
			p.Columns = append(p.Columns, col)
			continue
		}
		col, err := c.resolveExpr(it.Field, inSelect)
		if err != nil {
			return err
		}
		switch {
		case it.Alias != "":
			col.Alias, col.Path = it.Alias, it.Alias
		case hasDateFunc(it.Field):
			// An aggregate query names an unaliased expression exprN.
			col.Path = "expr" + strconv.Itoa(c.aggs)
			c.aggs++
		}
		if seen[strings.ToLower(col.Path)] && hasFieldsMacro(q) {
			continue
		}
		if seen[strings.ToLower(col.Path)] {
			return errAt(c.src, it.Field.Pos, CodeMalformedQuery, "duplicate field selected: %s", col.Path)
		}
		seen[strings.ToLower(col.Path)] = true
		if plain == nil {
			plain = it.Field
		}
		p.Columns = append(p.Columns, col)
	}
	if len(q.GroupBy) > 0 {
		p.Aggregate = true
	}
	if p.Aggregate && plain != nil && len(q.GroupBy) == 0 {
		return errAt(c.src, plain.Pos, CodeMalformedQuery, "Field must be grouped or aggregated: %s", plain.String())
	}
	if p.Aggregate {
		for _, col := range p.Columns {
			if col.TypeOf != nil {
				// UNCONFIRMED wording.
				return errAt(c.src, q.From.Pos, CodeMalformedQuery, "TYPEOF cannot be used with aggregate functions or GROUP BY")
			}
		}
	}
	if p.Aggregate && len(p.Subqueries) > 0 {
		return errAt(c.src, q.From.Pos, CodeMalformedQuery, "Subqueries cannot be used with aggregate functions or GROUP BY")
	}
	return nil
}

// semiJoin compiles Field [NOT] IN (SELECT field FROM Object ...): the
// inner query runs once, now, and the row tests membership of its values.
// Both sides must be Ids or references. The error texts are UNCONFIRMED.
func (c *compiler) semiJoin(x *In, col *Column) (func(Row) bool, error) {
	src, ok := c.schema.(RowSource)
	if !ok {
		return nil, errAt(c.src, x.Sub.From.Pos, CodeMalformedQuery, "unexpected token: 'SELECT'")
	}
	if typeOf(col.Field.Type) != vID {
		return nil, errAt(c.src, x.OpPos, CodeInvalidFilterOp,
			"The left operand of a semi join must be an Id or a reference field: %s", col.Path)
	}
	inner := c.schema.Object(x.Sub.From.Name)
	if inner == nil {
		return nil, errAt(c.src, x.Sub.From.Pos, CodeInvalidType,
			"sObject type '%s' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names.", x.Sub.From.Name)
	}
	if len(x.Sub.Select) != 1 || x.Sub.Select[0].Field == nil {
		return nil, errAt(c.src, x.Sub.From.Pos, CodeMalformedQuery, "A semi join sub-select must select exactly one Id or reference field")
	}
	sc := &compiler{src: c.src, schema: c.schema, obj: inner, alias: x.Sub.From.Alias, today: c.today}
	sp, err := sc.compile(x.Sub, inner)
	if err != nil {
		return nil, err
	}
	out := sp.Columns[0]
	if typeOf(out.Field.Type) != vID {
		return nil, errAt(c.src, x.Sub.Select[0].Field.Pos, CodeMalformedQuery,
			"A semi join sub-select must select an Id or a reference field: %s", out.Path)
	}
	set := map[string]bool{}
	for _, r := range sp.Select(src.Rows(inner)) {
		if s, ok := out.Value(r).(string); ok && s != "" {
			set[strings.ToLower(ID18(s))] = true
		}
	}
	get := col.get
	member := func(r Row) bool {
		s, ok := get(r).(string)
		return ok && s != "" && lowerLookup(set, s)
	}
	if x.Not {
		return func(r Row) bool { return !member(r) }, nil
	}
	return member, nil
}

// maxFieldsMacroLimit is the largest LIMIT a query with FIELDS(ALL) or
// FIELDS(CUSTOM) may have.
const maxFieldsMacroLimit = 200

// hasFieldsMacro reports whether q selects FIELDS(...).
func hasFieldsMacro(q *Query) bool {
	for _, it := range q.Select {
		if it.Fields != nil {
			return true
		}
	}
	return false
}

// fieldsMacro expands FIELDS(ALL|STANDARD|CUSTOM) into the object's
// columns. ALL and CUSTOM need a LIMIT of at most 200; none of them mixes
// with aggregates.
func (c *compiler) fieldsMacro(q *Query, m *FieldsMacro) ([]*Column, error) {
	if m.Set != "STANDARD" && (q.Limit == nil || q.Limit.Value > maxFieldsMacroLimit) {
		return nil, errAt(c.src, m.Pos, CodeMalformedQuery, "The SOQL FIELDS function must have a LIMIT of at most %d", maxFieldsMacroLimit)
	}
	if len(q.GroupBy) > 0 {
		// UNCONFIRMED wording.
		return nil, errAt(c.src, m.Pos, CodeMalformedQuery, "FIELDS(%s) cannot be used with GROUP BY", m.Set)
	}
	for _, it := range q.Select {
		if it.Count != nil {
			// UNCONFIRMED wording.
			return nil, errAt(c.src, m.Pos, CodeMalformedQuery, "FIELDS(%s) cannot be used with aggregate functions", m.Set)
		}
	}
	lister, ok := c.obj.(FieldLister)
	if !ok {
		return nil, errAt(c.src, m.Pos, CodeMalformedQuery, "unexpected token: 'FIELDS'")
	}
	var cols []*Column
	for _, f := range lister.Fields() {
		if m.Set == "STANDARD" && f.Custom || m.Set == "CUSTOM" && !f.Custom {
			continue
		}
		col, err := c.resolve(&FieldRef{Pos: m.Pos, Path: []string{f.Name}})
		if err != nil {
			return nil, err
		}
		cols = append(cols, col)
	}
	return cols, nil
}

// maxParentDepth is how many relationships a path may cross (Salesforce's
// limit for parent-to-child... child-to-parent paths is five).
const maxParentDepth = 5

// resolve turns a field path into a Column with its reader: a field of the
// object, or a field of a parent reached through up to five relationships
// (Contact.Account.Owner.Name on Case).
func (c *compiler) resolve(f *FieldRef) (*Column, error) {
	path := f.Path
	if len(path) > 1 && (strings.EqualFold(path[0], c.obj.Name()) || c.alias != "" && strings.EqualFold(path[0], c.alias)) {
		path = path[1:]
	}
	if len(path) == 1 {
		fd := c.obj.Field(path[0])
		if fd == nil {
			return nil, c.noSuchColumn(f, path[0], c.obj.Name())
		}
		return &Column{Path: fd.Name, Display: fd.Name, Field: fd, get: func(r Row) any { return r.Get(fd) }}, nil
	}
	if len(path)-1 > maxParentDepth {
		return nil, errAt(c.src, f.Pos, CodeMalformedQuery,
			"SOQL statements cannot query relationships that are more than %d levels away from the root entity object.", maxParentDepth)
	}
	refs, fd, parent, err := c.walk(f, c.obj, path)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(refs)+1)
	for i, r := range refs {
		names[i] = r.RelationshipName
	}
	names[len(refs)] = fd.Name
	get := func(r Row) any {
		for _, ref := range refs {
			if r = r.Parent(ref); r == nil {
				return nil
			}
		}
		return r.Get(fd)
	}
	p := strings.Join(names, ".")
	return &Column{Path: p, Display: p, Field: fd, Ref: refs[0], Refs: refs, Parent: parent, get: get}, nil
}

// walk follows path (relationships, then a field) from obj. With a
// polymorphic reference (Owner: Group or User) the first target on which
// the rest of the path resolves wins.
func (c *compiler) walk(f *FieldRef, obj Object, path []string) ([]*Field, *Field, string, error) {
	ref := obj.Relationship(path[0])
	if ref == nil || len(ref.ReferenceTo) == 0 {
		return nil, nil, "", errAt(c.src, f.Pos, CodeInvalidField,
			"Didn't understand relationship '%s' in field path. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names.", path[0])
	}
	var firstErr error
	for _, t := range ref.ReferenceTo {
		po := c.schema.Object(t)
		if po == nil {
			continue
		}
		if len(path) == 2 {
			if fd := po.Field(path[1]); fd != nil {
				return []*Field{ref}, fd, po.Name(), nil
			}
			if firstErr == nil {
				firstErr = c.noSuchColumn(f, path[1], po.Name())
			}
			continue
		}
		refs, fd, parent, err := c.walk(f, po, path[1:])
		if err == nil {
			return append([]*Field{ref}, refs...), fd, parent, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	if firstErr == nil {
		firstErr = c.noSuchColumn(f, path[1], ref.ReferenceTo[0])
	}
	return nil, nil, "", firstErr
}

func (c *compiler) noSuchColumn(f *FieldRef, name, entity string) *Error {
	return errAt(c.src, f.Pos, CodeInvalidField,
		"No such column '%s' on entity '%s'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.", name, entity)
}

func (c *compiler) expr(x Expr) (func(Row) bool, error) {
	switch x := x.(type) {
	case *Logical:
		terms := make([]func(Row) bool, len(x.Terms))
		for i, t := range x.Terms {
			f, err := c.expr(t)
			if err != nil {
				return nil, err
			}
			terms[i] = f
		}
		if len(terms) == 2 {
			a, b := terms[0], terms[1]
			if x.Or {
				return func(r Row) bool { return a(r) || b(r) }, nil
			}
			return func(r Row) bool { return a(r) && b(r) }, nil
		}
		if x.Or {
			return func(r Row) bool {
				for _, t := range terms {
					if t(r) {
						return true
					}
				}
				return false
			}, nil
		}
		return func(r Row) bool {
			for _, t := range terms {
				if !t(r) {
					return false
				}
			}
			return true
		}, nil
	case *Not:
		f, err := c.expr(x.X)
		if err != nil {
			return nil, err
		}
		return func(r Row) bool { return !f(r) }, nil
	case *Compare:
		return c.compare(x)
	case *In:
		return c.in(x)
	case *Includes:
		return c.includes(x)
	}
	return nil, errAt(c.src, 0, CodeMalformedQuery, "unsupported condition")
}

// cmpFn compares a row value with a literal: c < 0, 0, > 0 as the value is
// below, equal to (or inside the range of) or above the literal; ok is
// false when the value is null.
type cmpFn func(v any) (c int, ok bool)

func (c *compiler) compare(x *Compare) (func(Row) bool, error) {
	col, err := c.operandIn(x.Field, x.Agg, c.condClause())
	if err != nil {
		return nil, err
	}
	get, fd := col.get, col.Field
	vt := typeOf(fd.Type)
	if x.Op == OpLike {
		if vt != vText && vt != vID || x.Value.Kind != KindString {
			if x.Value.Kind != KindString {
				return nil, c.mistyped(fd, x.Value)
			}
			return nil, errAt(c.src, x.OpPos, CodeInvalidFilterOp, "invalid operator on %s field: %s", typeName(fd), fd.Name)
		}
		return likePredicate(get, compileLike(x.Value.Text)), nil
	}
	if vt == vBool && x.Op != OpEq && x.Op != OpNe {
		return nil, errAt(c.src, x.OpPos, CodeInvalidFilterOp, "invalid operator on boolean field: %s", fd.Name)
	}
	lit, isNull, err := c.literal(fd, x.Value)
	if err != nil {
		return nil, err
	}
	null := nullTest(vt)
	if isNull {
		switch x.Op {
		case OpEq:
			return func(r Row) bool { return null(get(r)) }, nil
		case OpNe:
			return func(r Row) bool { return !null(get(r)) }, nil
		}
		return func(Row) bool { return false }, nil
	}
	var test func(int) bool
	switch x.Op {
	case OpEq:
		test = func(n int) bool { return n == 0 }
	case OpNe:
		// SOQL's != also matches nulls.
		return func(r Row) bool { n, ok := lit(get(r)); return !ok || n != 0 }, nil
	case OpLt:
		test = func(n int) bool { return n < 0 }
	case OpLe:
		test = func(n int) bool { return n <= 0 }
	case OpGt:
		test = func(n int) bool { return n > 0 }
	case OpGe:
		test = func(n int) bool { return n >= 0 }
	default:
		return nil, errAt(c.src, x.OpPos, CodeMalformedQuery, "unexpected token: '%s'", x.Op)
	}
	if x.Op == OpEq {
		return func(r Row) bool { n, ok := lit(get(r)); return ok && n == 0 }, nil
	}
	return func(r Row) bool { n, ok := lit(get(r)); return ok && test(n) }, nil
}

func (c *compiler) in(x *In) (func(Row) bool, error) {
	col, err := c.operandIn(x.Field, x.Agg, c.condClause())
	if err != nil {
		return nil, err
	}
	if x.Sub != nil {
		return c.semiJoin(x, col)
	}
	get, fd := col.get, col.Field
	vt := typeOf(fd.Type)
	var lits []cmpFn
	hasNull := false
	// Text and Id lists compare by folded string in a set: one map lookup a row.
	var set map[string]bool
	for _, v := range x.Values {
		lit, isNull, err := c.literal(fd, v)
		if err != nil {
			return nil, err
		}
		if isNull {
			hasNull = true
			continue
		}
		if (vt == vText || vt == vID) && v.Kind == KindString {
			if set == nil {
				set = map[string]bool{}
			}
			s := decodeString(v.Text)
			if vt == vID {
				s = ID18(s)
			}
			set[strings.ToLower(s)] = true
			continue
		}
		lits = append(lits, lit)
	}
	null := nullTest(vt)
	member := func(v any) bool {
		if null(v) {
			return hasNull
		}
		if set != nil {
			if s, ok := v.(string); ok && lowerLookup(set, s) {
				return true
			}
		}
		for _, l := range lits {
			if n, ok := l(v); ok && n == 0 {
				return true
			}
		}
		return false
	}
	if x.Not {
		return func(r Row) bool { return !member(get(r)) }, nil
	}
	return func(r Row) bool { return member(get(r)) }, nil
}

// nullTest reports whether a stored value counts as null: nil, and for text
// and Id fields also the empty string, which SOQL treats as null.
func nullTest(vt valueType) func(any) bool {
	if vt == vText || vt == vID {
		return func(v any) bool { s, ok := v.(string); return v == nil || ok && s == "" }
	}
	return func(v any) bool { return v == nil }
}

// mistyped is Salesforce's error for a literal of the wrong kind.
func (c *compiler) mistyped(fd *Field, v Value) *Error {
	quotes := "should not be enclosed in quotes"
	if vt := typeOf(fd.Type); vt == vText || vt == vID {
		quotes = "should be enclosed in quotes"
	}
	return errAt(c.src, v.Pos, CodeInvalidField,
		"value of filter criterion for field '%s' must be of type %s and %s", fd.Name, typeName(fd), quotes)
}

// literal types v against the field and returns its comparator; isNull is
// set for null (and for ” on text and Id fields).
func (c *compiler) literal(fd *Field, v Value) (cmpFn, bool, error) {
	if v.Kind == KindNull {
		return nil, true, nil
	}
	switch vt := typeOf(fd.Type); vt {
	case vText, vID:
		if v.Kind != KindString {
			return nil, false, c.mistyped(fd, v)
		}
		s := decodeString(v.Text)
		if s == "" {
			return nil, true, nil
		}
		if vt == vID {
			if !ValidID(s) {
				return nil, false, errAt(c.src, v.Pos, CodeInvalidFilterOp, "invalid ID field: %s", s)
			}
			s = ID18(s)
		}
		return func(x any) (int, bool) {
			str, ok := x.(string)
			if !ok || str == "" {
				return 0, false
			}
			return compareFold(str, s), true
		}, false, nil
	case vNumber:
		if v.Kind != KindNumber {
			return nil, false, c.mistyped(fd, v)
		}
		f, err := strconv.ParseFloat(v.Text, 64)
		if err != nil {
			return nil, false, c.mistyped(fd, v)
		}
		return func(x any) (int, bool) {
			n, ok := toFloat(x)
			if !ok {
				return 0, false
			}
			return cmp.Compare(n, f), true
		}, false, nil
	case vBool:
		if v.Kind != KindBool {
			return nil, false, c.mistyped(fd, v)
		}
		b := v.Text == "true"
		return func(x any) (int, bool) {
			xb, ok := x.(bool)
			if !ok {
				return 0, false
			}
			if xb == b {
				return 0, true
			}
			return 1, true
		}, false, nil
	case vDate:
		switch v.Kind {
		case KindDate:
			d := v.Text
			return func(x any) (int, bool) {
				s, ok := toDate(x)
				if !ok {
					return 0, false
				}
				return strings.Compare(s, d), true
			}, false, nil
		case KindDateConst:
			from, to := dateConstants[v.Text].span(c.today, v.N)
			lo, hi := from.Format("2006-01-02"), to.Format("2006-01-02")
			return func(x any) (int, bool) {
				s, ok := toDate(x)
				if !ok {
					return 0, false
				}
				return inRange(strings.Compare(s, lo), strings.Compare(s, hi)), true
			}, false, nil
		}
		return nil, false, c.mistyped(fd, v)
	case vDateTime:
		switch v.Kind {
		case KindDateTime:
			t, _ := parseDateTime(v.Text)
			return func(x any) (int, bool) {
				xt, ok := toTime(x)
				if !ok {
					return 0, false
				}
				return xt.Compare(t), true
			}, false, nil
		case KindDateConst:
			lo, hi := dateConstants[v.Text].span(c.today, v.N)
			return func(x any) (int, bool) {
				xt, ok := toTime(x)
				if !ok {
					return 0, false
				}
				return inRange(xt.Compare(lo), xt.Compare(hi)), true
			}, false, nil
		}
		return nil, false, c.mistyped(fd, v)
	}
	return nil, false, c.mistyped(fd, v)
}

// inRange maps comparisons against [lo, hi) to below (-1), inside (0), above (1).
func inRange(cLo, cHi int) int {
	switch {
	case cLo < 0:
		return -1
	case cHi >= 0:
		return 1
	}
	return 0
}

func likePredicate(get func(Row) any, items []likeItem) func(Row) bool {
	str := func(r Row) (string, bool) {
		s, ok := get(r).(string)
		return s, ok && s != ""
	}
	// Common shapes get a direct test; the rest use the general matcher.
	switch {
	case len(items) == 2 && items[0].text != "" && items[1].any && isASCII(items[0].text):
		pre := items[0].text
		return func(r Row) bool {
			s, ok := str(r)
			return ok && len(s) >= len(pre) && strings.EqualFold(s[:len(pre)], pre)
		}
	case len(items) == 2 && items[0].any && items[1].text != "" && isASCII(items[1].text):
		suf := items[1].text
		return func(r Row) bool {
			s, ok := str(r)
			return ok && len(s) >= len(suf) && strings.EqualFold(s[len(s)-len(suf):], suf)
		}
	case len(items) == 3 && items[0].any && items[1].text != "" && items[2].any:
		mid := items[1].text
		return func(r Row) bool {
			s, ok := str(r)
			return ok && strings.Contains(lowerASCII(s), mid)
		}
	}
	return func(r Row) bool {
		s, ok := str(r)
		return ok && likeMatch(items, lowerASCII(s))
	}
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// lowerLookup looks s up in a set of lower-case keys, folding short ASCII
// strings on the stack so the common case does not allocate.
func lowerLookup(set map[string]bool, s string) bool {
	var buf [64]byte
	if len(s) > len(buf) || !isASCII(s) {
		return set[strings.ToLower(s)]
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	return set[string(buf[:len(s)])]
}

// lowerASCII lower-cases s, without allocating when s is already lower-case ASCII.
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf || c >= 'A' && c <= 'Z' {
			return strings.ToLower(s)
		}
	}
	return s
}

// compareFold compares strings ignoring case, as Salesforce's collation does
// for = and ordering of text.
func compareFold(a, b string) int {
	for a != "" && b != "" {
		var ra, rb rune
		if a[0] < utf8.RuneSelf {
			ra, a = rune(a[0]), a[1:]
		} else {
			r, n := utf8.DecodeRuneInString(a)
			ra, a = r, a[n:]
		}
		if b[0] < utf8.RuneSelf {
			rb, b = rune(b[0]), b[1:]
		} else {
			r, n := utf8.DecodeRuneInString(b)
			rb, b = r, b[n:]
		}
		if ra == rb {
			continue
		}
		la, lb := unicode.ToLower(ra), unicode.ToLower(rb)
		if la != lb {
			return cmp.Compare(la, lb)
		}
	}
	return cmp.Compare(len(a), len(b))
}

func toFloat(x any) (float64, bool) {
	switch n := x.(type) {
	case float64:
		return n, true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case float32:
		return float64(n), true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	}
	return 0, false
}

func toDate(x any) (string, bool) {
	switch d := x.(type) {
	case string:
		return d, d != ""
	case time.Time:
		return d.UTC().Format("2006-01-02"), true
	}
	return "", false
}

func toTime(x any) (time.Time, bool) {
	switch t := x.(type) {
	case time.Time:
		return t, true
	case string:
		if t == "" {
			return time.Time{}, false
		}
		if v, err := time.Parse(time.RFC3339Nano, t); err == nil {
			return v, true
		}
		if v, err := time.Parse("2006-01-02T15:04:05.000-0700", t); err == nil {
			return v, true
		}
	}
	return time.Time{}, false
}

// Match reports whether r satisfies the WHERE clause.
func (p *Plan) Match(r Row) bool { return p.where == nil || p.where(r) }

// Select runs the plan over rows: filter, order (stable, so ties keep the
// input order), then OFFSET and LIMIT. For a COUNT() plan the length of the
// result is the count.
func (p *Plan) Select(rows iter.Seq[Row]) []Row {
	var out []Row
	for r := range rows {
		if p.where == nil || p.where(r) {
			out = append(out, r)
		}
	}
	if len(p.order) > 0 && !p.Aggregate {
		slices.SortStableFunc(out, p.compareRows)
	}
	if p.Aggregate {
		return out
	}
	if p.Offset > 0 {
		if p.Offset >= len(out) {
			out = out[:0]
		} else {
			out = out[p.Offset:]
		}
	}
	if p.Limit >= 0 && p.Limit < len(out) {
		out = out[:p.Limit]
	}
	return out
}

// AggregateValues computes the columns of an aggregate plan without GROUP
// BY over the selected rows: its one AggregateResult row.
func (p *Plan) AggregateValues(rows []Row) []any {
	g := p.Groups(rows)
	if len(g) == 0 {
		return make([]any, len(p.Columns))
	}
	return g[0]
}

func (p *Plan) compareRows(a, b Row) int {
	for _, k := range p.order {
		va, vb := k.get(a), k.get(b)
		null := nullTest(k.typ)
		na, nb := null(va), null(vb)
		switch {
		case na && nb:
			continue
		case na || nb:
			if na == k.nullsFirst {
				return -1
			}
			return 1
		}
		c := compareValues(k.typ, va, vb)
		if k.desc {
			c = -c
		}
		if c != 0 {
			return c
		}
	}
	return 0
}

// compareValues orders two non-null values of one type.
func compareValues(t valueType, a, b any) int {
	switch t {
	case vNumber:
		x, _ := toFloat(a)
		y, _ := toFloat(b)
		return cmp.Compare(x, y)
	case vBool:
		x, _ := a.(bool)
		y, _ := b.(bool)
		switch {
		case x == y:
			return 0
		case !x:
			return -1
		}
		return 1
	case vDate:
		x, _ := toDate(a)
		y, _ := toDate(b)
		return strings.Compare(x, y)
	case vDateTime:
		x, _ := toTime(a)
		y, _ := toTime(b)
		return x.Compare(y)
	case vID:
		x, _ := a.(string)
		y, _ := b.(string)
		return strings.Compare(x, y)
	}
	x, _ := a.(string)
	y, _ := b.(string)
	return compareFold(x, y)
}
