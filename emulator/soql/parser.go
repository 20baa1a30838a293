package soql

import (
	"strconv"
	"strings"
)

// reserved words cannot name fields or aliases (Salesforce's list, restricted
// to those that matter for the grammar served here).
var reserved = map[string]bool{
	"AND": true, "ASC": true, "DESC": true, "EXCLUDES": true, "FIRST": true, "FROM": true,
	"GROUP": true, "HAVING": true, "IN": true, "INCLUDES": true, "LAST": true, "LIKE": true,
	"LIMIT": true, "NOT": true, "NULL": true, "NULLS": true, "OR": true, "SELECT": true,
	"WHERE": true, "WITH": true, "TRUE": true, "FALSE": true, "ORDER": true, "BY": true,
	"OFFSET": true, "USING": true, "FOR": true, "UPDATE": true, "TYPEOF": true,
}

// MaxOffset is the largest OFFSET Salesforce accepts.
const MaxOffset = 2000

// Parse parses one SOQL statement. It checks syntax only; Compile resolves
// object and field names. Errors are *Error with code MALFORMED_QUERY (or
// NUMBER_OUTSIDE_VALID_RANGE for an OFFSET above 2000).
func Parse(src string) (*Query, error) {
	p := &parser{src: src}
	lx := lexer{src: src}
	for {
		t := lx.next()
		p.toks = append(p.toks, t)
		if t.kind == tEOF {
			break
		}
	}
	q, err := p.query()
	if err != nil {
		return nil, err
	}
	return q, nil
}

type parser struct {
	src  string
	toks []token
	i    int
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) peekN(n int) token {
	if p.i+n < len(p.toks) {
		return p.toks[p.i+n]
	}
	return p.toks[len(p.toks)-1]
}
func (p *parser) advance() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

// isKeyword reports whether t is the (case-insensitive) keyword kw.
func isKeyword(t token, kw string) bool {
	return t.kind == tIdent && strings.EqualFold(t.text, kw)
}

func (p *parser) unexpected(t token) *Error {
	if t.kind == tIllegal && strings.HasPrefix(t.src, "'") {
		return errAt(p.src, t.pos, CodeMalformedQuery, "unterminated string literal: %s", t.src)
	}
	return errAt(p.src, t.pos, CodeMalformedQuery, "unexpected token: '%s'", t.src)
}

func (p *parser) expectKeyword(kw string) error {
	t := p.peek()
	if !isKeyword(t, kw) {
		return p.unexpected(t)
	}
	p.advance()
	return nil
}

func (p *parser) expect(k tokKind) (token, error) {
	t := p.peek()
	if t.kind != k {
		return t, p.unexpected(t)
	}
	return p.advance(), nil
}

func (p *parser) query() (*Query, error) {
	q, err := p.queryBody(false)
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		return nil, p.unexpected(t)
	}
	return q, nil
}

// fieldFuncs are the functions that wrap a field, by upper-case name, with
// their canonical spelling.
var fieldFuncs = map[string]string{
	"TOLABEL": "toLabel", "FORMAT": "FORMAT", "CONVERTCURRENCY": "convertCurrency", "CONVERTTIMEZONE": "convertTimezone",
	"CALENDAR_MONTH": "CALENDAR_MONTH", "CALENDAR_QUARTER": "CALENDAR_QUARTER", "CALENDAR_YEAR": "CALENDAR_YEAR",
	"DAY_IN_MONTH": "DAY_IN_MONTH", "DAY_IN_WEEK": "DAY_IN_WEEK", "DAY_IN_YEAR": "DAY_IN_YEAR", "DAY_ONLY": "DAY_ONLY",
	"FISCAL_MONTH": "FISCAL_MONTH", "FISCAL_QUARTER": "FISCAL_QUARTER", "FISCAL_YEAR": "FISCAL_YEAR",
	"HOUR_IN_DAY": "HOUR_IN_DAY", "WEEK_IN_MONTH": "WEEK_IN_MONTH", "WEEK_IN_YEAR": "WEEK_IN_YEAR",
}

