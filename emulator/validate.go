package emulator

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// recordError is one per-record failure: statusCode in collections and
// Bulk results, errorCode in single-record REST errors. Fields lists the
// fields at fault (nil when none apply).
type recordError struct {
	Code    string
	Message string
	Fields  []string
}

func (e *recordError) Error() string { return e.Code + ": " + e.Message }

func newRecErr(code, msg string, fields ...string) *recordError {
	if fields == nil {
		fields = []string{}
	}
	return &recordError{Code: code, Message: msg, Fields: fields}
}

// csvString is a value that came from a CSV file (Bulk API): type errors are
// reported as INVALID_TYPE_ON_FIELD_IN_RECORD instead of JSON_PARSER_ERROR,
// as the Bulk API does. An empty csvString means null.
type csvString string

// typeError words a value of the wrong type for f.
func typeError(f *field, v any, fromCSV bool) *recordError {
	if fromCSV {
		return newRecErr("INVALID_TYPE_ON_FIELD_IN_RECORD",
			fmt.Sprintf("%s: value not of required type: %v", f.Label, v), f.Name)
	}
	// Salesforce's REST deserializer rejects the body as a whole; the
	// message mirrors its Jackson wording.
	javaType := map[string]string{"boolean": "boolean", "int": "int", "double": "double", "currency": "double",
		"percent": "double", "date": "java.util.Date", "datetime": "java.util.Calendar"}[f.Type]
	if javaType == "" {
		javaType = "java.lang.String"
	}
	tok := "VALUE_STRING"
	switch v.(type) {
	case bool:
		tok = "VALUE_" + strings.ToUpper(strconv.FormatBool(v.(bool)))
	case json.Number, float64, int:
		tok = "VALUE_NUMBER_INT"
	case map[string]any:
		tok = "START_OBJECT"
	case []any:
		tok = "START_ARRAY"
	}
	return &recordError{Code: "JSON_PARSER_ERROR",
		Message: fmt.Sprintf("Cannot deserialize instance of %s from %s value %v or request may be missing a required field", javaType, tok, v)}
}

// coerceValue converts an input value (JSON decoded with UseNumber, a Go
// value, or a csvString) to the stored representation of f. Empty text is
// null, as Salesforce stores it.
func coerceValue(f *field, in any) (any, *recordError) {
	fromCSV := false
	if s, ok := in.(csvString); ok {
		fromCSV = true
		if s == "" {
			return nil, nil
		}
		in = string(s)
	}
	if in == nil {
		return nil, nil
	}
	switch f.Type {
	case "boolean":
		switch x := in.(type) {
		case bool:
			return x, nil
		case string:
			switch strings.ToLower(strings.TrimSpace(x)) {
			case "true":
				return true, nil
			case "false":
				return false, nil
			case "":
				return nil, nil
			}
			if fromCSV && (x == "1" || x == "0") {
				return x == "1", nil
			}
		}
		return nil, typeError(f, in, fromCSV)
	case "int", "double", "currency", "percent":
		var n float64
		switch x := in.(type) {
		case json.Number:
			v, err := strconv.ParseFloat(string(x), 64)
			if err != nil {
				return nil, typeError(f, in, fromCSV)
			}
			n = v
		case float64:
			n = x
		case int:
			n = float64(x)
		case int64:
			n = float64(x)
		case string:
			s := strings.TrimSpace(x)
			if s == "" {
				return nil, nil
			}
			v, err := strconv.ParseFloat(s, 64)
			if err != nil {
				return nil, typeError(f, in, fromCSV)
			}
			n = v
		default:
			return nil, typeError(f, in, fromCSV)
		}
		if math.IsNaN(n) || math.IsInf(n, 0) {
			return nil, typeError(f, in, fromCSV)
		}
		return n, nil
	case "date":
		switch x := in.(type) {
		case string:
			s := strings.TrimSpace(x)
			if s == "" {
				return nil, nil
			}
			if d, err := time.Parse("2006-01-02", s); err == nil {
				return d.Format("2006-01-02"), nil
			}
			if t, ok := parseDateTime(s); ok {
				return t.Format("2006-01-02"), nil
			}
		case time.Time:
			return x.UTC().Format("2006-01-02"), nil
		}
		return nil, typeError(f, in, fromCSV)
	case "datetime":
		switch x := in.(type) {
		case string:
			s := strings.TrimSpace(x)
			if s == "" {
				return nil, nil
			}
			if t, ok := parseDateTime(s); ok {
				return t, nil
			}
		case time.Time:
			return x.UTC().Truncate(time.Millisecond), nil
		}
		return nil, typeError(f, in, fromCSV)
	}
	// Text kinds. Jackson coerces scalars to strings.
	switch x := in.(type) {
	case string:
		if x == "" {
			return nil, nil
		}
		return x, nil
	case json.Number:
		return string(x), nil
	case bool:
		return strconv.FormatBool(x), nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	case int:
		return strconv.Itoa(x), nil
	}
	return nil, typeError(f, in, fromCSV)
}

