package scim

// SCIM filter parsing and evaluation (RFC 7644 §3.4.2.2).
//
// Parsing is delegated to github.com/scim2/filter-parser; this file checks
// the parsed tree, decodes its literals and evaluates it against resources
// held as map[string]any, the shape encoding/json produces for SCIM JSON.
//
// Comparison rules:
//   - Attribute names match case-insensitively.
//   - Strings compare case-insensitively, except the top-level "id" and
//     "externalId" and the sub-attributes of "meta", which compare
//     case-sensitively (the schema declares externalId caseExact).
//   - When both sides of eq, ne, gt, ge, lt or le parse as RFC 3339
//     timestamps they compare as instants; otherwise as strings.
//   - Numbers compare numerically and booleans only with eq and ne; values of
//     different JSON types never match.
//   - A multi-valued attribute matches when any of its values matches, and a
//     complex value (an object) is compared through its "value"
//     sub-attribute, so `emails co "x"` tests every emails[].value.
//   - A missing attribute matches no comparison (ne included); only not(...)
//     turns that into a match. `attr eq null` is read as "attr is not present"
//     and `attr ne null` as `attr pr`.

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/di-wu/parser"
	filter "github.com/scim2/filter-parser/v2"
)

const (
	// maxFilterLen bounds the length of a filter or PATCH path, in bytes.
	maxFilterLen = 8192
	// maxFilterNesting bounds how deeply parentheses and brackets may nest,
	// keeping the recursive-descent parser's stack small.
	maxFilterNesting = 32
	// coreSchemaPrefix starts every core schema URN; attributes qualified
	// with one of them live at the top level of a resource.
	coreSchemaPrefix = "urn:ietf:params:scim:schemas:core:"
	// filterSyntaxHint describes the expected shape of a filter term.
	filterSyntaxHint = `expected "attr op value" (op one of eq, ne, co, sw, ew, gt, ge, lt, le), "attr pr", "not (...)", "(...)" or "attr[...]"`
)

// Filter is a parsed SCIM filter. Build one with ParseFilter; a nil *Filter
// matches every resource.
type Filter struct {
	expr filter.Expression
}

// ParseFilter parses a SCIM filter such as
//
//	userName eq "bjensen" and (emails[type eq "work"] or not (title pr))
//
// It returns an *Error with scimType invalidFilter that names the problem
// when s is not a filter this package can evaluate. It never panics.
func ParseFilter(s string) (*Filter, error) {
	expr, err := parseFilterExpr(s)
	if err != nil {
		return nil, err
	}
	return &Filter{expr: expr}, nil
}

// Match reports whether res satisfies the filter.
func (f *Filter) Match(res map[string]any) bool {
	if f == nil || f.expr == nil {
		return true
	}
	return evalExpr(f.expr, res, false)
}

// EqualityOn reports, when the whole filter is a single `attr eq "string"`
// comparison on a top-level attribute (such as userName eq "x" or
// externalId eq "y"), that attribute's name as written and the compared
// string; otherwise ok is false. A core schema URN prefix on the attribute
// is allowed and left out of attr; extension attributes and sub-attributes
// are not reported. Callers use it to look a resource up by an index, and
// must apply the same case rules as Match (see the comment at the top of
// filter.go).
func (f *Filter) EqualityOn() (attr, value string, ok bool) {
	if f == nil {
		return "", "", false
	}
	e, isAttr := f.expr.(*filter.AttributeExpression)
	if !isAttr || e.Operator != filter.EQ || e.AttributePath.SubAttribute != nil {
		return "", "", false
	}
	if uri := e.AttributePath.URIPrefix; uri != nil && !isCoreSchemaURN(*uri) {
		return "", "", false
	}
	s, isString := e.CompareValue.(string)
	if !isString {
		return "", "", false
	}
	return e.AttributePath.AttributeName, s, true
}

