package mapping

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	forcesync "github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/salesforce"
)

// Record error codes raised locally, before any API call. They are the codes
// Salesforce itself would answer, so a held record reads the same whether
// forcesync or Salesforce refused it; ExpressionError is forcesync's own.
const (
	CodeRequiredFieldMissing = "REQUIRED_FIELD_MISSING"
	CodeStringTooLong        = "STRING_TOO_LONG"
	CodeInvalidEmail         = "INVALID_EMAIL_ADDRESS"
	CodeRestrictedPicklist   = "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
	CodeNumberOutOfRange     = "NUMBER_OUTSIDE_VALID_RANGE"
	CodeInvalidType          = "INVALID_TYPE_ON_FIELD_IN_RECORD"
	CodeMalformedID          = "MALFORMED_ID"
	CodeExpressionError      = "EXPRESSION_ERROR"
)

// kind groups Salesforce field types by how a value is coerced into them.
type kind int

const (
	kindUnsupported kind = iota
	kindText             // string, textarea, encryptedstring, combobox: truncated to fit
	kindStrictText       // phone, url: a cut value would be wrong, so too long is an error
	kindEmail
	kindPicklist
	kindMultiPicklist
	kindBoolean
	kindNumber // int, long, double, currency, percent
	kindDate
	kindDateTime
	kindTime
	kindID // id, reference
)

func kindOf(sfType string) kind {
	switch sfType {
	case "string", "textarea", "encryptedstring", "combobox":
		return kindText
	case "phone", "url":
		return kindStrictText
	case "email":
		return kindEmail
	case "picklist":
		return kindPicklist
	case "multipicklist":
		return kindMultiPicklist
	case "boolean":
		return kindBoolean
	case "int", "long", "double", "currency", "percent":
		return kindNumber
	case "date":
		return kindDate
	case "datetime":
		return kindDateTime
	case "time":
		return kindTime
	case "id", "reference":
		return kindID
	}
	return kindUnsupported
}

// target is a Salesforce field prepared for coercion: everything the
// per-record path needs, computed once at compile time.
type target struct {
	name   string
	label  string
	sfType string
	kind   kind
	length int // characters; 0 means unbounded
	// scale and maxInt bound numbers: digits after the point, digits before it.
	scale  int
	maxInt int
	int32  bool // Salesforce "int": also bounded by a Java int
	// restricted picklist: exact values, and lower-cased values -> canonical
	// value, so "open" can be sent as "Open".
	restricted bool
	values     map[string]bool
	folded     map[string]string
	// noTruncate is set for match and External ID fields: a cut key would
	// silently match the wrong record.
	noTruncate bool
}

func newTarget(f *salesforce.Field) *target {
	t := &target{name: f.Name, label: f.Label, sfType: f.Type, kind: kindOf(f.Type), length: f.Length}
	if t.label == "" {
		t.label = f.Name
	}
	switch f.Type {
	case "int":
		t.scale, t.int32 = 0, true
		t.maxInt = f.Digits
		if t.maxInt == 0 {
			t.maxInt = f.Precision
		}
		if t.maxInt <= 0 || t.maxInt > 10 {
			t.maxInt = 10 // a Java int has 10 digits; the int32 bound does the rest
		}
	case "long":
		t.maxInt = f.Digits
		if t.maxInt == 0 {
			t.maxInt = f.Precision
		}
		if t.maxInt <= 0 || t.maxInt > 18 {
			t.maxInt = 18
		}
	case "double", "currency", "percent":
		t.scale = max(f.Scale, 0)
		t.maxInt = f.Precision - t.scale
		if f.Precision <= 0 {
			t.maxInt = 18 // no precision in the describe: Salesforce's widest
		}
		if t.maxInt < 0 {
			t.maxInt = 0
		}
	}
	if t.kind == kindPicklist || t.kind == kindMultiPicklist {
		t.restricted = f.RestrictedPicklist
		t.values = map[string]bool{}
		t.folded = map[string]string{}
		for _, p := range f.PicklistValues {
			if !p.Active {
				continue
			}
			t.values[p.Value] = true
			if _, dup := t.folded[strings.ToLower(p.Value)]; !dup {
				t.folded[strings.ToLower(p.Value)] = p.Value
			}
		}
	}
	return t
}

func (t *target) errorf(code, format string, args ...any) *forcesync.RecordError {
	return &forcesync.RecordError{Code: code, Message: t.label + ": " + fmt.Sprintf(format, args...), Fields: []string{t.name}}
}

