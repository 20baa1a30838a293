package emulator

import "strings"

// updateOnly reads the ?updateOnly=true parameter of an upsert by External
// ID: Salesforce then updates a matching record but never creates one.
func updateOnly(c *call) bool {
	return strings.EqualFold(c.r.URL.Query().Get("updateOnly"), "true")
}

// updateOnlyMissLocked answers the refusal of an updateOnly upsert that
// matches no record: 404 NOT_FOUND and nothing written. Salesforce
// documents the parameter ("to prevent a new record from being created")
// but not the wire answer of a miss; 404 NOT_FOUND, as for a GET by an
// External ID value that matches nothing, is UNCONFIRMED (docs/emulator.md).
// It returns nil when the upsert may go ahead. e.mu is held for writing.
func (e *Emulator) updateOnlyMissLocked(c *call, obj *sobject, f *field) *recordError {
	if !updateOnly(c) {
		return nil
	}
	if len(e.matchesLocked(obj, f, c.r.PathValue("value"))) > 0 {
		return nil
	}
	return &recordError{Code: "NOT_FOUND", Message: "The requested resource does not exist"}
}
