package soql

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// Field functions: toLabel(), FORMAT(), convertCurrency(), convertTimezone()
// and the date functions (CALENDAR_YEAR(CreatedDate), DAY_ONLY(..), ...),
// per the SOQL reference's "SOQL SELECT Functions". Where each may appear:
//
//   - date functions: WHERE, GROUP BY, HAVING and ORDER BY; in SELECT only
//     in an aggregate query, grouped. convertTimezone() only inside one.
//   - toLabel(): SELECT and WHERE.
//   - FORMAT(), convertCurrency(): SELECT only.
//
// Error codes and texts for misuse are UNCONFIRMED unless the reference
// states the rule; the emulator's org is single-currency, so
// convertCurrency() is refused as Salesforce refuses it there.

// Function clauses: where a field expression stands.
const (
	inSelect  = "SELECT"
	inWhere   = "WHERE"
	inGroupBy = "GROUP BY"
	inOrderBy = "ORDER BY"
	inHaving  = "HAVING"
)

// dateFuncs are the date functions; dateTimeOnly those that take only a
// dateTime field.
var (
	dateFuncs = map[string]bool{
		"CALENDAR_MONTH": true, "CALENDAR_QUARTER": true, "CALENDAR_YEAR": true, "DAY_IN_MONTH": true,
		"DAY_IN_WEEK": true, "DAY_IN_YEAR": true, "DAY_ONLY": true, "FISCAL_MONTH": true, "FISCAL_QUARTER": true,
		"FISCAL_YEAR": true, "HOUR_IN_DAY": true, "WEEK_IN_MONTH": true, "WEEK_IN_YEAR": true,
	}
	dateTimeOnly = map[string]bool{"DAY_ONLY": true, "HOUR_IN_DAY": true}
)

// hasDateFunc reports whether f is wrapped in a date function.
func hasDateFunc(f *FieldRef) bool {
	return len(f.Funcs) > 0 && dateFuncs[f.Funcs[0]]
}

// resolveExpr resolves a field expression met in clause: the field path,
// then its functions from the innermost out.
func (c *compiler) resolveExpr(f *FieldRef, clause string) (*Column, error) {
	if len(f.Funcs) == 0 {
		return c.resolve(f)
	}
	base := &FieldRef{Pos: f.Pos, Path: f.Path}
	col, err := c.resolve(base)
	if err != nil {
		return nil, err
	}
	for i := len(f.Funcs) - 1; i >= 0; i-- {
		outer := ""
		if i > 0 {
			outer = f.Funcs[i-1]
		}
		if col, err = c.applyFunc(f, f.Funcs[i], outer, col, clause); err != nil {
			return nil, err
		}
	}
	if hasDateFunc(f) {
		// Named by the resolved field, so GROUP BY CALENDAR_YEAR(createddate)
		// matches SELECT CALENDAR_YEAR(Lead.CreatedDate).
		g := strings.ToLower(innermost(col).Path)
		for i := len(f.Funcs) - 1; i >= 0; i-- {
			g = f.Funcs[i] + "(" + g + ")"
		}
		col.groupPath = g
	}
	return col, nil
}

// innermost is the field column under a chain of functions.
func innermost(col *Column) *Column {
	for col.inner != nil {
		col = col.inner
	}
	return col
}