// isEmpty reports whether v counts as no value: nil, blank text, an empty
// list. Salesforce treats blank text as missing for required fields too.
func isEmpty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return strings.TrimSpace(x) == ""
	case json.Number:
		return x == ""
	case []any:
		for _, e := range x {
			if !isEmpty(e) {
				return false
			}
		}
		return true
	case []string:
		for _, e := range x {
			if strings.TrimSpace(e) != "" {
				return false
			}
		}
		return true
	}
	return false
}

// text renders a scalar as Salesforce would read it in a text field. Lists
// and objects have no text form.
func text(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case json.Number:
		return string(x), true
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return "", false
		}
		return strconv.FormatFloat(x, 'f', -1, 64), true
	case float32:
		return text(float64(x))
	case bool:
		return strconv.FormatBool(x), true
	case int:
		return strconv.Itoa(x), true
	case int64:
		return strconv.FormatInt(x, 10), true
	case int32:
		return strconv.FormatInt(int64(x), 10), true
	case int8, int16, uint, uint8, uint16, uint32, uint64:
		return fmt.Sprint(x), true
	}
	return "", false
}

// describeValue shortens a value for an error message.
func describeValue(v any) string {
	s, ok := text(v)
	if !ok {
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Sprintf("%T", v)
		}
		s = string(b)
	}
	if utf8.RuneCountInString(s) > 80 {
		r := []rune(s)
		s = string(r[:77]) + "..."
	}
	return s
}

// coerce converts a non-empty value to the JSON form the field takes. warn
// is a note for the record's status (a truncation, a picklist value whose
// case was fixed); a *RecordError means Salesforce would refuse the value.
func (t *target) coerce(v any) (out any, warn string, rerr *forcesync.RecordError) {
	switch t.kind {
	case kindText, kindStrictText:
		s, ok := text(v)
		if !ok {
			return nil, "", t.errorf(CodeInvalidType, "value not of required type: %s", describeValue(v))
		}
		return t.fit(s)
	case kindEmail:
		s, ok := v.(string)
		if !ok {
			return nil, "", t.errorf(CodeInvalidEmail, "invalid email address: %s", describeValue(v))
		}
		s = strings.TrimSpace(s)
		if !ValidEmail(s) {
			return nil, "", t.errorf(CodeInvalidEmail, "invalid email address: %s", describeValue(s))
		}
		if t.length > 0 && utf8.RuneCountInString(s) > t.length {
			return nil, "", t.errorf(CodeStringTooLong, "data value too large: %s (max length=%d)", describeValue(s), t.length)
		}
		return s, "", nil
	case kindPicklist:
		s, ok := text(v)
		if !ok {
			return nil, "", t.errorf(CodeInvalidType, "value not of required type: %s", describeValue(v))
		}
		s = strings.TrimSpace(s)
		s, warn, rerr = t.pick(s)
		if rerr != nil {
			return nil, "", rerr
		}
		if t.length > 0 && utf8.RuneCountInString(s) > t.length {
			return nil, "", t.errorf(CodeStringTooLong, "data value too large: %s (max length=%d)", describeValue(s), t.length)
		}
		return s, warn, nil
	case kindMultiPicklist:
		return t.multi(v)
	case kindBoolean:
		b, ok := parseBool(v)
		if !ok {
			return nil, "", t.errorf(CodeInvalidType, "value not of required type: %s", describeValue(v))
		}
		return b, "", nil
	case kindNumber:
		return t.number(v)
	case kindDate, kindDateTime:
		tm, dateOnly, ok := parseTime(v)
		if !ok || tm.Year() < 1700 || tm.Year() > 4000 {
			return nil, "", t.errorf(CodeInvalidType, "value not of required type: %s", describeValue(v))
		}
		if t.kind == kindDate {
			return tm.Format("2006-01-02"), "", nil
		}
		if dateOnly {
			tm = time.Date(tm.Year(), tm.Month(), tm.Day(), 0, 0, 0, 0, time.UTC)
		}
		return tm.UTC().Format("2006-01-02T15:04:05.000Z"), "", nil
	case kindTime:
		s, ok := v.(string)
		tm, okt := parseClock(strings.TrimSpace(s))
		if !ok || !okt {
			return nil, "", t.errorf(CodeInvalidType, "value not of required type: %s", describeValue(v))
		}
		return tm, "", nil
	case kindID:
		s, ok := v.(string)
		id, okID := NormalizeID(strings.TrimSpace(s))
		if !ok || !okID {
			return nil, "", t.errorf(CodeMalformedID, "id value of incorrect type: %s", describeValue(v))
		}
		return id, "", nil
	}
	return nil, "", t.errorf(CodeInvalidType, "field type %s cannot be written", t.sfType)
}

