package scim

import (
	"fmt"
	"net/http"

	"github.com/forcesync/forcesync"
)

// Error is a SCIM error (RFC 7644 §3.12): an HTTP status, an optional
// scimType keyword and a detail for people.
type Error struct {
	Status   int
	ScimType string // invalidFilter, invalidPath, noTarget, invalidValue, uniqueness, mutability, invalidSyntax, tooMany, ...
	Detail   string
}

func (e *Error) Error() string {
	if e.ScimType != "" {
		return fmt.Sprintf("scim %d %s: %s", e.Status, e.ScimType, e.Detail)
	}
	return fmt.Sprintf("scim %d: %s", e.Status, e.Detail)
}

// errorf returns a 400 Error of scimType.
func errorf(scimType, format string, args ...any) *Error {
	return &Error{Status: 400, ScimType: scimType, Detail: fmt.Sprintf(format, args...)}
}

// unreadable is the answer about the resource (kind User or Group) id whose
// stored fields forcesync cannot read back (forcesync.CodeUnreadableRecord,
// data stored before the doors refused it). It is a 500, the server's
// fault and not the request's: an identity provider retries it as it
// would any server error, and the retry succeeds once the application's
// operator has repaired the record; a 404 would tell it the resource is
// gone (and invite a create or an unassignment), a 400 that its request
// is wrong. The detail says what is wrong and who can mend it, but not the
// field or its value: they are the application's data, shown on the
// console's record page (the log names the field).
func unreadable(kind, id string) *Error {
	return &Error{Status: http.StatusInternalServerError, Detail: fmt.Sprintf(
		"%s %s is stored in a form forcesync cannot read back (%s); nothing is wrong with this request: "+
			"the application's operator can see the record in forcesync's console and repair it by sending it again, "+
			"after which this request succeeds", kind, id, forcesync.CodeUnreadableRecord)}
}

// errorOf maps forcesync's error codes to a SCIM status and scimType, once
// (as httpserver's statusOf does for the REST API). A code missing here is
// answered as EInternal.
var errorOf = map[string]Error{
	forcesync.EInvalid:      {Status: http.StatusBadRequest, ScimType: "invalidValue"},
	forcesync.ENotFound:     {Status: http.StatusNotFound},
	forcesync.EConflict:     {Status: http.StatusConflict},
	forcesync.EUnauthorized: {Status: http.StatusUnauthorized},
	forcesync.EForbidden:    {Status: http.StatusForbidden},
	forcesync.EUnavailable:  {Status: http.StatusServiceUnavailable},
	forcesync.EInternal:     {Status: http.StatusInternalServerError},
}

// asError turns a forcesync error into its SCIM Error through errorOf.
// Internal errors keep their details for the log: the answer only says
// where to look.
func asError(err error) *Error {
	code := forcesync.ErrorCode(err)
	e, ok := errorOf[code]
	if !ok {
		code, e = forcesync.EInternal, errorOf[forcesync.EInternal]
	}
	switch code {
	case forcesync.EInternal:
		e.Detail = "internal error; see the forcesync log"
	case forcesync.EUnavailable:
		e.Detail = forcesync.ErrorMessage(err) + "; try again later"
	default:
		e.Detail = forcesync.ErrorMessage(err)
	}
	return &e
}