// fieldExpr reads a field path, possibly wrapped in field functions:
// toLabel(Status), CALENDAR_YEAR(convertTimezone(CreatedDate)).
func (p *parser) fieldExpr() (*FieldRef, error) {
	t := p.peek()
	if t.kind == tIdent && p.peekN(1).kind == tLParen {
		if name, ok := fieldFuncs[strings.ToUpper(t.text)]; ok {
			p.advance()
			p.advance()
			inner, err := p.fieldExpr()
			if err != nil {
				return nil, err
			}
			if _, err := p.expect(tRParen); err != nil {
				return nil, err
			}
			inner.Funcs = append([]string{name}, inner.Funcs...)
			inner.FuncPos = t.pos
			return inner, nil
		}
	}
	return p.fieldRef()
}

// aggFuncs are the aggregate functions served.
var aggFuncs = map[string]bool{"COUNT": true, "COUNT_DISTINCT": true, "SUM": true, "MIN": true, "MAX": true, "AVG": true}

// atAggregate reports whether an aggregate function call starts here.
func (p *parser) atAggregate() bool {
	t := p.peek()
	return t.kind == tIdent && aggFuncs[strings.ToUpper(t.text)] && p.peekN(1).kind == tLParen
}

// queryBody parses SELECT ... up to the end of its clauses. sub is set for
// a parent-to-child subquery, which has no GROUP BY, HAVING, OFFSET, FOR
// nor nested subqueries.
func (p *parser) queryBody(sub bool) (*Query, error) {
	q := &Query{}
	if err := p.expectKeyword("SELECT"); err != nil {
		return nil, err
	}
	for {
		var item SelectItem
		var err error
		if t := p.peek(); t.kind == tLParen && !sub {
			p.advance()
			inner, err := p.queryBody(true)
			if err != nil {
				return nil, err
			}
			if _, err := p.expect(tRParen); err != nil {
				return nil, err
			}
			item = SelectItem{Sub: inner}
		} else if item, err = p.selectItem(); err != nil {
			return nil, err
		}
		q.Select = append(q.Select, item)
		if p.peek().kind != tComma {
			break
		}
		p.advance()
	}
	if err := p.expectKeyword("FROM"); err != nil {
		return nil, err
	}
	obj, err := p.name()
	if err != nil {
		return nil, err
	}
	q.From = From{Pos: obj.pos, Name: obj.text}
	if t := p.peek(); t.kind == tIdent && !reserved[strings.ToUpper(t.text)] {
		q.From.Alias = p.advance().text
	}
	if isKeyword(p.peek(), "WHERE") {
		p.advance()
		if q.Where, err = p.condition(); err != nil {
			return nil, err
		}
	}
	if isKeyword(p.peek(), "WITH") && !sub {
		p.advance()
		t := p.peek()
		switch up := strings.ToUpper(t.text); {
		case t.kind == tIdent && (up == "SECURITY_ENFORCED" || up == "USER_MODE" || up == "SYSTEM_MODE"):
			q.With = up
			p.advance()
		default:
			return nil, p.unexpected(t)
		}
	}
	if isKeyword(p.peek(), "GROUP") && !sub {
		p.advance()
		if err := p.expectKeyword("BY"); err != nil {
			return nil, err
		}
		if q.GroupBy, err = commaList(p, p.fieldExpr); err != nil {
			return nil, err
		}
		if isKeyword(p.peek(), "HAVING") {
			p.advance()
			if q.Having, err = p.condition(); err != nil {
				return nil, err
			}
		}
	}
	if isKeyword(p.peek(), "ORDER") {
		p.advance()
		if err := p.expectKeyword("BY"); err != nil {
			return nil, err
		}
		if q.OrderBy, err = commaList(p, p.orderItem); err != nil {
			return nil, err
		}
	}
	if isKeyword(p.peek(), "LIMIT") {
		p.advance()
		if q.Limit, err = p.integer(); err != nil {
			return nil, err
		}
	}
	if isKeyword(p.peek(), "OFFSET") && !sub {
		p.advance()
		if q.Offset, err = p.integer(); err != nil {
			return nil, err
		}
		if q.Offset.Value > MaxOffset {
			return nil, errAt(p.src, q.Offset.Pos, CodeNumberOutsideRange, "Maximum SOQL offset allowed is %d", MaxOffset)
		}
	}
	if isKeyword(p.peek(), "FOR") && !sub {
		p.advance()
		t := p.peek()
		switch up := strings.ToUpper(t.text); {
		case t.kind == tIdent && (up == "UPDATE" || up == "VIEW" || up == "REFERENCE"):
			q.For = up
			p.advance()
		default:
			return nil, p.unexpected(t)
		}
	}
	return q, nil
}

