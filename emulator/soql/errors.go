package soql

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Error codes, as Salesforce puts them in errorCode. All answer HTTP 400.
const (
	CodeMalformedQuery     = "MALFORMED_QUERY"
	CodeInvalidField       = "INVALID_FIELD"
	CodeInvalidType        = "INVALID_TYPE"
	CodeInvalidFilterOp    = "INVALID_QUERY_FILTER_OPERATOR"
	CodeNumberOutsideRange = "NUMBER_OUTSIDE_VALID_RANGE"
)

// Error is a query error with Salesforce's code and message. Message is the
// full text Salesforce sends, including the positional preamble (the query
// line, a caret under the offending column, "ERROR at Row:r:Column:c").
type Error struct {
	Code    string
	Message string
	// Row and Column locate the error, 1-based; zero when not positional.
	Row, Column int
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// errAt builds a positional error for the token at byte offset pos of src.
func errAt(src string, pos Pos, code, format string, args ...any) *Error {
	p := int(pos)
	if p < 0 {
		p = 0
	}
	if p > len(src) {
		p = len(src)
	}
	row := 1 + strings.Count(src[:p], "\n")
	lineStart := strings.LastIndexByte(src[:p], '\n') + 1
	lineEnd := strings.IndexByte(src[p:], '\n')
	if lineEnd < 0 {
		lineEnd = len(src)
	} else {
		lineEnd += p
	}
	col := 1 + utf8.RuneCountInString(src[lineStart:p])
	line := strings.TrimRight(src[lineStart:lineEnd], "\r")
	msg := fmt.Sprintf(format, args...)
	return &Error{
		Code:    code,
		Row:     row,
		Column:  col,
		Message: fmt.Sprintf("\n%s\n%s^\nERROR at Row:%d:Column:%d\n%s", line, strings.Repeat(" ", col-1), row, col, msg),
	}
}
