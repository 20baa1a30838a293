package scim

import (
	"net/http"
	"strings"
)

// RFC 7644 §3.14: a client that sends If-Match with the ETag (meta.version)
// it last read changes the User only if no one changed it since; otherwise
// the answer is 412 Precondition Failed. "*" matches any version. A GET
// with If-None-Match equal to the current version answers 304.

// precondition checks r's If-Match against the current version of the
// resource (kind: User or Group), naming it in the 412.
func precondition(r *http.Request, kind string, version int64) error {
	im := strings.TrimSpace(r.Header.Get("If-Match"))
	if im == "" || im == "*" {
		return nil
	}
	cur := etag(version)
	for _, t := range strings.Split(im, ",") {
		if t = strings.TrimSpace(t); t == cur || "W/"+t == cur {
			return nil
		}
	}
	return &Error{Status: http.StatusPreconditionFailed, Detail: "the " + kind + " changed since version " + im + "; it is now " + cur}
}

// notModified reports whether r's If-None-Match names the current version.
func notModified(r *http.Request, version int64) bool {
	inm := strings.TrimSpace(r.Header.Get("If-None-Match"))
	if inm == "" {
		return false
	}
	cur := etag(version)
	for _, t := range strings.Split(inm, ",") {
		if t = strings.TrimSpace(t); t == "*" || t == cur || "W/"+t == cur {
			return true
		}
	}
	return false
}
