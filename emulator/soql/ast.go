package soql

// Pos is a byte offset into the query text. Positions are reported to users
// as Row:Column, both 1-based, columns counted in characters.
type Pos int

// Query is a parsed SELECT statement.
type Query struct {
	Select  []SelectItem
	From    From
	Where   Expr // nil when there is no WHERE clause
	OrderBy []OrderItem
	Limit   *Int // nil when absent
	Offset  *Int // nil when absent
}

// SelectItem is one entry of the field list: a field path or a COUNT.
type SelectItem struct {
	// Field is set for a plain field or relationship path.
	Field *FieldRef
	// Count is set for COUNT() and COUNT(field).
	Count *CountExpr
}

// CountExpr is COUNT() (Field nil) or COUNT(field) with an optional alias.
type CountExpr struct {
	Pos   Pos
	Field *FieldRef
	Alias string
}

// FieldRef is a dotted path as written: ["Owner", "Name"] for Owner.Name.
type FieldRef struct {
	Pos  Pos
	Path []string
}

// String returns the path joined with dots.
func (f *FieldRef) String() string {
	s := ""
	for i, p := range f.Path {
		if i > 0 {
			s += "."
		}
		s += p
	}
	return s
}

// From names the queried object and its optional alias.
type From struct {
	Pos   Pos
	Name  string
	Alias string
}

// OrderItem is one ORDER BY key.
type OrderItem struct {
	Field *FieldRef
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

// Expr is a WHERE condition: *Logical, *Not, *Compare or *In.
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

// Compare is field op value, op one of = != < <= > >= LIKE.
type Compare struct {
	Field *FieldRef
	Op    Op
	OpPos Pos
	Value Value
}

// In is field IN (values) or field NOT IN (values).
type In struct {
	Field  *FieldRef
	Not    bool
	OpPos  Pos
	Values []Value
}

func (*Logical) exprNode() {}
func (*Not) exprNode()     {}
func (*Compare) exprNode() {}
func (*In) exprNode()      {}

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