// parseFilterExpr checks s, parses it and prepares the tree for evaluation.
func parseFilterExpr(s string) (filter.Expression, *Error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errorf("invalidFilter", "filter is empty")
	}
	if msg := checkFilterText(s); msg != "" {
		return nil, errorf("invalidFilter", "filter %s", msg)
	}
	text, subs, toS := splitValuePathSubs(s)
	expr, err := callParser(func() (filter.Expression, error) {
		return filter.ParseFilterNumber([]byte(text))
	})
	if err != nil {
		return nil, errorf("invalidFilter", "%s", describeParseErrorIn(s, text, toS, err, filterSyntaxHint))
	}
	if err := joinValuePathSubs(expr, subs); err != nil {
		return nil, errorf("invalidFilter", "%s", err)
	}
	if err := prepareExpr(expr); err != nil {
		return nil, errorf("invalidFilter", "%s", err)
	}
	return expr, nil
}

// Microsoft Entra ID looks Users up with a comparison on a sub-attribute
// of a value path, such as
//
//	emails[type eq "work"].value eq "a@example.com"
//
// which RFC 7644's filter grammar (and the parser) do not allow; Microsoft
// acknowledges the deviation and keeps sending it. It means "an email of
// type work whose value is a@example.com", that is
// emails[type eq "work" and value eq "a@example.com"]. splitValuePathSubs
// takes each such trailing ".sub op value" out of s and returns what is
// left, with the comparisons keyed by the ordinal (from 0) of the value
// path's "[" in s; joinValuePathSubs adds them to the parsed value paths'
// filters with "and".

// splitValuePathSubs returns s without the sub-attribute comparisons that
// follow value paths, those comparisons ("value eq \"x\"") by the ordinal
// of their value path, and a function mapping a byte offset in the text
// returned to one in s. Text it does not recognise is left for the parser
// to report.
func splitValuePathSubs(s string) (string, map[int]string, func(int) int) {
	type cut struct{ at, n int } // n bytes of s were taken out at offset at of the text
	var (
		out      strings.Builder
		subs     map[int]string
		cuts     []cut
		open     []int // ordinals of the value paths open at this point
		brackets int   // "[" seen so far, outside strings
		inString bool
		escaped  bool
	)
	toS := func(col int) int {
		for _, c := range cuts {
			if c.at <= col {
				col += c.n
			}
		}
		return col
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		out.WriteByte(c)
		switch {
		case inString && escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case c == '"':
			inString = !inString
		case inString:
		case c == '[':
			open = append(open, brackets)
			brackets++
		case c == ']' && len(open) > 0:
			ord := open[len(open)-1]
			open = open[:len(open)-1]
			if cmp, n := subComparison(s[i+1:]); n > 0 {
				if subs == nil {
					subs = map[int]string{}
				}
				subs[ord] = cmp
				cuts = append(cuts, cut{at: out.Len(), n: n})
				i += n
			}
		}
	}
	return out.String(), subs, toS
}

// subComparison reads ".sub op value" (or ".sub pr") at the start of s and
// returns it without the dot, and how many bytes of s it took; 0 when s
// does not start with one.
func subComparison(s string) (string, int) {
	if len(s) < 2 || s[0] != '.' {
		return "", 0
	}
	i := 1
	for i < len(s) && (isNameByte(s[i]) || (i == 1 && s[i] == '$')) {
		i++
	}
	name := s[1:i]
	if name == "" || name[0] >= '0' && name[0] <= '9' {
		return "", 0
	}
	j := skipSpaces(s, i)
	if j == i || j+2 > len(s) {
		return "", 0
	}
	op := strings.ToLower(s[j : j+2])
	k := j + 2
	if op == "pr" {
		if k < len(s) && s[k] != ' ' && s[k] != ')' {
			return "", 0
		}
		return name + " pr", k
	}
	switch op {
	case "eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le":
	default:
		return "", 0
	}
	v := skipSpaces(s, k)
	if v == k || v == len(s) {
		return "", 0
	}
	end := v
	if s[v] == '"' {
		escaped := false
		for end = v + 1; end < len(s); end++ {
			if escaped {
				escaped = false
			} else if s[end] == '\\' {
				escaped = true
			} else if s[end] == '"' {
				break
			}
		}
		if end == len(s) {
			return "", 0
		}
		end++
	} else {
		for end < len(s) && s[end] != ' ' && s[end] != ')' {
			end++
		}
	}
	return name + " " + op + " " + s[v:end], end
}

func isNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

func skipSpaces(s string, i int) int {
	for i < len(s) && s[i] == ' ' {
		i++
	}
	return i
}

// joinValuePathSubs adds each comparison of subs to the filter of its
// value path in e (value paths are numbered in the order their "[" came
// in the text, which is the order of a left-to-right walk).
func joinValuePathSubs(e filter.Expression, subs map[int]string) error {
	if len(subs) == 0 {
		return nil
	}
	ord := 0
	var walk func(e filter.Expression) error
	walk = func(e filter.Expression) error {
		switch e := e.(type) {
		case *filter.LogicalExpression:
			if err := walk(e.Left); err != nil {
				return err
			}
			return walk(e.Right)
		case *filter.NotExpression:
			return walk(e.Expression)
		case *filter.ValuePath:
			text, ok := subs[ord]
			ord++
			if !ok {
				return nil
			}
			cmp, err := callParser(func() (filter.AttributeExpression, error) {
				return filter.ParseAttrExpNumber([]byte(text))
			})
			if err != nil {
				return fmt.Errorf("%s[...].%s: %s", e.AttributePath, text, describeParseError(text, err, filterSyntaxHint))
			}
			e.ValueFilter = &filter.LogicalExpression{Left: e.ValueFilter, Right: &cmp, Operator: filter.AND}
		}
		return nil
	}
	return walk(e)
}

// checkFilterText rejects input the parser should never see or would
// report poorly: overlong text, invalid UTF-8, control characters,
// unterminated strings and unbalanced or deeply nested parentheses and
// brackets. It returns a description of the problem, such as
// "is not valid UTF-8", or "" when s is acceptable.
func checkFilterText(s string) string {
	if len(s) > maxFilterLen {
		return fmt.Sprintf("is longer than %d bytes", maxFilterLen)
	}
	if !utf8.ValidString(s) {
		return "is not valid UTF-8"
	}
	depth, inString, escaped := 0, false, false
	for i, r := range s {
		switch {
		case r < 0x20 || r == 0x7f:
			return fmt.Sprintf("has control character %U at position %d", r, i+1)
		case inString && escaped:
			escaped = false
		case inString && r == '\\':
			escaped = true
		case r == '"':
			inString = !inString
		case inString:
		case r == '(' || r == '[':
			depth++
			if depth > maxFilterNesting {
				return fmt.Sprintf("nests parentheses or brackets more than %d deep", maxFilterNesting)
			}
		case r == ')' || r == ']':
			depth--
			if depth < 0 {
				return fmt.Sprintf("has an unmatched %q at position %d", r, i+1)
			}
		}
	}
	switch {
	case inString:
		return "has an unterminated string"
	case depth > 0:
		return "has an unclosed parenthesis or bracket"
	}
	return ""
}

// callParser runs a parser call, turning a panic inside the library into an
// ordinary error so that malformed input can never crash the caller.
func callParser[T any](parse func() (T, error)) (v T, err error) {
	defer func() {
		if r := recover(); r != nil {
			var zero T
			v, err = zero, fmt.Errorf("parser failure: %v", r)
		}
	}()
	return parse()
}

// describeParseError turns a parser error for input s into a message that
// says where parsing stopped; hint describes the expected syntax.
func describeParseError(s string, err error, hint string) string {
	return describeParseErrorIn(s, s, func(col int) int { return col }, err, hint)
}

