package salesforce

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// This file builds SOQL without string pasting. Values become literals
// through one escaping function; object and field names must exist in the
// object's describe and are written in their canonical spelling. No
// caller-supplied text reaches the query any other way, so a value cannot
// change the query's structure.

// Date is a calendar date for SOQL date literals (2006-01-02), compared
// only against date fields. A time.Time value is a datetime literal.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateOf returns t's calendar date in t's location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{y, m, d}
}

func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day) }

// QuoteString returns s as a SOQL string literal, quotes included:
// backslash, quotes and the control characters \n \r \t \b \f are escaped.
// s must be valid UTF-8.
func QuoteString(s string) (string, error) {
	return quote(s, false)
}

func quote(s string, escapeWildcards bool) (string, error) {
	if !utf8.ValidString(s) {
		return "", fmt.Errorf("salesforce: string literal is not valid UTF-8")
	}
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('\'')
	for i := 0; i < len(s); i++ {
		switch ch := s[i]; ch {
		case '\\':
			b.WriteString(`\\`)
		case '\'':
			b.WriteString(`\'`)
		case '"':
			b.WriteString(`\"`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		case '%', '_':
			if escapeWildcards {
				b.WriteByte('\\')
			}
			b.WriteByte(ch)
		default:
			b.WriteByte(ch)
		}
	}
	b.WriteByte('\'')
	return b.String(), nil
}

// Cond is a WHERE condition. Build conditions with Eq, In, Like, And, ...
type Cond interface {
	write(b *strings.Builder, d *SObjectDescribe) error
}

type cmpCond struct {
	field, op string
	val       any
}

// Eq is field = v. v may be a string, bool, integer, float, time.Time
// (datetime), Date, or nil (null).
func Eq(field string, v any) Cond { return cmpCond{field, "=", v} }

// Ne is field != v.
func Ne(field string, v any) Cond { return cmpCond{field, "!=", v} }

// Lt is field < v.
func Lt(field string, v any) Cond { return cmpCond{field, "<", v} }

// Le is field <= v.
func Le(field string, v any) Cond { return cmpCond{field, "<=", v} }

// Gt is field > v.
func Gt(field string, v any) Cond { return cmpCond{field, ">", v} }

// Ge is field >= v.
func Ge(field string, v any) Cond { return cmpCond{field, ">=", v} }

// IsNull is field = null.
func IsNull(field string) Cond { return cmpCond{field, "=", nil} }

// NotNull is field != null.
func NotNull(field string) Cond { return cmpCond{field, "!=", nil} }

func (c cmpCond) write(b *strings.Builder, d *SObjectDescribe) error {
	name, f, err := resolveField(d, c.field)
	if err != nil {
		return err
	}
	lit, err := literal(c.val, f)
	if err != nil {
		return fmt.Errorf("salesforce: %s: %w", name, err)
	}
	b.WriteString(name)
	b.WriteByte(' ')
	b.WriteString(c.op)
	b.WriteByte(' ')
	b.WriteString(lit)
	return nil
}

type inCond struct {
	field string
	not   bool
	vals  []any
}

// In is field IN (vs...). An empty list is an error at Build.
func In[T any](field string, vs ...T) Cond {
	return inCond{field: field, vals: toAny(vs)}
}

// NotIn is field NOT IN (vs...).
func NotIn[T any](field string, vs ...T) Cond {
	return inCond{field: field, not: true, vals: toAny(vs)}
}

func toAny[T any](vs []T) []any {
	out := make([]any, len(vs))
	for i, v := range vs {
		out[i] = v
	}
	return out
}

func (c inCond) write(b *strings.Builder, d *SObjectDescribe) error {
	name, f, err := resolveField(d, c.field)
	if err != nil {
		return err
	}
	if len(c.vals) == 0 {
		return fmt.Errorf("salesforce: %s: IN needs at least one value", name)
	}
	b.WriteString(name)
	if c.not {
		b.WriteString(" NOT IN (")
	} else {
		b.WriteString(" IN (")
	}
	for i, v := range c.vals {
		if i > 0 {
			b.WriteString(", ")
		}
		lit, err := literal(v, f)
		if err != nil {
			return fmt.Errorf("salesforce: %s: %w", name, err)
		}
		b.WriteString(lit)
	}
	b.WriteByte(')')
	return nil
}

type likeCond struct {
	field  string
	parts  []string // alternating: literal text, then wildcard text, ...
	prefix bool     // parts[0] is a wildcard run
}

// Like is field LIKE pattern, where % and _ in pattern are wildcards and
// every other character is literal. To match user text literally, use
// Contains, StartsWith or EndsWith, which escape % and _.
func Like(field, pattern string) Cond {
	return likeCond{field: field, parts: []string{pattern}, prefix: true}
}

// Contains is field LIKE '%s%' with s matched literally.
func Contains(field, s string) Cond {
	return likeCond{field: field, parts: []string{"%", s, "%"}, prefix: true}
}

// StartsWith is field LIKE 's%' with s matched literally.
func StartsWith(field, s string) Cond {
	return likeCond{field: field, parts: []string{s, "%"}}
}

// EndsWith is field LIKE '%s' with s matched literally.
func EndsWith(field, s string) Cond {
	return likeCond{field: field, parts: []string{"%", s}, prefix: true}
}

func (c likeCond) write(b *strings.Builder, d *SObjectDescribe) error {
	name, _, err := resolveField(d, c.field)
	if err != nil {
		return err
	}
	var lit strings.Builder
	lit.WriteByte('\'')
	for i, p := range c.parts {
		wild := (i%2 == 0) == c.prefix
		q, err := quote(p, !wild)
		if err != nil {
			return fmt.Errorf("salesforce: %s: %w", name, err)
		}
		lit.WriteString(q[1 : len(q)-1])
	}
	lit.WriteByte('\'')
	b.WriteString(name)
	b.WriteString(" LIKE ")
	b.WriteString(lit.String())
	return nil
}

type boolCond struct {
	op    string // "AND", "OR", "NOT"
	conds []Cond
}

// And joins conditions with AND.
func And(cs ...Cond) Cond { return boolCond{"AND", cs} }

// Or joins conditions with OR.
func Or(cs ...Cond) Cond { return boolCond{"OR", cs} }

// Not negates a condition.
func Not(c Cond) Cond { return boolCond{"NOT", []Cond{c}} }

func (c boolCond) write(b *strings.Builder, d *SObjectDescribe) error {
	if len(c.conds) == 0 {
		return fmt.Errorf("salesforce: %s of no conditions", c.op)
	}
	if c.op == "NOT" {
		b.WriteString("(NOT ")
		if err := writeCond(b, c.conds[0], d); err != nil {
			return err
		}
		b.WriteByte(')')
		return nil
	}
	b.WriteByte('(')
	for i, sub := range c.conds {
		if i > 0 {
			b.WriteByte(' ')
			b.WriteString(c.op)
			b.WriteByte(' ')
		}
		if err := writeCond(b, sub, d); err != nil {
			return err
		}
	}
	b.WriteByte(')')
	return nil
}

func writeCond(b *strings.Builder, c Cond, d *SObjectDescribe) error {
	if c == nil {
		return errors.New("salesforce: nil condition")
	}
	return c.write(b, d)
}

// resolveField checks a field name or relationship path against d and
// returns it in canonical spelling. For a path (Owner.Name) the first part
// must be a relationship of d; the rest must be plain identifiers (their
// objects' describes are not at hand), which cannot carry syntax.
func resolveField(d *SObjectDescribe, name string) (string, *Field, error) {
	if d == nil {
		return "", nil, errors.New("salesforce: no describe to check fields against")
	}
	first, rest, isPath := strings.Cut(name, ".")
	if !isPath {
		f := d.Field(name)
		if f == nil {
			return "", nil, fmt.Errorf("salesforce: no field %q on %s", name, d.Name)
		}
		return f.Name, f, nil
	}
	for i := range d.Fields {
		f := &d.Fields[i]
		if f.RelationshipName != "" && equalFold(f.RelationshipName, first) {
			for _, p := range strings.Split(rest, ".") {
				if !nameRE.MatchString(p) {
					return "", nil, fmt.Errorf("salesforce: invalid field path %q", name)
				}
			}
			return f.RelationshipName + "." + rest, nil, nil
		}
	}
	return "", nil, fmt.Errorf("salesforce: no relationship %q on %s", first, d.Name)
}

// literal renders v as a SOQL literal, checking date/datetime values
// against the field type when known.
func literal(v any, f *Field) (string, error) {
	if s, ok := formatInteger(v); ok {
		return s, nil
	}
	switch x := v.(type) {
	case nil:
		return "null", nil
	case string:
		return QuoteString(x)
	case bool:
		return strconv.FormatBool(x), nil
	case float32:
		return formatNumber(float64(x))
	case float64:
		return formatNumber(x)
	case time.Time:
		if f != nil && f.Type != "datetime" {
			return "", fmt.Errorf("datetime value for a %s field", f.Type)
		}
		// SOQL datetime literals have whole seconds; sub-second parts are
		// dropped (compare with >= when using it as a watermark).
		return x.UTC().Format("2006-01-02T15:04:05Z"), nil
	case Date:
		if f != nil && f.Type != "date" {
			return "", fmt.Errorf("date value for a %s field", f.Type)
		}
		if x.Year < 1 || x.Year > 9999 || x.Month < 1 || x.Month > 12 || x.Day < 1 || x.Day > 31 {
			return "", fmt.Errorf("invalid date %d-%d-%d", x.Year, x.Month, x.Day)
		}
		return x.String(), nil
	}
	return "", fmt.Errorf("unsupported value type %T", v)
}

func formatNumber(f float64) (string, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "", fmt.Errorf("number %v has no SOQL literal", f)
	}
	return strconv.FormatFloat(f, 'f', -1, 64), nil
}

