package soql

import "strings"

// Pos is a byte offset into the query text. Positions are reported to users
// as Row:Column, both 1-based, columns counted in characters.
type Pos int

// Query is a parsed SELECT statement. A parent-to-child subquery is a Query
// too, whose From names the child relationship (Contacts).
type Query struct {
	Select []SelectItem
	From   From
	Where  Expr // nil when there is no WHERE clause
	// With is the WITH clause's filter as written upper-case
	// (SECURITY_ENFORCED, USER_MODE, SYSTEM_MODE); "" when absent.
	With    string
	GroupBy []*FieldRef
	Having  Expr // nil when there is no HAVING clause
	OrderBy []OrderItem
	Limit   *Int // nil when absent
	Offset  *Int // nil when absent
	// For is the FOR clause upper-case (UPDATE, VIEW, REFERENCE); "" when absent.
	For string
}

// SelectItem is one entry of the field list: a field path, an aggregate
// function, or a parent-to-child subquery.
type SelectItem struct {
	// Field is set for a plain field or relationship path.
	Field *FieldRef
	// Count is set for an aggregate function: COUNT(), COUNT(field),
	// COUNT_DISTINCT, SUM, MIN, MAX, AVG.
	Count *CountExpr
	// Sub is set for a subquery: (SELECT LastName FROM Contacts).
	Sub *Query
	// Fields is set for FIELDS(ALL), FIELDS(STANDARD) or FIELDS(CUSTOM).
	Fields *FieldsMacro
	// TypeOf is set for TYPEOF Rel WHEN Type THEN fields ... [ELSE fields] END.
	TypeOf *TypeOf
	// Alias names a function item's column (toLabel(Status) StatusLabel);
	// "" when absent. Plain fields take no alias.
	Alias string
}

// TypeOf selects different fields of a polymorphic relationship's record
// depending on its type.
type TypeOf struct {
	Pos   Pos
	Rel   *FieldRef // the relationship name (Owner, What)
	Whens []TypeOfWhen
	Else  []*FieldRef // nil without ELSE
}

// TypeOfWhen is one WHEN Type THEN fields branch.
type TypeOfWhen struct {
	TypePos Pos
	Type    string
	Fields  []*FieldRef
}

// FieldsMacro is FIELDS(Set): the object's fields, all of them, the
// standard ones or the custom ones. Set is upper-case.
type FieldsMacro struct {
	Pos Pos
	Set string
}

// CountExpr is an aggregate function call with an optional alias: COUNT()
// (Field nil), COUNT(field), COUNT_DISTINCT(field), SUM, MIN, MAX, AVG.
// Func is upper-case; "" reads as COUNT (the zero value of older code).
type CountExpr struct {
	Pos   Pos
	Func  string
	Field *FieldRef
	Alias string
}

// Name is the function name, upper-case.
func (c *CountExpr) Name() string {
	if c.Func == "" {
		return "COUNT"
	}
	return c.Func
}

// FieldRef is a dotted path as written: ["Owner", "Name"] for Owner.Name,
// possibly wrapped in field functions.
type FieldRef struct {
	Pos  Pos
	Path []string
	// Funcs are the functions around the path, outermost first, in their
	// canonical spelling: ["CALENDAR_YEAR", "convertTimezone"] for
	// CALENDAR_YEAR(convertTimezone(CreatedDate)). FuncPos is where the
	// outermost one starts.
	Funcs   []string
	FuncPos Pos
}

// PathString returns the path joined with dots, without functions.
func (f *FieldRef) PathString() string { return strings.Join(f.Path, ".") }

// String returns the path joined with dots, inside its functions.
func (f *FieldRef) String() string {
	s := f.PathString()
	for i := len(f.Funcs) - 1; i >= 0; i-- {
		s = f.Funcs[i] + "(" + s + ")"
	}
	return s
}

// From names the queried object and its optional alias.
type From struct {
	Pos   Pos
	Name  string
	Alias string
}

// OrderItem is one ORDER BY key: a field, or (in aggregate queries) an
// aggregate function (Agg, with Field nil).
type OrderItem struct {
	Field *FieldRef
	Agg   *CountExpr
	Desc  bool
	Nulls NullsOrder
}

// NullsOrder says where nulls sort; the default depends on the direction.
type NullsOrder int

// Nulls placement of an ORDER BY key.
const (
	NullsDefault NullsOrder = iota // first for ASC, last for DESC
	NullsFirst
	NullsLast
)

// Int is a non-negative integer clause argument (LIMIT, OFFSET).
type Int struct {
	Pos   Pos
	Value int
}

// Expr is a WHERE condition: *Logical, *Not, *Compare, *In or *Includes.
type Expr interface{ exprNode() }

// Logical is a chain of conditions joined by the same operator. SOQL does not
// allow AND and OR to be mixed without parentheses, so a nested *Logical in
// Terms always came from (and always prints with) parentheses.
type Logical struct {
	Or    bool // false: AND
	Terms []Expr
}

// Not negates a condition.
type Not struct {
	Pos Pos
	X   Expr
}

// Compare is field op value, op one of = != < <= > >= LIKE. In HAVING the
// left side may be an aggregate function (Agg, with Field nil).
type Compare struct {
	Field *FieldRef
	Agg   *CountExpr
	Op    Op
	OpPos Pos
	Value Value
}

// In is field IN (values) or field NOT IN (values); Agg as in Compare.
type In struct {
	Field  *FieldRef
	Agg    *CountExpr
	Not    bool
	OpPos  Pos
	Values []Value
	// Sub is set instead of Values for a semi-join (IN) or anti-join
	// (NOT IN): Id IN (SELECT AccountId FROM Contact WHERE ...).
	Sub *Query
}

// Includes is field INCLUDES (values) or field EXCLUDES (values), on a
// multi-select picklist. Each value is one or more picklist values joined
// by semicolons, all of which the record must hold.
type Includes struct {
	Field    *FieldRef
	Excludes bool
	OpPos    Pos
	Values   []Value
}

func (*Includes) exprNode() {}
func (*Logical) exprNode()  {}
func (*Not) exprNode()      {}
func (*Compare) exprNode()  {}
func (*In) exprNode()       {}

// Op is a comparison operator.
type Op string

// Comparison operators. <> parses as OpNe.
const (
	OpEq   Op = "="
	OpNe   Op = "!="
	OpLt   Op = "<"
	OpLe   Op = "<="
	OpGt   Op = ">"
	OpGe   Op = ">="
	OpLike Op = "LIKE"
)

// ValueKind says what a literal is.
type ValueKind int

// Literal kinds.
const (
	KindString ValueKind = iota + 1
	KindNumber
	KindBool
	KindNull
	KindDate
	KindDateTime
	KindDateConst
)

// Value is a literal. Text holds the literal as written, except for strings
// (the text between the quotes, escapes undecoded, so printing is exact and
// LIKE escapes stay distinguishable), booleans and null (lower case) and date
// constants (upper case name). N is the argument of LAST_N_DAYS:n and friends.
type Value struct {
	Pos  Pos
	Kind ValueKind
	Text string
	N    int
}