// typeOf compiles TYPEOF Rel WHEN Type THEN fields ... [ELSE fields] END:
// Rel a polymorphic relationship of the object, each Type one of its
// targets, each field a plain field of that type; ELSE fields must exist
// on some target. Error texts UNCONFIRMED.
func (c *compiler) typeOf(x *TypeOf) (*Column, error) {
	if len(x.Rel.Path) != 1 {
		return nil, errAt(c.src, x.Rel.Pos, CodeMalformedQuery, "TYPEOF takes a relationship of the queried object: %s", x.Rel.String())
	}
	ref := c.obj.Relationship(x.Rel.Path[0])
	if ref == nil || len(ref.ReferenceTo) == 0 {
		return nil, errAt(c.src, x.Rel.Pos, CodeInvalidField,
			"Didn't understand relationship '%s' in field path. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names.", x.Rel.Path[0])
	}
	if len(ref.ReferenceTo) < 2 {
		return nil, errAt(c.src, x.Rel.Pos, CodeMalformedQuery, "TYPEOF can only be used on a polymorphic relationship: %s", ref.RelationshipName)
	}
	target := func(name string) Object {
		for _, t := range ref.ReferenceTo {
			if strings.EqualFold(t, name) {
				return c.schema.Object(t)
			}
		}
		return nil
	}
	plan := &TypeOfPlan{Name: ref.RelationshipName, Ref: ref}
	plain := func(f *FieldRef) error {
		if len(f.Path) != 1 || len(f.Funcs) > 0 {
			return errAt(c.src, f.Pos, CodeMalformedQuery, "TYPEOF selects plain fields of the related record: %s", f.String())
		}
		return nil
	}
	for _, w := range x.Whens {
		obj := target(w.Type)
		if obj == nil {
			named := false
			for _, t := range ref.ReferenceTo {
				named = named || strings.EqualFold(t, w.Type)
			}
			if named {
				// A target the emulator does not model (Group): no record
				// can be of that type, so the branch never applies.
				continue
			}
			return nil, errAt(c.src, w.TypePos, CodeInvalidType, "TYPEOF %s: %s is not a type this relationship can point to", ref.RelationshipName, w.Type)
		}
		tc := TypeOfCase{Type: obj.Name()}
		for _, f := range w.Fields {
			if err := plain(f); err != nil {
				return nil, err
			}
			fd := obj.Field(f.Path[0])
			if fd == nil {
				return nil, c.noSuchColumn(f, f.Path[0], obj.Name())
			}
			tc.Fields = append(tc.Fields, fd)
		}
		plan.Cases = append(plan.Cases, tc)
	}
	if x.Else != nil {
		plan.Else = []string{}
		for _, f := range x.Else {
			if err := plain(f); err != nil {
				return nil, err
			}
			found := ""
			for _, t := range ref.ReferenceTo {
				if o := c.schema.Object(t); o != nil {
					if fd := o.Field(f.Path[0]); fd != nil {
						found = fd.Name
						break
					}
				}
			}
			if found == "" {
				return nil, c.noSuchColumn(f, f.Path[0], ref.ReferenceTo[0])
			}
			plan.Else = append(plan.Else, found)
		}
	}
	return &Column{Path: ref.RelationshipName, Display: "TYPEOF " + ref.RelationshipName, Field: ref, TypeOf: plan,
		get: func(Row) any { return nil }}, nil
}

// groupPathOf is how GROUP BY matching names a column.
func groupPathOf(col *Column) string {
	if col == nil {
		return ""
	}
	if col.groupPath != "" {
		return col.groupPath
	}
	return col.Path
}

func (c *compiler) funcError(f *FieldRef, code, format string, args ...any) *Error {
	return errAt(c.src, f.FuncPos, code, format, args...)
}