// fit applies the field's length to text: plain text is cut (with a
// warning), text whose meaning a cut would change is refused. Length counts
// characters (runes), as Salesforce does.
func (t *target) fit(s string) (any, string, *forcesync.RecordError) {
	if t.length <= 0 || len(s) <= t.length {
		return s, "", nil // byte length bounds rune count: nothing to count
	}
	n := utf8.RuneCountInString(s)
	if n <= t.length {
		return s, "", nil
	}
	if t.kind != kindText || t.noTruncate {
		return nil, "", t.errorf(CodeStringTooLong, "data value too large: %s (max length=%d)", describeValue(s), t.length)
	}
	cut, i := 0, 0
	for i = range s {
		if cut == t.length {
			break
		}
		cut++
	}
	return s[:i], fmt.Sprintf("%s truncated from %d to %d characters", t.name, n, t.length), nil
}

func (t *target) pick(s string) (string, string, *forcesync.RecordError) {
	if !t.restricted || t.values[s] {
		return s, "", nil
	}
	if c, ok := t.folded[strings.ToLower(s)]; ok {
		return c, fmt.Sprintf("%s value %q sent as %q", t.name, s, c), nil
	}
	return "", "", t.errorf(CodeRestrictedPicklist, "bad value for restricted picklist field: %s", describeValue(s))
}

// multi joins a list (or a ;-separated text) into Salesforce's
// multipicklist form "A;B", dropping blanks and repeats.
func (t *target) multi(v any) (any, string, *forcesync.RecordError) {
	var parts []string
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			s, ok := text(e)
			if !ok {
				return nil, "", t.errorf(CodeInvalidType, "value not of required type: %s", describeValue(v))
			}
			parts = append(parts, strings.Split(s, ";")...)
		}
	case []string:
		for _, s := range x {
			parts = append(parts, strings.Split(s, ";")...)
		}
	default:
		s, ok := text(v)
		if !ok {
			return nil, "", t.errorf(CodeInvalidType, "value not of required type: %s", describeValue(v))
		}
		parts = strings.Split(s, ";")
	}
	seen := make(map[string]bool, len(parts))
	out := make([]string, 0, len(parts))
	var warns []string
	for _, p := range parts {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		p, w, rerr := t.pick(p)
		if rerr != nil {
			return nil, "", rerr
		}
		if w != "" {
			warns = append(warns, w)
		}
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	s := strings.Join(out, ";")
	if t.length > 0 && utf8.RuneCountInString(s) > t.length {
		return nil, "", t.errorf(CodeStringTooLong, "data value too large: %s (max length=%d)", describeValue(s), t.length)
	}
	return s, strings.Join(warns, "; "), nil
}

func (t *target) number(v any) (any, string, *forcesync.RecordError) {
	var s string
	switch x := v.(type) {
	case string:
		s = strings.TrimSpace(x)
	case json.Number:
		s = string(x)
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, "", t.errorf(CodeInvalidType, "value not of required type: %v", x)
		}
		s = strconv.FormatFloat(x, 'g', -1, 64)
	case float32:
		return t.number(float64(x))
	case bool:
		return nil, "", t.errorf(CodeInvalidType, "value not of required type: %v", x)
	default:
		var ok bool
		if s, ok = text(v); !ok {
			return nil, "", t.errorf(CodeInvalidType, "value not of required type: %s", describeValue(v))
		}
	}
	d, huge, ok := parseDecimal(s)
	if !ok {
		return nil, "", t.errorf(CodeInvalidType, "value not of required type: %s", describeValue(v))
	}
	if !huge {
		d = d.round(t.scale)
	}
	if huge || d.intDigits() > t.maxInt || (t.int32 && !fitsInt32(d)) {
		return nil, "", t.errorf(CodeNumberOutOfRange, "value outside of valid range on numeric field: %s", describeValue(v))
	}
	return json.Number(d.String()), "", nil
}

func fitsInt32(d decimal) bool {
	if d.intDigits() < 10 {
		return true
	}
	n, err := strconv.ParseInt(d.intp, 10, 64)
	if err != nil {
		return false
	}
	if d.neg {
		return -n >= math.MinInt32
	}
	return n <= math.MaxInt32
}

