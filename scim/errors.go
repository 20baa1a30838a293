package scim

import (
	"fmt"
	"net/http"
	"strings"

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
	also := ""
	if kind == "User" {
		also = " (a PUT of the whole User repairs it too)"
	}
	return &Error{Status: http.StatusInternalServerError, Detail: fmt.Sprintf(
		"%s %s is stored in a form forcesync cannot read back (%s); nothing is wrong with this request: "+
			"the application's operator can see the record in forcesync's console and repair it by sending it again%s, "+
			"after which this request succeeds", kind, id, forcesync.CodeUnreadableRecord, also)}
}

// unreadablePatchError is the answer to a PATCH of the resource (kind User
// or Group) id, whose stored fields forcesync cannot read back, that
// cannot be applied without them: what says how the PATCH needs them, and
// instead what is accepted meanwhile. A 500 as unreadable's, and for the
// same reasons (RFC 7644 §3.12 has a 500 give descriptive debugging
// advice; its scimType keywords are defined for a 400, which would blame
// the request): the identity provider sends the PATCH again, and it
// succeeds once the resource is repaired. Nothing was changed.
func unreadablePatchError(kind, id, what, instead string) *Error {
	return &Error{Status: http.StatusInternalServerError, Detail: fmt.Sprintf(
		"nothing was changed: %s %s is stored in a form forcesync cannot read back (%s), and this PATCH %s; "+
			"nothing is wrong with this request: it succeeds once the %s is repaired, which the application's operator does by sending it again "+
			"(the record is in forcesync's console); meanwhile %s", kind, id, forcesync.CodeUnreadableRecord, what, kind, instead)}
}

// unreadableMember is the answer to a Group change refused whole (nothing
// written) because the Group is being created with, deleted or renamed
// while it has, the member User uid whose stored fields cannot be read
// back: that User's groups attribute, which mappings read, would have to
// change with it and cannot be rewritten. A 500 as unreadable's: the
// identity provider sends the change again, and it succeeds once the User
// is repaired (a PUT of it repairs it).
func unreadableMember(what, uid string) *Error {
	return &Error{Status: http.StatusInternalServerError, Detail: fmt.Sprintf(
		"nothing was changed: the Group cannot be %s the member User %s, which is stored in a form forcesync cannot read back (%s), "+
			"so its groups cannot be written; nothing is wrong with this request: it succeeds once the User is repaired "+
			"(a PUT of the User repairs it, as does the application's operator sending it again)", what, uid, forcesync.CodeUnreadableRecord)}
}

// unreadableMembers is the answer to a change of Group gid that was saved
// except for the member Users added and removed whose stored fields cannot
// be read back: they stay out of, or in, the Group, as their unwritable
// groups attribute says. A 500 as unreadable's, so the identity provider
// does not take the change for done: sent again, it succeeds once the
// Users are repaired.
func unreadableMembers(gid string, added, removed []string) *Error {
	var left []string
	if added != nil {
		left = append(left, "User "+strings.Join(added, ", User ")+" not added")
	}
	if removed != nil {
		left = append(left, "User "+strings.Join(removed, ", User ")+" not removed")
	}
	return &Error{Status: http.StatusInternalServerError, Detail: fmt.Sprintf(
		"Group %s was saved but for its members %s: each is stored in a form forcesync cannot read back (%s), so its groups cannot be written; "+
			"nothing is wrong with this request: it succeeds once those Users are repaired "+
			"(a PUT of a User repairs it, as does the application's operator sending it again)", gid, strings.Join(left, "; "), forcesync.CodeUnreadableRecord)}
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
