package forcesync

import (
	"errors"
	"fmt"
)

// Error codes of forcesync's own errors. Each transport maps them once
// (HTTP statuses in httpserver, exit codes in cmd/forcesync).
const (
	EInvalid      = "invalid"      // bad input: a field, a config key, a body
	ENotFound     = "not_found"    // unknown source, mapping, record
	EConflict     = "conflict"     // state does not allow the operation
	EUnauthorized = "unauthorized" // missing or bad credentials
	EForbidden    = "forbidden"    // good credentials, but not for this (a source's token on another source)
	EUnavailable  = "unavailable"  // a dependency (Salesforce, the store) is down
	EInternal     = "internal"     // a bug
	EGone         = "gone"         // asked for what is no longer kept (a changes-feed cursor older than the retention)
)

// Error is forcesync's domain error: a code for programs, a message for people.
type Error struct {
	Code    string
	Message string
	// Field names the input field at fault, when there is one.
	Field string
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s", e.Field, e.Message)
	}
	return e.Message
}

// Errorf returns an *Error with a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of err's *Error, EInternal for other errors and
// "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EInternal
}

// ErrorMessage returns the message of err's *Error, or a generic text for
// other errors (their details belong in logs, not in answers).
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Error()
	}
	return "internal error"
}