// applyFunc wraps col (the field, or an inner function) in fn; outer is the
// function around this one ("" for the outermost).
func (c *compiler) applyFunc(f *FieldRef, fn, outer string, col *Column, clause string) (*Column, error) {
	vt := typeOf(col.Field.Type)
	switch {
	case fn == "convertTimezone":
		if !dateFuncs[outer] {
			return nil, c.funcError(f, CodeMalformedQuery, "convertTimezone() can only be used inside a date function")
		}
		if vt != vDateTime {
			return nil, c.funcError(f, CodeInvalidField, "convertTimezone() can only be used on dateTime fields: %s", col.Path)
		}
		get, loc := col.get, c.loc
		return &Column{Path: col.Path, Display: "convertTimezone(" + col.Display + ")", Field: col.Field, inner: col,
			get: func(r Row) any {
				if t, ok := toTime(get(r)); ok {
					return t.In(loc)
				}
				return nil
			}}, nil
	case dateFuncs[fn]:
		if clause == inSelect && !c.aggregateQuery {
			// UNCONFIRMED wording: a date function in SELECT needs GROUP BY.
			return nil, c.funcError(f, CodeMalformedQuery, "Date functions are only allowed in the SELECT list of an aggregate query: %s", f.String())
		}
		if vt != vDate && vt != vDateTime || dateTimeOnly[fn] && vt != vDateTime {
			want := "date or dateTime"
			if dateTimeOnly[fn] {
				want = "dateTime"
			}
			return nil, c.funcError(f, CodeInvalidField, "%s() can only be used on %s fields: %s", fn, want, col.Path)
		}
		get := col.get
		out := &Field{Name: fn, Type: "int"}
		if fn == "DAY_ONLY" {
			out.Type = "date"
		}
		return &Column{Path: col.Path, Display: fn + "(" + col.Display + ")", Field: out, inner: col,
			get: func(r Row) any { return datePart(fn, get(r)) }}, nil
	case fn == "toLabel":
		if clause != inSelect && clause != inWhere {
			return nil, c.funcError(f, CodeMalformedQuery, "toLabel() can only be used in the SELECT list and the WHERE clause")
		}
		if col.Field.Type != "picklist" && col.Field.Type != "multipicklist" &&
			!(strings.EqualFold(col.Field.Name, "Name") && col.Parent == "RecordType") {
			return nil, c.funcError(f, CodeInvalidField, "toLabel() can only be used on picklist fields and RecordType.Name: %s", col.Path)
		}
		// The emulator's picklist labels are their values, so the label
		// reads as the value.
		return &Column{Path: col.Path, Display: "toLabel(" + col.Display + ")", Field: col.Field, Ref: col.Ref, Refs: col.Refs,
			Parent: col.Parent, Func: fn, inner: col, get: col.get}, nil
	case fn == "convertCurrency":
		if clause != inSelect {
			return nil, c.funcError(f, CodeMalformedQuery, "convertCurrency() can only be used in the SELECT list")
		}
		return nil, c.funcError(f, CodeMalformedQuery, "convertCurrency() can only be used in multi-currency organizations: %s", col.Path)
	case fn == "FORMAT":
		if clause != inSelect {
			return nil, c.funcError(f, CodeMalformedQuery, "FORMAT() can only be used in the SELECT list")
		}
		format := formatter(col.Field, c.loc)
		if format == nil {
			return nil, c.funcError(f, CodeInvalidField, "FORMAT() can only be used on number, currency, percent, date, dateTime and time fields: %s", col.Path)
		}
		get := col.get
		return &Column{Path: col.Path, Display: "FORMAT(" + col.Display + ")", Field: col.Field, Ref: col.Ref, Refs: col.Refs,
			Parent: col.Parent, Func: fn, Formatted: true, inner: col,
			get: func(r Row) any {
				v := get(r)
				if v == nil {
					return nil
				}
				return format(v)
			}}, nil
	}
	return nil, c.funcError(f, CodeMalformedQuery, "unexpected token: '%s'", fn)
}

// datePart evaluates a date function on a date ("2006-01-02") or dateTime
// value; fiscal functions read the calendar (a fiscal year starting in
// January, Salesforce's default). DAY_ONLY answers a date string, the rest
// an int; nil for null.
func datePart(fn string, v any) any {
	var t time.Time
	switch x := v.(type) {
	case time.Time:
		t = x
	case string:
		if x == "" {
			return nil
		}
		d, err := time.Parse("2006-01-02", x)
		if err != nil {
			if t2, ok := toTime(x); ok {
				d = t2.UTC()
			} else {
				return nil
			}
		}
		t = d
	default:
		return nil
	}
	switch fn {
	case "CALENDAR_MONTH", "FISCAL_MONTH":
		return int(t.Month())
	case "CALENDAR_QUARTER", "FISCAL_QUARTER":
		return (int(t.Month())-1)/3 + 1
	case "CALENDAR_YEAR", "FISCAL_YEAR":
		return t.Year()
	case "DAY_IN_MONTH":
		return t.Day()
	case "DAY_IN_WEEK":
		return int(t.Weekday()) + 1
	case "DAY_IN_YEAR":
		return t.YearDay()
	case "DAY_ONLY":
		return t.Format("2006-01-02")
	case "HOUR_IN_DAY":
		return t.Hour()
	case "WEEK_IN_MONTH":
		return (t.Day()-1)/7 + 1
	case "WEEK_IN_YEAR":
		return (t.YearDay()-1)/7 + 1
	}
	return nil
}

