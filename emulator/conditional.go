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
//
// Where Salesforce departs from HTTP (REST guide, "Conditional Request
// Headers"): an If-Unmodified-Since that is not a date answers 400 on a
// PATCH or POST instead of being ignored, and DELETE takes no conditional
// headers at all ("DELETE requests are not supported with these headers",
// in the guide's editions from Summer '18 on), so a DELETE ignores them.

// codePreconditionFailed is the errorCode of a 412 (the status is the
// guide's). UNCONFIRMED, as is the message.
const codePreconditionFailed = "PRECONDITION_FAILED"

// codeBadConditionalHeader is the errorCode of the 400 for a conditional
// header that is not a date (the status is the guide's). UNCONFIRMED.
const codeBadConditionalHeader = "INVALID_HEADER_VALUE"

// lastModifiedLocked returns r's LastModifiedDate; ok is false for a
// record without one.
func lastModifiedLocked(r *record) (time.Time, bool) {
	t, ok := r.get(r.obj.field("LastModifiedDate")).(time.Time)
	return t, ok
}

// preconditionsLocked answers the call and returns false when its
// conditional headers fail for r (a live record). A header that does not
// parse as an HTTP date is ignored, as HTTP says, but for
// If-Unmodified-Since on a PATCH or POST (see above).
func preconditionsLocked(c *call, r *record) bool {
	mod, ok := lastModifiedLocked(r)
	if !ok {
		return true
	}
	mod = mod.Truncate(time.Second)
	if c.r.Method == http.MethodDelete {
		return true
	}
	if h := c.r.Header.Get("If-Unmodified-Since"); h != "" {
		t, err := http.ParseTime(h)
		if err != nil && (c.r.Method == http.MethodPatch || c.r.Method == http.MethodPost) {
			c.writeError(http.StatusBadRequest, codeBadConditionalHeader,
				"If-Unmodified-Since: '"+h+"' is not an HTTP date", nil)
			return false
		}
		if err == nil && mod.After(t) {
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
