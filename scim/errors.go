package scim

import "fmt"

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
