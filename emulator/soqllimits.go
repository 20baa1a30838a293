package emulator

import (
	"fmt"
	"net/http"
	"unicode/utf8"

	"github.com/forcesync/forcesync/emulator/soql"
)

// maxSOQLLength is Salesforce's hard limit on the length of one SOQL
// statement, in characters (help article 000386440: "The maximum length for
// a SOQL statement is 100,000 characters ... cannot be increased").
const maxSOQLLength = 100000

// checkQueryLength refuses a SOQL statement over maxSOQLLength characters.
// The limit is documented; the error code and wording are UNCONFIRMED:
// MALFORMED_QUERY with the text of Apex's QueryException for the same limit.
func checkQueryLength(text string) *queryError {
	if len(text) <= maxSOQLLength { // bytes >= characters: the fast path
		return nil
	}
	if n := utf8.RuneCountInString(text); n > maxSOQLLength {
		return &queryError{Code: soql.CodeMalformedQuery,
			Message: fmt.Sprintf("SOQL statements cannot be longer than 100,000 characters (this one has %d).", n)}
	}
	return nil
}

// maxRequestLine is how long the URI (and the URI plus the headers) of a
// request may be: Salesforce documents 414 for a URI over 16,384 bytes and
// 431 when the URI and headers together exceed it (REST API status codes).
const maxRequestLine = 16384

// MaxHeaderBytes is the http.Server setting to serve the emulator with:
// Go's default (1 MiB) answers a longer request line with a bare 431
// before the emulator sees it, where Salesforce answers 414 with its
// error body. Requests up to this size reach refuseOversizedRequest.
const MaxHeaderBytes = 8 << 20

// refuseOversizedRequest answers 414 or 431 for a request over the limits
// above and reports whether it did. The JSON body is UNCONFIRMED: the
// documentation names only the status codes.
func refuseOversizedRequest(w http.ResponseWriter, r *http.Request) bool {
	uri := len(r.RequestURI)
	if uri > maxRequestLine {
		writeRawError(w, http.StatusRequestURITooLong, "URI_TOO_LONG",
			fmt.Sprintf("The request URI is %d bytes long; the limit is %d bytes.", uri, maxRequestLine))
		return true
	}
	total := uri
	for k, vs := range r.Header {
		for _, v := range vs {
			total += len(k) + len(v) + 4 // "k: v\r\n"
		}
	}
	if total > maxRequestLine {
		writeRawError(w, http.StatusRequestHeaderFieldsTooLarge, "REQUEST_HEADER_FIELDS_TOO_LARGE",
			fmt.Sprintf("The request URI and headers are %d bytes long; the limit is %d bytes.", total, maxRequestLine))
		return true
	}
	return false
}

// writeRawError writes Salesforce's error array outside a call.
func writeRawError(w http.ResponseWriter, status int, code, msg string) {
	c := &call{w: w, r: &http.Request{Method: http.MethodGet}}
	c.writeError(status, code, msg, nil)
}
