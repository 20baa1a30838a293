package emulator

import (
	"net/http"
	"time"
)

// notModifiedGlobal answers 304 to a describeGlobal carrying
// If-Modified-Since when no object's schema changed since then (Salesforce
// documents If-Modified-Since on describeGlobal as on sObject describe), and
// otherwise sets Last-Modified to the newest schema change. e.mu is held.
func notModifiedGlobal(c *call, objects []*sobject) bool {
	var latest time.Time
	for _, o := range objects {
		if o.Modified.After(latest) {
			latest = o.Modified
		}
	}
	if ims := c.r.Header.Get("If-Modified-Since"); ims != "" {
		if t, err := http.ParseTime(ims); err == nil && !latest.Truncate(time.Second).After(t) {
			c.w.WriteHeader(http.StatusNotModified)
			return true
		}
	}
	if !latest.IsZero() {
		c.w.Header().Set("Last-Modified", latest.UTC().Format(http.TimeFormat))
	}
	return false
}

// noStore sets the caching headers Salesforce sends with a 401: the answer
// must not be cached by the client or a proxy. The Expires value is the one
// recorded on a real REST answer (headers of a describe call shown in the
// enreeco.blogspot.com post on Sforce-Limit-Info, July 2015); the
// Cache-Control value, and that a 401 carries these, are UNCONFIRMED.
func noStore(h http.Header) {
	h.Set("Cache-Control", "no-cache,must-revalidate,max-age=0,no-store,private")
	h.Set("Pragma", "no-cache")
	h.Set("Expires", "Thu, 01 Jan 1970 00:00:00 GMT")
}
