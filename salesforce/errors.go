package salesforce

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"
)

// Error codes the client branches on. Salesforce localizes messages, so
// decisions are made on codes only.
const (
	CodeInvalidSession       = "INVALID_SESSION_ID"
	CodeRequestLimitExceeded = "REQUEST_LIMIT_EXCEEDED"
	CodeUnableToLockRow      = "UNABLE_TO_LOCK_ROW"
	CodeNotFound             = "NOT_FOUND"
	CodeEntityIsDeleted      = "ENTITY_IS_DELETED"
	CodeAllOrNoneRolledBack  = "ALL_OR_NONE_OPERATION_ROLLED_BACK"
	CodeProcessingHalted     = "PROCESSING_HALTED"
	CodeServerUnavailable    = "SERVER_UNAVAILABLE"
)

// ErrorItem is one element of Salesforce's REST error array
// ([{"message":..,"errorCode":..,"fields":[..]}]).
type ErrorItem struct {
	Code    string   `json:"errorCode"`
	Message string   `json:"message"`
	Fields  []string `json:"fields,omitempty"`
}

// APIError is a non-2xx answer of the REST or Bulk API. Code, Message and
// Fields come from the first element of the error array; Errors holds all of
// them. When the body was not Salesforce's JSON (an HTML maintenance page, a
// proxy's plain text, truncated JSON), Code is empty and Body holds the
// start of it so an operator can see what came back.
type APIError struct {
	Status  int
	Code    string
	Message string
	Fields  []string
	Errors  []ErrorItem
	// Body is the beginning of an unparseable body (at most 512 bytes); empty
	// when the body parsed.
	Body string
	// Method and Path identify the request (path without query string).
	Method string
	Path   string

	retryAfter time.Duration // the answer's Retry-After, if any
}

func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("salesforce: ")
	if e.Method != "" {
		fmt.Fprintf(&b, "%s %s: ", e.Method, e.Path)
	}
	fmt.Fprintf(&b, "HTTP %d", e.Status)
	if e.Code != "" {
		b.WriteString(" ")
		b.WriteString(e.Code)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if len(e.Fields) > 0 {
		fmt.Fprintf(&b, " (fields %s)", strings.Join(e.Fields, ", "))
	}
	if e.Code == "" && e.Body != "" {
		fmt.Fprintf(&b, ": %q", e.Body)
	}
	return b.String()
}

// Retryable reports whether sending the same request again later may
// succeed: server errors (5xx), 429, row-lock contention, and the
// concurrent-request kind of REQUEST_LIMIT_EXCEEDED. The daily TotalRequests
// kind is not retryable: waiting seconds does not bring the 24-hour window
// back under its cap. Whether a retry is SAFE (may it duplicate a create?) is
// a separate question answered by the request's method; see Client.Do.
func (e *APIError) Retryable() bool {
	if e.Status >= 500 || e.Status == 429 {
		return true
	}
	switch e.Code {
	case CodeUnableToLockRow, CodeServerUnavailable:
		return true
	case CodeRequestLimitExceeded:
		return isConcurrentLimit(e.Message)
	}
	return false
}

// notCommitted reports whether the answer proves the request changed
// nothing, so even a create can be sent again.
func (e *APIError) notCommitted() bool {
	switch {
	case e.Status == 429, e.Status == 503:
		return true
	case e.Code == CodeUnableToLockRow, e.Code == CodeServerUnavailable:
		return true
	case e.Code == CodeRequestLimitExceeded:
		return true
	}
	return false
}

// isConcurrentLimit tells the concurrent-request limit ("ConcurrentPerOrgLongTxn
// Limit exceeded", concurrent request limits) from the daily cap
// ("TotalRequests Limit exceeded").
func isConcurrentLimit(msg string) bool {
	m := strings.ToLower(msg)
	return strings.Contains(m, "concurrent")
}

// MultipleMatchesError is the 300 answer of an upsert or a get by External
// ID when several records hold the value. IDs are the matching record Ids.
type MultipleMatchesError struct {
	Object, Field, Value string
	URLs                 []string
	IDs                  []string
}

func (e *MultipleMatchesError) Error() string {
	return fmt.Sprintf("salesforce: %d %s records match %s=%q: %s",
		len(e.IDs), e.Object, e.Field, e.Value, strings.Join(e.IDs, ", "))
}

// RecordError is one per-record error of a Collections, Composite or Bulk
// result. Salesforce spells the code statusCode there.
type RecordError struct {
	StatusCode string   `json:"statusCode"`
	Message    string   `json:"message"`
	Fields     []string `json:"fields,omitempty"`
}

func (e *RecordError) Error() string {
	s := "salesforce: " + e.StatusCode
	if e.Message != "" {
		s += ": " + e.Message
	}
	if len(e.Fields) > 0 {
		s += " (fields " + strings.Join(e.Fields, ", ") + ")"
	}
	return s
}