// formatter returns FORMAT()'s rendering of f's values in the en_US locale
// (the emulator's users' locale), dateTimes in loc; nil for a type FORMAT
// does not take. The exact patterns are UNCONFIRMED (they follow the ICU
// en_US short formats Salesforce uses: 12/5/2026, 12/5/2026, 1:51 AM).
func formatter(f *Field, loc *time.Location) func(any) any {
	switch f.Type {
	case "double", "int", "long", "currency", "percent":
		scale := f.Scale
		if f.Type == "int" || f.Type == "long" {
			scale = 0
		}
		return func(v any) any {
			n, ok := toFloat(v)
			if !ok {
				return nil
			}
			s := groupThousands(n, scale)
			switch f.Type {
			case "currency":
				if strings.HasPrefix(s, "-") {
					return "-$" + s[1:]
				}
				return "$" + s
			case "percent":
				return s + "%"
			}
			return s
		}
	case "date":
		return func(v any) any {
			s, ok := toDate(v)
			if !ok {
				return nil
			}
			d, err := time.Parse("2006-01-02", s)
			if err != nil {
				return s
			}
			return d.Format("1/2/2006")
		}
	case "datetime":
		return func(v any) any {
			t, ok := toTime(v)
			if !ok {
				return nil
			}
			return t.In(loc).Format("1/2/2006, 3:04 PM")
		}
	case "time":
		return func(v any) any {
			s, ok := v.(string)
			if !ok || s == "" {
				return nil
			}
			t, err := time.Parse("15:04:05.000Z", s)
			if err != nil {
				if t, err = time.Parse("15:04:05", strings.TrimSuffix(s, "Z")); err != nil {
					return s
				}
			}
			return t.Format("3:04 PM")
		}
	}
	return nil
}

// groupThousands writes n with scale decimals and comma-grouped thousands.
func groupThousands(n float64, scale int) string {
	if math.IsNaN(n) || math.IsInf(n, 0) {
		return strconv.FormatFloat(n, 'f', -1, 64)
	}
	s := strconv.FormatFloat(math.Abs(n), 'f', scale, 64)
	intPart, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	if n < 0 && strings.Trim(s, "0.") != "" {
		b.WriteByte('-')
	}
	for i, r := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if frac != "" {
		b.WriteString("." + frac)
	}
	return b.String()
}

// includes compiles field INCLUDES / EXCLUDES ('a;b', 'c') on a
// multi-select picklist: a record matches a value when it holds every
// ';'-separated item of it (case-insensitively), INCLUDES when some value
// matches, EXCLUDES when none does (so a record with no values matches
// EXCLUDES; UNCONFIRMED).
func (c *compiler) includes(x *Includes) (func(Row) bool, error) {
	col, err := c.resolveExpr(x.Field, c.condClause())
	if err != nil {
		return nil, err
	}
	if col.Field.Type != "multipicklist" {
		return nil, errAt(c.src, x.OpPos, CodeInvalidFilterOp, "includes or excludes operator only valid on multipicklist field")
	}
	var wants [][]string
	for _, v := range x.Values {
		if v.Kind != KindString {
			return nil, c.mistyped(col.Field, v)
		}
		var items []string
		for _, it := range strings.Split(decodeString(v.Text), ";") {
			if it = strings.ToLower(strings.TrimSpace(it)); it != "" {
				items = append(items, it)
			}
		}
		wants = append(wants, items)
	}
	get := col.get
	match := func(r Row) bool {
		s, _ := get(r).(string)
		if s == "" {
			return false
		}
		held := map[string]bool{}
		for _, it := range strings.Split(s, ";") {
			held[strings.ToLower(strings.TrimSpace(it))] = true
		}
		for _, items := range wants {
			all := len(items) > 0
			for _, it := range items {
				all = all && held[it]
			}
			if all {
				return true
			}
		}
		return false
	}
	if x.Excludes {
		return func(r Row) bool { return !match(r) }, nil
	}
	return match, nil
}
