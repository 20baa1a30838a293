package emulator

import (
	"net/http"
	"time"
)

// Conditional requests on sObject rows (salesforce-api.md §3.2, §3.4):
// If-Modified-Since on a GET answers 304 with no body when the record was
// not modified after the given time; If-Unmodified-Since answers 412 and
// leaves the record alone when it was. Both compare the record's
// LastModifiedDate in whole seconds, as HTTP dates have. ETags
// (If-Match / If-None-Match) are not served.

// codePreconditionFailed is the errorCode of a 412. UNCONFIRMED, as is the
// message.
const codePreconditionFailed = "PRECONDITION_FAILED"

// lastModifiedLocked returns r's LastModifiedDate; ok is false for a
// record without one.
func lastModifiedLocked(r *record) (time.Time, bool) {
	t, ok := r.get(r.obj.field("LastModifiedDate")).(time.Time)
	return t, ok
}

// preconditionsLocked answers the call and returns false when its
// conditional headers fail for r (a live record). A header that does not
// parse as an HTTP date is ignored, as HTTP says.
func preconditionsLocked(c *call, r *record) bool {
	mod, ok := lastModifiedLocked(r)
	if !ok {
		return true
	}
	mod = mod.Truncate(time.Second)
	if h := c.r.Header.Get("If-Unmodified-Since"); h != "" {
		if t, err := http.ParseTime(h); err == nil && mod.After(t) {
			c.writeError(http.StatusPreconditionFailed, codePreconditionFailed,
				"The record was modified after the time given in If-Unmodified-Since.", nil)
			return false
		}
	}
	if c.r.Method != http.MethodGet && c.r.Method != http.MethodHead {
		return true
	}
	if h := c.r.Header.Get("If-Modified-Since"); h != "" {
		if t, err := http.ParseTime(h); err == nil && !mod.After(t) {
			c.w.WriteHeader(http.StatusNotModified)
			return false
		}
	}
	return true
}