// describeParseErrorIn is describeParseError for an error in text, a
// rewriting of s: toS maps a byte offset in text to one in s, so the
// message points into what the client sent.
func describeParseErrorIn(s, text string, toS func(int) int, err error, hint string) string {
	var pe *parser.ExpectedParseError
	if !errors.As(err, &pe) {
		return fmt.Sprintf("syntax error in %q: %s", snippet(s), hint)
	}
	// The parser reports the conflicting text and the position of its last
	// rune (a byte offset, as the input is a single line); work back to
	// where the conflict starts.
	_, end := pe.Conflict.Position()
	col := 0
	if end >= 0 && end < len(text) {
		_, size := utf8.DecodeRuneInString(text[end:])
		col = end + size - len(pe.String)
	}
	if col <= 0 || col >= len(text) || !utf8.RuneStart(text[col]) {
		return fmt.Sprintf("syntax error at the start of %q: %s", snippet(s), hint)
	}
	col = toS(col)
	return fmt.Sprintf("syntax error at position %d, near %q", col+1, snippet(s[col:]))
}

// snippet shortens s to a length fit for an error message.
func snippet(s string) string {
	const maxRunes = 120
	if utf8.RuneCountInString(s) <= maxRunes {
		return s
	}
	return string([]rune(s)[:maxRunes]) + "…"
}

// prepareExpr walks a parsed expression, decoding literals in place (string
// escapes, numbers to float64) and rejecting operator and value pairs that
// can never be meaningful.
func prepareExpr(e filter.Expression) error {
	switch e := e.(type) {
	case *filter.LogicalExpression:
		if e.Left == nil || e.Right == nil {
			return errors.New("incomplete and/or expression")
		}
		if err := prepareExpr(e.Left); err != nil {
			return err
		}
		return prepareExpr(e.Right)
	case *filter.NotExpression:
		if e.Expression == nil {
			return errors.New("empty not expression")
		}
		return prepareExpr(e.Expression)
	case *filter.ValuePath:
		if e.ValueFilter == nil {
			return fmt.Errorf("empty value filter on %s", e.AttributePath)
		}
		return prepareExpr(e.ValueFilter)
	case *filter.AttributeExpression:
		return prepareComparison(e)
	default:
		return fmt.Errorf("unsupported expression %T", e)
	}
}

// prepareComparison decodes and checks the literal of one comparison.
func prepareComparison(e *filter.AttributeExpression) error {
	switch v := e.CompareValue.(type) {
	case json.Number:
		f, err := strconv.ParseFloat(string(v), 64)
		if err != nil {
			return fmt.Errorf("number %s is out of range", snippet(string(v)))
		}
		e.CompareValue = f
	case string:
		// The parser hands back the literal's text without its quotes and
		// with escapes untouched; its grammar is JSON's, so decode it so.
		var decoded string
		if err := json.Unmarshal([]byte(`"`+v+`"`), &decoded); err != nil {
			return fmt.Errorf("invalid string literal %q", v)
		}
		e.CompareValue = decoded
	}
	switch e.Operator {
	case filter.PR, filter.EQ, filter.NE:
	case filter.CO, filter.SW, filter.EW:
		if _, ok := e.CompareValue.(string); !ok {
			return fmt.Errorf("operator %s needs a string value in %s", e.Operator, e.AttributePath)
		}
	case filter.GT, filter.GE, filter.LT, filter.LE:
		switch e.CompareValue.(type) {
		case string, float64:
		default:
			return fmt.Errorf("operator %s needs a string, number or date value in %s", e.Operator, e.AttributePath)
		}
	default:
		return fmt.Errorf("unknown operator %q", e.Operator)
	}
	return nil
}

// evalExpr evaluates e against obj. nested is true inside a value filter,
// where obj is one element of a multi-valued attribute and attribute paths
// are relative to it.
func evalExpr(e filter.Expression, obj map[string]any, nested bool) bool {
	switch e := e.(type) {
	case *filter.LogicalExpression:
		if e.Operator == filter.AND {
			return evalExpr(e.Left, obj, nested) && evalExpr(e.Right, obj, nested)
		}
		return evalExpr(e.Left, obj, nested) || evalExpr(e.Right, obj, nested)
	case *filter.NotExpression:
		return !evalExpr(e.Expression, obj, nested)
	case *filter.ValuePath:
		for _, v := range filterValues(obj, e.AttributePath, nested) {
			if matchElement(e.ValueFilter, v) {
				return true
			}
		}
		return false
	case *filter.AttributeExpression:
		return evalComparison(e, obj, nested)
	default:
		return false
	}
}

