package mapping

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// CheckExpr reports whether src compiles as a field value expression, with
// the same variables and helpers Compile uses.
func CheckExpr(src string) error {
	_, err := compileExpr(src)
	return err
}

// CheckFilter reports whether src compiles as a filter (a boolean result).
func CheckFilter(src string) error {
	_, err := compileFilter(src)
	return err
}

// Template turns a text template into an expression: "{{ ... }}" holds an
// expression, rendered as text with nil as "", the rest is literal.
// "Signed up {{ signup_date }} via {{ coalesce(utm_source, 'web') }}"
// becomes `"Signed up " + str(signup_date) + " via " + str(coalesce(...))`.
// A template is compiled like any expression, once, with its errors then.
func Template(text string) (string, error) {
	if !utf8.ValidString(text) {
		return "", fmt.Errorf("template is not valid UTF-8")
	}
	var parts []string
	rest := text
	for {
		open := strings.Index(rest, "{{")
		if open < 0 {
			break
		}
		end := strings.Index(rest[open+2:], "}}")
		if end < 0 {
			return "", fmt.Errorf("template: %q has no closing }}", rest[open:])
		}
		if open > 0 {
			parts = append(parts, strconv.Quote(rest[:open]))
		}
		inner := strings.TrimSpace(rest[open+2 : open+2+end])
		if inner == "" {
			return "", fmt.Errorf("template: empty {{ }}")
		}
		if err := CheckExpr(inner); err != nil {
			return "", fmt.Errorf("template: {{ %s }}: %s", inner, oneLine(err))
		}
		parts = append(parts, "str("+inner+")")
		rest = rest[open+2+end+2:]
	}
	if rest != "" || len(parts) == 0 {
		parts = append(parts, strconv.Quote(rest))
	}
	return strings.Join(parts, " + "), nil
}