// Retryable reports whether the record may succeed when sent again:
// row-lock contention, and records rolled back only because another record
// of an allOrNone request failed.
func (e *RecordError) Retryable() bool {
	switch e.StatusCode {
	case CodeUnableToLockRow, CodeAllOrNoneRolledBack, CodeProcessingHalted:
		return true
	case CodeRequestLimitExceeded:
		return isConcurrentLimit(e.Message)
	}
	return false
}

// AuthError is an OAuth failure: a token endpoint answer
// ({"error":..,"error_description":..}), a refused flow, or a token that
// cannot be renewed. Reauthorize means no retry can help: the refresh token
// was revoked or expired (or there is nothing to renew with), and a person
// must authorize the connection again.
type AuthError struct {
	Status      int // HTTP status of the token endpoint; 0 when no call was made
	Code        string
	Description string
	Reauthorize bool
}

func (e *AuthError) Error() string {
	s := "salesforce auth: " + e.Code
	if e.Description != "" {
		s += ": " + e.Description
	}
	if e.Reauthorize {
		s += " (the connection must be re-authorized)"
	}
	return s
}

// Retryable reports whether the token call may succeed later (server
// trouble or a rate limit), as opposed to bad credentials.
func (e *AuthError) Retryable() bool {
	return !e.Reauthorize && (e.Status >= 500 || e.Status == 429 || e.Code == "rate_limit_exceeded")
}

// Retryable reports whether err is worth retrying later: a retryable
// *APIError, *RecordError or *AuthError, a timeout, or a broken connection.
// A canceled context is not retryable.
func Retryable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Retryable()
	}
	var re *RecordError
	if errors.As(err, &re) {
		return re.Retryable()
	}
	var oe *AuthError
	if errors.As(err, &oe) {
		return oe.Retryable()
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	return isTransportError(err)
}

// isTransportError reports connection-level failures: timeouts, resets,
// refused connections, bodies cut short.
func isTransportError(err error) bool {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, net.ErrClosed) {
		return true
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		return true
	}
	var ue *url.Error
	return errors.As(err, &ue)
}

// notSent reports whether a transport error happened before the request
// could reach the server (the connection was never established), so even a
// non-idempotent request can be sent again.
func notSent(err error) bool {
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Op == "dial" {
		return true
	}
	var de *net.DNSError
	return errors.As(err, &de)
}

// maxErrorBody caps how much of an error body is read and kept.
const maxErrorBody = 64 << 10

// ParseError turns a non-2xx REST answer into an *APIError. It accepts
// Salesforce's error array, a single error object, an OAuth-style
// {"error","error_description"} object, HTML or plain text, and truncated
// JSON; it never panics.
func ParseError(status int, body []byte) *APIError {
	e := &APIError{Status: status}
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) > 0 {
		switch trimmed[0] {
		case '[':
			var items []json.RawMessage
			if json.Unmarshal(trimmed, &items) == nil {
				for _, raw := range items {
					if it, ok := parseErrorObject(raw); ok {
						e.Errors = append(e.Errors, it)
					}
				}
			}
		case '{':
			if it, ok := parseErrorObject(trimmed); ok {
				e.Errors = append(e.Errors, it)
			}
		}
	}
	if len(e.Errors) > 0 {
		e.Code, e.Message, e.Fields = e.Errors[0].Code, e.Errors[0].Message, e.Errors[0].Fields
		return e
	}
	e.Body = snippet(trimmed, 512)
	return e
}

// parseErrorObject reads one error object in any of the spellings
// Salesforce uses: errorCode (REST), statusCode (DML results), error
// (OAuth).
func parseErrorObject(raw []byte) (ErrorItem, bool) {
	var o struct {
		ErrorCode   string          `json:"errorCode"`
		StatusCode  json.RawMessage `json:"statusCode"`
		Error       string          `json:"error"`
		Description string          `json:"error_description"`
		Message     string          `json:"message"`
		Fields      []string        `json:"fields"`
	}
	if json.Unmarshal(raw, &o) != nil {
		return ErrorItem{}, false
	}
	it := ErrorItem{Code: o.ErrorCode, Message: o.Message, Fields: o.Fields}
	if it.Code == "" && len(o.StatusCode) > 0 {
		var sc string
		if json.Unmarshal(o.StatusCode, &sc) == nil {
			it.Code = sc
		}
	}
	if it.Code == "" && o.Error != "" {
		it.Code, it.Message = o.Error, o.Description
	}
	if it.Code == "" && it.Message == "" {
		return ErrorItem{}, false
	}
	return it, true
}

// snippet returns at most n bytes of b as valid UTF-8 text (invalid bytes
// become U+FFFD, cut at a rune boundary).
func snippet(b []byte, n int) string {
	s := strings.ToValidUTF8(string(b[:min(len(b), n)]), "\uFFFD")
	for len(s) > n {
		_, size := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-size]
	}
	return s
}