// SOQLQuery is a SELECT being built. Methods return the receiver for
// chaining; nothing is checked until Build.
type SOQLQuery struct {
	fields []string
	from   string
	where  Cond
	order  []orderTerm
	limit  int
	offset int
}

type orderTerm struct {
	field string
	desc  bool
}

// Select starts a query of the given fields (names or relationship paths).
func Select(fields ...string) *SOQLQuery {
	return &SOQLQuery{fields: fields}
}

// From sets the object.
func (q *SOQLQuery) From(obj string) *SOQLQuery { q.from = obj; return q }

// Where sets the condition (combine several with And).
func (q *SOQLQuery) Where(c Cond) *SOQLQuery { q.where = c; return q }

// OrderBy appends ascending sort fields.
func (q *SOQLQuery) OrderBy(fields ...string) *SOQLQuery {
	for _, f := range fields {
		q.order = append(q.order, orderTerm{field: f})
	}
	return q
}

// OrderByDesc appends a descending sort field.
func (q *SOQLQuery) OrderByDesc(field string) *SOQLQuery {
	q.order = append(q.order, orderTerm{field: field, desc: true})
	return q
}

// Limit caps the number of rows (0: no LIMIT).
func (q *SOQLQuery) Limit(n int) *SOQLQuery { q.limit = n; return q }