// name reads one identifier that is not a reserved word.
func (p *parser) name() (token, error) {
	t := p.peek()
	if t.kind != tIdent || reserved[strings.ToUpper(t.text)] {
		return t, p.unexpected(t)
	}
	return p.advance(), nil
}

func (p *parser) fieldRef() (*FieldRef, error) {
	t, err := p.name()
	if err != nil {
		return nil, err
	}
	f := &FieldRef{Pos: t.pos, Path: []string{t.text}}
	for p.peek().kind == tDot {
		p.advance()
		t, err := p.name()
		if err != nil {
			return nil, err
		}
		f.Path = append(f.Path, t.text)
	}
	return f, nil
}

// aggregate parses FUNC(field) or COUNT(); alias reads an optional alias.
func (p *parser) aggregate(alias bool) (*CountExpr, error) {
	t := p.advance()
	p.advance() // (
	c := &CountExpr{Pos: t.pos, Func: strings.ToUpper(t.text)}
	if p.peek().kind != tRParen || c.Func != "COUNT" {
		f, err := p.fieldRef()
		if err != nil {
			return nil, err
		}
		c.Field = f
	}
	if _, err := p.expect(tRParen); err != nil {
		return nil, err
	}
	if t := p.peek(); alias && c.Field != nil && t.kind == tIdent && !reserved[strings.ToUpper(t.text)] {
		c.Alias = p.advance().text
	}
	return c, nil
}

func (p *parser) selectItem() (SelectItem, error) {
	if t := p.peek(); t.kind == tIdent && strings.EqualFold(t.text, "FIELDS") && p.peekN(1).kind == tLParen {
		p.advance()
		p.advance()
		set := p.peek()
		switch up := strings.ToUpper(set.text); {
		case set.kind == tIdent && (up == "ALL" || up == "STANDARD" || up == "CUSTOM"):
			p.advance()
			if _, err := p.expect(tRParen); err != nil {
				return SelectItem{}, err
			}
			return SelectItem{Fields: &FieldsMacro{Pos: Pos(t.pos), Set: up}}, nil
		default:
			return SelectItem{}, p.unexpected(set)
		}
	}
	if p.atAggregate() {
		c, err := p.aggregate(true)
		if err != nil {
			return SelectItem{}, err
		}
		return SelectItem{Count: c}, nil
	}
	if t := p.peek(); isKeyword(t, "TYPEOF") {
		return p.typeOf()
	}
	f, err := p.fieldExpr()
	if err != nil {
		return SelectItem{}, err
	}
	item := SelectItem{Field: f}
	if t := p.peek(); len(f.Funcs) > 0 && t.kind == tIdent && !reserved[strings.ToUpper(t.text)] {
		item.Alias = p.advance().text
	}
	return item, nil
}

// typeOf parses TYPEOF Rel WHEN Type THEN f, ... [WHEN ...] [ELSE f, ...] END.
func (p *parser) typeOf() (SelectItem, error) {
	start := p.advance()
	rel, err := p.fieldRef()
	if err != nil {
		return SelectItem{}, err
	}
	x := &TypeOf{Pos: start.pos, Rel: rel}
	for isKeyword(p.peek(), "WHEN") {
		p.advance()
		// A type name may be a reserved word (Group).
		typ, err := p.expect(tIdent)
		if err != nil {
			return SelectItem{}, err
		}
		if err := p.expectKeyword("THEN"); err != nil {
			return SelectItem{}, err
		}
		fields, err := commaList(p, p.fieldRef)
		if err != nil {
			return SelectItem{}, err
		}
		x.Whens = append(x.Whens, TypeOfWhen{TypePos: typ.pos, Type: typ.text, Fields: fields})
	}
	if len(x.Whens) == 0 {
		return SelectItem{}, p.unexpected(p.peek())
	}
	if isKeyword(p.peek(), "ELSE") {
		p.advance()
		if x.Else, err = commaList(p, p.fieldRef); err != nil {
			return SelectItem{}, err
		}
	}
	if err := p.expectKeyword("END"); err != nil {
		return SelectItem{}, err
	}
	return SelectItem{TypeOf: x}, nil
}