// coerceCSV is coerceValue(f, csvString(s)) that keeps s itself (one
// boxing, no copy) for the text kinds, which store CSV text as it is.
func coerceCSV(f *field, s string) (any, *recordError) {
	if !f.isText() {
		return coerceValue(f, csvString(s))
	}
	if s == "" {
		return nil, nil
	}
	return s, nil
}

// dateTimeLayouts are the input forms Salesforce accepts for datetimes.
var dateTimeLayouts = []string{
	"2006-01-02T15:04:05.000-0700",
	"2006-01-02T15:04:05-0700",
	time.RFC3339Nano,
	"2006-01-02T15:04:05Z07:00",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02T15:04:05",
	"2006-01-02",
}

// parseDateTime parses an input datetime into UTC with millisecond precision.
func parseDateTime(s string) (time.Time, bool) {
	for _, l := range dateTimeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC().Truncate(time.Millisecond), true
		}
	}
	return time.Time{}, false
}

// formatDateTime renders a datetime the way the REST API does.
func formatDateTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000+0000")
}

// validEmail is a pragmatic version of Salesforce's address check: one @,
// a non-empty local part without spaces, and a dotted domain.
func validEmail(s string) bool {
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 || strings.ContainsAny(s, " \t\r\n,;<>()[]\\\"") {
		return false
	}
	local, domain := s[:at], s[at+1:]
	if strings.Contains(local, "@") || strings.HasPrefix(local, ".") || strings.HasSuffix(local, ".") || strings.Contains(local, "..") {
		return false
	}
	dot := strings.LastIndexByte(domain, '.')
	if dot <= 0 || dot == len(domain)-1 || strings.Contains(domain, "..") || strings.HasPrefix(domain, "-") {
		return false
	}
	return true
}

