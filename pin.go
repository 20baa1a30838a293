package forcesync

import (
	"context"
	"fmt"
	"time"
)

// OrgPin is the Salesforce org a connection is pinned to: the org of its
// first successful login. A later login that lands in another org (a
// sandbox refreshed under the same name, credentials pasted from the wrong
// org) is refused until an operator re-pins the connection, so one org's
// data is never written into another.
type OrgPin struct {
	Connection string
	// OrgID is the 18-character organization Id.
	OrgID string
	// InstanceURL is where the org answered when it was pinned; informative
	// (an org may move between instances), never compared.
	InstanceURL string
	Pinned      time.Time
	// BulkPace is how long the org took per record of a Bulk ingest job,
	// as last learned (0: not known). A re-pin forgets it.
	BulkPace time.Duration
}

// OrgPins is what org pinning needs of a store. Package sqlite and package
// postgres implement it beside Store.
type OrgPins interface {
	// OrgPin returns the pin of a connection, or nil when it has none.
	OrgPin(ctx context.Context, connection string) (*OrgPin, error)
	// PinOrg pins a connection to p.OrgID. With replace false it pins only
	// a connection that has no pin yet and returns the pin in force (which
	// may name another org: the caller compares); with replace true it
	// overwrites any pin (forcesync connection pin).
	PinOrg(ctx context.Context, p OrgPin, replace bool) (*OrgPin, error)
	// SaveBulkPace keeps the pace learned of a pinned connection's org
	// (OrgPin.BulkPace); a connection without a pin is left as it is.
	SaveBulkPace(ctx context.Context, connection string, perRecord time.Duration) error
}

// OrgMismatchError refuses a session of an org other than the pinned one.
type OrgMismatchError struct {
	Connection  string
	Pinned      string // the org Id the connection is pinned to
	Found       string // the org Id the login reached
	InstanceURL string // where the found org answered, when known
}

func (e *OrgMismatchError) Error() string {
	return fmt.Sprintf("connection %s is pinned to org %s but the login reached org %s; nothing was written. "+
		"If the new org is intended (a refreshed sandbox, a moved org), re-pin it with: forcesync connection pin %s",
		e.Connection, e.Pinned, e.Found, e.Connection)
}