// matchElement evaluates a value filter against one element of a
// multi-valued attribute. A simple (non-object) element is seen as an
// object whose "value" sub-attribute holds it.
func matchElement(e filter.Expression, elem any) bool {
	if m, ok := elem.(map[string]any); ok {
		return evalExpr(e, m, true)
	}
	if elem == nil {
		return false
	}
	return evalExpr(e, map[string]any{"value": elem}, true)
}

// evalComparison evaluates one `attr op value` or `attr pr` term.
func evalComparison(e *filter.AttributeExpression, obj map[string]any, nested bool) bool {
	values := filterValues(obj, e.AttributePath, nested)
	if e.Operator == filter.PR || e.CompareValue == nil {
		present := false
		for _, v := range values {
			if isPresent(v) {
				present = true
				break
			}
		}
		if e.Operator == filter.EQ { // eq null: not present
			return !present
		}
		return present // pr, ne null
	}
	caseExact := !nested && isCaseExactPath(e.AttributePath)
	for _, v := range values {
		if m, ok := v.(map[string]any); ok {
			v, _ = getAttr(m, "value")
		}
		if compareValues(v, e.Operator, e.CompareValue, caseExact) {
			return true
		}
	}
	return false
}

// filterValues returns the values path addresses in obj, with multi-valued
// attributes flattened into their elements.
func filterValues(obj map[string]any, path filter.AttributePath, nested bool) []any {
	base := obj
	if uri := path.URIPrefix; uri != nil && !nested && !isCoreSchemaURN(*uri) {
		if ext, ok := getAttr(obj, *uri); ok {
			base, _ = ext.(map[string]any)
		} else if whole, ok := getAttr(obj, *uri+":"+path.AttributeName); ok {
			// The path names an extension schema itself, e.g.
			// "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User pr".
			return subValues(flatten(whole), path.SubAttribute)
		} else {
			return nil
		}
	}
	if base == nil {
		return nil
	}
	v, ok := getAttr(base, path.AttributeName)
	if !ok {
		return nil
	}
	return subValues(flatten(v), path.SubAttribute)
}

// subValues maps values to their sub-attribute sub (when sub is not nil),
// flattening multi-valued results.
func subValues(values []any, sub *string) []any {
	if sub == nil {
		return values
	}
	var out []any
	for _, v := range values {
		if m, ok := v.(map[string]any); ok {
			if sv, ok := getAttr(m, *sub); ok {
				out = append(out, flatten(sv)...)
			}
		}
	}
	return out
}

// flatten returns the elements of a multi-valued attribute, or v alone.
func flatten(v any) []any {
	if arr, ok := v.([]any); ok {
		return arr
	}
	return []any{v}
}

// isPresent reports whether v counts as a value for the pr operator: not
// null, not an empty string and, for objects, holding a present value.
func isPresent(v any) bool {
	switch v := v.(type) {
	case nil:
		return false
	case string:
		return v != ""
	case []any:
		for _, e := range v {
			if isPresent(e) {
				return true
			}
		}
		return false
	case map[string]any:
		for _, e := range v {
			if isPresent(e) {
				return true
			}
		}
		return false
	default:
		return true
	}
}

// isCaseExactPath reports whether strings under path compare
// case-sensitively: the top-level id and the sub-attributes of meta.
func isCaseExactPath(path filter.AttributePath) bool {
	if uri := path.URIPrefix; uri != nil && !isCoreSchemaURN(*uri) {
		return false
	}
	name := path.AttributeName
	return strings.EqualFold(name, "meta") ||
		((strings.EqualFold(name, "id") || strings.EqualFold(name, "externalId")) && path.SubAttribute == nil)
}