// validateValue checks a coerced, non-nil value against f's metadata and
// returns it in its final stored form (rounded numbers, 18-char Ids).
func (e *Emulator) validateValue(f *field, v any) (any, *recordError) {
	switch f.Type {
	case "string", "textarea", "email", "phone", "url", "combobox", "encryptedstring":
		s := v.(string)
		if f.Length > 0 && utf8.RuneCountInString(s) > f.Length {
			return nil, newRecErr("STRING_TOO_LONG",
				fmt.Sprintf("%s: data value too large: %s (max length=%d)", f.Label, s, f.Length), f.Name)
		}
		if f.Type == "email" && !validEmail(strings.TrimSpace(s)) {
			return nil, newRecErr("INVALID_EMAIL_ADDRESS", fmt.Sprintf("%s: invalid email address: %s", f.Label, s), f.Name)
		}
		if f.Type == "email" {
			if t := strings.TrimSpace(s); t != s {
				return t, nil
			}
		}
		// v itself, not s boxed again: values unchanged keep their box.
		return v, nil
	case "picklist":
		s := v.(string)
		if f.RestrictedPicklist && !inPicklist(f, s) {
			return nil, newRecErr("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
				fmt.Sprintf("%s: bad value for restricted picklist field: %s", f.Label, s), f.Name)
		}
		if utf8.RuneCountInString(s) > f.Length {
			return nil, newRecErr("STRING_TOO_LONG",
				fmt.Sprintf("%s: data value too large: %s (max length=%d)", f.Label, s, f.Length), f.Name)
		}
		return v, nil
	case "multipicklist":
		s := v.(string)
		if f.RestrictedPicklist {
			for _, p := range strings.Split(s, ";") {
				if !inPicklist(f, strings.TrimSpace(p)) {
					return nil, newRecErr("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
						fmt.Sprintf("%s: bad value for restricted picklist field: %s", f.Label, p), f.Name)
				}
			}
		}
		if utf8.RuneCountInString(s) > f.Length {
			return nil, newRecErr("STRING_TOO_LONG",
				fmt.Sprintf("%s: data value too large: %s (max length=%d)", f.Label, s, f.Length), f.Name)
		}
		return v, nil
	case "int", "double", "currency", "percent":
		n := v.(float64)
		scale := f.Scale
		intDigits := f.Precision - f.Scale
		if f.Type == "int" {
			scale = 0
			intDigits = f.Digits
			if intDigits == 0 {
				intDigits = 9
			}
		}
		p := math.Pow(10, float64(scale))
		n = math.Round(n*p) / p
		if intDigits >= 0 && math.Abs(n) >= math.Pow(10, float64(intDigits)) {
			return nil, newRecErr("NUMBER_OUTSIDE_VALID_RANGE",
				fmt.Sprintf("%s: value outside of valid range on numeric field: %s", f.Label, strconv.FormatFloat(v.(float64), 'f', -1, 64)), f.Name)
		}
		if f.Type == "int" && (n > math.MaxInt32 || n < math.MinInt32) {
			return nil, newRecErr("NUMBER_OUTSIDE_VALID_RANGE",
				fmt.Sprintf("%s: value outside of valid range on numeric field: %s", f.Label, strconv.FormatFloat(v.(float64), 'f', -1, 64)), f.Name)
		}
		if math.Float64bits(n) == math.Float64bits(v.(float64)) {
			return v, nil
		}
		return n, nil
	case "reference":
		s := v.(string)
		id, ok := normalizeID(s)
		if !ok {
			return nil, newRecErr("MALFORMED_ID", fmt.Sprintf("%s: id value of incorrect type: %s", f.Label, s), f.Name)
		}
		target := e.sobjectByIDLocked(id)
		if target == nil || !refAllows(f, target.Name) {
			if target == nil && !e.knownForeignPrefix(f, id) {
				return nil, newRecErr("MALFORMED_ID", fmt.Sprintf("%s: id value of incorrect type: %s", f.Label, s), f.Name)
			}
			if target != nil {
				return nil, newRecErr("FIELD_INTEGRITY_EXCEPTION", fmt.Sprintf("%s: id value of incorrect type: %s", f.Label, s), f.Name)
			}
			// A target object the emulator does not model (Group, UserRole,
			// Opportunity): no record can exist.
			return nil, newRecErr("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", f.Name)
		}
		r := e.org.records[id]
		if r == nil || r.deleted {
			return nil, newRecErr("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", f.Name)
		}
		if id == s {
			return v, nil
		}
		return id, nil
	}
	return v, nil
}

// foreignPrefixes are key prefixes of standard objects the emulator does
// not model but that fields may reference.
var foreignPrefixes = map[string]string{"00G": "Group", "00E": "UserRole", "006": "Opportunity", "012": "RecordType"}

func (e *Emulator) knownForeignPrefix(f *field, id string) bool {
	name, ok := foreignPrefixes[id[:3]]
	return ok && refAllows(f, name)
}

func refAllows(f *field, obj string) bool {
	for _, t := range f.ReferenceTo {
		if strings.EqualFold(t, obj) {
			return true
		}
	}
	return false
}

func inPicklist(f *field, s string) bool {
	for _, p := range f.Picklist {
		if p.Active && p.Value == s {
			return true
		}
	}
	return false
}

// isBlank reports whether a stored value counts as missing for a required
// field: null, or text that is only whitespace.
func isBlank(v any) bool {
	if v == nil {
		return true
	}
	if s, ok := v.(string); ok {
		return strings.TrimSpace(s) == ""
	}
	return false
}