// Offset skips rows (0: no OFFSET).
func (q *SOQLQuery) Offset(n int) *SOQLQuery { q.offset = n; return q }

// Build checks every name against d (the describe of the FROM object) and
// renders the query.
func (q *SOQLQuery) Build(d *SObjectDescribe) (string, error) {
	if d == nil {
		return "", errors.New("salesforce: Build needs the object's describe")
	}
	if !equalFold(q.from, d.Name) {
		return "", fmt.Errorf("salesforce: query is FROM %q but the describe is of %q", q.from, d.Name)
	}
	if len(q.fields) == 0 {
		return "", errors.New("salesforce: SELECT of no fields")
	}
	var b strings.Builder
	b.WriteString("SELECT ")
	for i, f := range q.fields {
		name, _, err := resolveField(d, f)
		if err != nil {
			return "", err
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(name)
	}
	b.WriteString(" FROM ")
	b.WriteString(d.Name)
	if q.where != nil {
		b.WriteString(" WHERE ")
		if err := writeCond(&b, q.where, d); err != nil {
			return "", err
		}
	}
	for i, o := range q.order {
		name, _, err := resolveField(d, o.field)
		if err != nil {
			return "", err
		}
		if i == 0 {
			b.WriteString(" ORDER BY ")
		} else {
			b.WriteString(", ")
		}
		b.WriteString(name)
		if o.desc {
			b.WriteString(" DESC")
		} else {
			b.WriteString(" ASC")
		}
	}
	if q.limit < 0 || q.offset < 0 {
		return "", errors.New("salesforce: negative LIMIT or OFFSET")
	}
	if q.limit > 0 {
		b.WriteString(" LIMIT ")
		b.WriteString(strconv.Itoa(q.limit))
	}
	if q.offset > 0 {
		b.WriteString(" OFFSET ")
		b.WriteString(strconv.Itoa(q.offset))
	}
	return b.String(), nil
}