func (p *parser) orderItem() (OrderItem, error) {
	var o OrderItem
	if p.atAggregate() {
		c, err := p.aggregate(false)
		if err != nil {
			return OrderItem{}, err
		}
		o.Agg = c
	} else {
		f, err := p.fieldExpr()
		if err != nil {
			return OrderItem{}, err
		}
		o.Field = f
	}
	if t := p.peek(); isKeyword(t, "ASC") {
		p.advance()
	} else if isKeyword(t, "DESC") {
		p.advance()
		o.Desc = true
	}
	if isKeyword(p.peek(), "NULLS") {
		p.advance()
		t := p.peek()
		switch {
		case isKeyword(t, "FIRST"):
			o.Nulls = NullsFirst
		case isKeyword(t, "LAST"):
			o.Nulls = NullsLast
		default:
			return OrderItem{}, p.unexpected(t)
		}
		p.advance()
	}
	return o, nil
}

func (p *parser) integer() (*Int, error) {
	t := p.peek()
	if t.kind != tNumber || strings.ContainsAny(t.text, ".+-") {
		return nil, p.unexpected(t)
	}
	n, err := strconv.Atoi(t.text)
	if err != nil || n > 1<<31-1 {
		return nil, p.unexpected(t)
	}
	p.advance()
	return &Int{Pos: t.pos, Value: n}, nil
}

// condition parses a chain of conditions joined by one operator; meeting the
// other operator without parentheses is a syntax error, as in SOQL.
func (p *parser) condition() (Expr, error) {
	first, err := p.unary()
	if err != nil {
		return nil, err
	}
	var lg *Logical
	for {
		t := p.peek()
		isAnd, isOr := isKeyword(t, "AND"), isKeyword(t, "OR")
		if !isAnd && !isOr {
			break
		}
		if lg == nil {
			lg = &Logical{Or: isOr, Terms: []Expr{first}}
		} else if lg.Or != isOr {
			return nil, p.unexpected(t)
		}
		p.advance()
		next, err := p.unary()
		if err != nil {
			return nil, err
		}
		lg.Terms = append(lg.Terms, next)
	}
	if lg == nil {
		return first, nil
	}
	return lg, nil
}

func (p *parser) unary() (Expr, error) {
	t := p.peek()
	switch {
	case isKeyword(t, "NOT"):
		p.advance()
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		return &Not{Pos: t.pos, X: x}, nil
	case t.kind == tLParen:
		p.advance()
		x, err := p.condition()
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(tRParen); err != nil {
			return nil, err
		}
		return x, nil
	}
	return p.predicate()
}

func (p *parser) predicate() (Expr, error) {
	var f *FieldRef
	var agg *CountExpr
	var err error
	if p.atAggregate() {
		agg, err = p.aggregate(false)
	} else {
		f, err = p.fieldExpr()
	}
	if err != nil {
		return nil, err
	}
	t := p.peek()
	switch {
	case agg != nil && t.kind == tOp:
		p.advance()
		op := Op(t.text)
		if op == "<>" {
			op = OpNe
		}
		v, err := p.value(false)
		if err != nil {
			return nil, err
		}
		return &Compare{Agg: agg, Op: op, OpPos: t.pos, Value: v}, nil
	case agg != nil:
		return nil, p.unexpected(t)
	case t.kind == tOp:
		p.advance()
		op := Op(t.text)
		if op == "<>" {
			op = OpNe
		}
		v, err := p.value(false)
		if err != nil {
			return nil, err
		}
		return &Compare{Field: f, Op: op, OpPos: t.pos, Value: v}, nil
	case isKeyword(t, "LIKE"):
		p.advance()
		v, err := p.value(true)
		if err != nil {
			return nil, err
		}
		return &Compare{Field: f, Op: OpLike, OpPos: t.pos, Value: v}, nil
	case isKeyword(t, "INCLUDES"), isKeyword(t, "EXCLUDES"):
		p.advance()
		x := &Includes{Field: f, Excludes: isKeyword(t, "EXCLUDES"), OpPos: t.pos}
		if _, err := p.expect(tLParen); err != nil {
			return nil, err
		}
		var err error
		if x.Values, err = commaList(p, func() (Value, error) { return p.value(false) }); err != nil {
			return nil, err
		}
		if _, err := p.expect(tRParen); err != nil {
			return nil, err
		}
		return x, nil
	case isKeyword(t, "IN"), isKeyword(t, "NOT") && isKeyword(p.peekN(1), "IN"):
		in := &In{Field: f, OpPos: t.pos}
		if isKeyword(t, "NOT") {
			in.Not = true
			p.advance()
		}
		p.advance()
		if _, err := p.expect(tLParen); err != nil {
			return nil, err
		}
		var err error
		if isKeyword(p.peek(), "SELECT") {
			in.Sub, err = p.queryBody(true)
		} else {
			in.Values, err = commaList(p, func() (Value, error) { return p.value(false) })
		}
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(tRParen); err != nil {
			return nil, err
		}
		return in, nil
	}
	return nil, p.unexpected(t)
}