// compareValues applies op to an attribute value and a filter literal.
func compareValues(attr any, op filter.CompareOperator, lit any, caseExact bool) bool {
	switch lit := lit.(type) {
	case string:
		s, ok := attr.(string)
		if !ok {
			return false
		}
		return compareStrings(s, op, lit, caseExact)
	case float64:
		n, ok := toFloat(attr)
		if !ok {
			return false
		}
		return orderMatches(op, cmp.Compare(n, lit))
	case bool:
		b, ok := attr.(bool)
		if !ok {
			return false
		}
		switch op {
		case filter.EQ:
			return b == lit
		case filter.NE:
			return b != lit
		}
	}
	return false
}

// compareStrings applies op to two strings, comparing RFC 3339 timestamps
// as instants.
func compareStrings(s string, op filter.CompareOperator, lit string, caseExact bool) bool {
	switch op {
	case filter.CO, filter.SW, filter.EW:
	default:
		if ts, err := time.Parse(time.RFC3339, s); err == nil {
			if tl, err := time.Parse(time.RFC3339, lit); err == nil {
				return orderMatches(op, ts.Compare(tl))
			}
		}
	}
	if !caseExact {
		s, lit = strings.ToLower(s), strings.ToLower(lit)
	}
	switch op {
	case filter.CO:
		return strings.Contains(s, lit)
	case filter.SW:
		return strings.HasPrefix(s, lit)
	case filter.EW:
		return strings.HasSuffix(s, lit)
	default:
		return orderMatches(op, strings.Compare(s, lit))
	}
}

// orderMatches reports whether the result c of comparing an attribute value
// with a literal (-1, 0 or +1) satisfies op.
func orderMatches(op filter.CompareOperator, c int) bool {
	switch op {
	case filter.EQ:
		return c == 0
	case filter.NE:
		return c != 0
	case filter.GT:
		return c > 0
	case filter.GE:
		return c >= 0
	case filter.LT:
		return c < 0
	case filter.LE:
		return c <= 0
	default:
		return false
	}
}

// toFloat converts a numeric attribute value to float64.
func toFloat(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case float32:
		return float64(n), true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case int32:
		return float64(n), true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	default:
		return 0, false
	}
}

// isCoreSchemaURN reports whether uri names a core SCIM schema, whose
// attributes sit at the top level of a resource.
func isCoreSchemaURN(uri string) bool {
	return len(uri) >= len(coreSchemaPrefix) && strings.EqualFold(uri[:len(coreSchemaPrefix)], coreSchemaPrefix)
}

// Attribute access. SCIM attribute names are case-insensitive, so these
// helpers find map keys regardless of case.

// attrKey returns the key of m that names attribute name. An exact match
// wins; among keys differing from name only in case, the smallest is chosen
// so that the result does not depend on map iteration order.
func attrKey(m map[string]any, name string) (string, bool) {
	if _, ok := m[name]; ok {
		return name, true
	}
	found, ok := "", false
	for k := range m {
		if strings.EqualFold(k, name) && (!ok || k < found) {
			found, ok = k, true
		}
	}
	return found, ok
}

// getAttr returns the value of attribute name in m.
func getAttr(m map[string]any, name string) (any, bool) {
	k, ok := attrKey(m, name)
	if !ok {
		return nil, false
	}
	return m[k], true
}

// setAttr stores v as attribute name in m. An existing key spelled in
// another case is reused, and any further case variants are dropped, so the
// attribute ends up under a single key.
func setAttr(m map[string]any, name string, v any) {
	k, ok := attrKey(m, name)
	if !ok {
		k = name
	}
	for other := range m {
		if other != k && strings.EqualFold(other, name) {
			delete(m, other)
		}
	}
	m[k] = v
}

// deleteAttr removes attribute name from m under any spelling.
func deleteAttr(m map[string]any, name string) {
	for k := range m {
		if strings.EqualFold(k, name) {
			delete(m, k)
		}
	}
}