// parseBool accepts what applications commonly send for a checkbox.
func parseBool(v any) (bool, bool) {
	switch x := v.(type) {
	case bool:
		return x, true
	case string:
		switch strings.ToLower(strings.TrimSpace(x)) {
		case "true", "yes", "y", "1", "on", "t":
			return true, true
		case "false", "no", "n", "0", "off", "f":
			return false, true
		}
		return false, false
	}
	s, ok := text(v)
	if !ok {
		return false, false
	}
	d, huge, ok := parseDecimal(s)
	if !ok || huge || d.frac != "" {
		return false, false
	}
	switch d.intp {
	case "":
		return false, true
	case "1":
		return !d.neg, !d.neg
	}
	return false, false
}

// dateLayouts are the text forms read as dates or datetimes, most specific
// first. Layouts without a zone are read as UTC.
var dateLayouts = []struct {
	layout   string
	dateOnly bool
}{
	{time.RFC3339Nano, false},
	{"2006-01-02T15:04:05.000-0700", false}, // Salesforce's own output
	{"2006-01-02T15:04:05-0700", false},
	{"2006-01-02T15:04:05.999999999", false},
	{"2006-01-02 15:04:05.999999999Z07:00", false},
	{"2006-01-02 15:04:05.999999999", false},
	{"2006-01-02T15:04", false},
	{"2006-01-02 15:04", false},
	{"2006-01-02", true},
	{time.RFC1123Z, false},
	{time.RFC1123, false},
}

// parseTime reads a date or instant: text in a common layout, or a number
// of seconds since the Unix epoch (milliseconds when it is too large to be
// seconds, as JavaScript timestamps are).
func parseTime(v any) (time.Time, bool, bool) {
	if s, ok := v.(string); ok {
		s = strings.TrimSpace(s)
		for _, l := range dateLayouts {
			if tm, err := time.Parse(l.layout, s); err == nil {
				return tm, l.dateOnly, true
			}
		}
		if _, _, ok := parseDecimal(s); !ok {
			return time.Time{}, false, false
		}
	}
	if _, isBool := v.(bool); isBool {
		return time.Time{}, false, false
	}
	s, ok := text(v)
	if !ok {
		return time.Time{}, false, false
	}
	d, huge, ok := parseDecimal(s)
	if !ok || huge || d.intDigits() > 15 {
		return time.Time{}, false, false
	}
	d = d.round(3)
	n, err := strconv.ParseFloat(d.String(), 64)
	if err != nil {
		return time.Time{}, false, false
	}
	ms := int64(math.Round(n * 1000))
	if math.Abs(n) >= 1e11 { // later than year 5138 as seconds: milliseconds
		ms = int64(math.Round(n))
	}
	return time.UnixMilli(ms).UTC(), false, true
}

// parseClock reads a time of day, "15:04", "15:04:05", "15:04:05.000Z", as
// Salesforce's time form "15:04:05.000Z".
func parseClock(s string) (string, bool) {
	for _, l := range []string{"15:04:05.999999999Z07:00", "15:04:05.999999999", "15:04Z07:00", "15:04"} {
		if tm, err := time.Parse(l, s); err == nil {
			return tm.UTC().Format("15:04:05.000Z"), true
		}
	}
	return "", false
}

// ValidEmail is the loose check Salesforce applies to email fields: one @
// with text on both sides, a dot inside the domain, no spaces, commas,
// angle brackets or quotes, no empty dot-separated parts.
func ValidEmail(s string) bool {
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 {
		return false
	}
	if strings.ContainsAny(s, " \t\r\n,;:<>()[]\\\"") {
		return false
	}
	local, domain := s[:at], s[at+1:]
	if strings.IndexByte(local, '@') >= 0 {
		return false
	}
	if local[0] == '.' || local[len(local)-1] == '.' || strings.Contains(local, "..") {
		return false
	}
	labels := strings.Split(domain, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
	}
	return true
}

// NormalizeID checks a Salesforce record Id and returns its 18-character
// form: 15 case-sensitive letters and digits gain their 3-character
// case-checksum suffix; an 18-character Id is returned as is.
func NormalizeID(s string) (string, bool) {
	if len(s) != 15 && len(s) != 18 {
		return "", false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return "", false
		}
	}
	if len(s) == 18 {
		return s, true
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
	suffix := make([]byte, 3)
	for chunk := 0; chunk < 3; chunk++ {
		bits := 0
		for j := 0; j < 5; j++ {
			c := s[chunk*5+j]
			if c >= 'A' && c <= 'Z' {
				bits |= 1 << j
			}
		}
		suffix[chunk] = alphabet[bits]
	}
	return s + string(suffix), true
}