// value parses a literal. like allows the LIKE-only escapes \% and \_.
func (p *parser) value(like bool) (Value, error) {
	t := p.peek()
	v := Value{Pos: t.pos, Text: t.text}
	switch t.kind {
	case tString:
		if err := checkEscapes(p.src, t, like); err != nil {
			return v, err
		}
		v.Kind = KindString
	case tNumber:
		v.Kind = KindNumber
	case tDate:
		if _, ok := parseDate(t.text); !ok {
			return v, errAt(p.src, t.pos, CodeMalformedQuery, "invalid date: %s", t.text)
		}
		v.Kind = KindDate
	case tDateTime:
		if _, ok := parseDateTime(t.text); !ok {
			return v, errAt(p.src, t.pos, CodeMalformedQuery, "invalid datetime: %s", t.text)
		}
		v.Kind = KindDateTime
	case tIdent:
		up := strings.ToUpper(t.text)
		switch {
		case up == "TRUE" || up == "FALSE":
			v.Kind, v.Text = KindBool, strings.ToLower(up)
		case up == "NULL":
			v.Kind, v.Text = KindNull, "null"
		case dateConstants[up].ok:
			v.Kind, v.Text = KindDateConst, up
			if dateConstants[up].takesN {
				p.advance()
				if _, err := p.expect(tColon); err != nil {
					return v, err
				}
				n, err := p.integer()
				if err != nil {
					return v, err
				}
				v.N = n.Value
				return v, nil
			}
		default:
			return v, p.unexpected(t)
		}
	default:
		return v, p.unexpected(t)
	}
	p.advance()
	return v, nil
}

// checkEscapes rejects a backslash before anything but the escapes SOQL
// knows: \' \" \\ \n \r \t \b \f \uXXXX, and \% \_ in LIKE patterns.
func checkEscapes(src string, t token, like bool) error {
	s := t.text
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			continue
		}
		bad := ""
		switch {
		case i+1 >= len(s):
			bad = `\`
		case strings.IndexByte(`'"\nrtbf`, s[i+1]) >= 0:
		case like && (s[i+1] == '%' || s[i+1] == '_'):
		case s[i+1] == 'u':
			if i+6 > len(s) || !isHex4(s[i+2:i+6]) {
				bad = s[i:min(len(s), i+6)]
			} else {
				i += 4
			}
		default:
			bad = s[i : i+2]
		}
		if bad != "" {
			return errAt(src, t.pos, CodeMalformedQuery,
				"Invalid string literal '%s'. Illegal character sequence '%s' in string literal.", s, bad)
		}
		i++
	}
	return nil
}

func isHex4(s string) bool {
	for i := 0; i < 4; i++ {
		c := s[i]
		if !isDigit(c) && !(c >= 'a' && c <= 'f') && !(c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// commaList parses one or more items separated by commas (GROUP BY and
// ORDER BY lists, IN values).
func commaList[T any](p *parser, item func() (T, error)) ([]T, error) {
	var out []T
	for {
		v, err := item()
		if err != nil {
			return nil, err
		}
		out = append(out, v)
		if p.peek().kind != tComma {
			return out, nil
		}
		p.advance()
	}
}
