package forcesync

import "time"

// Binding ties a source record to its Salesforce twin under one mapping.
type Binding struct {
	Mapping      string
	Key          string
	SalesforceID string
	// Fingerprint is a hash of the payload last accepted by Salesforce; an
	// equal payload is not sent again.
	Fingerprint string
	// Modstamp is the SystemModstamp last pulled (two-way mappings).
	Modstamp time.Time
	Updated  time.Time
}

// Run is one batch pushed (or pulled) for a mapping.
type Run struct {
	ID       int64
	Mapping  string
	API      string // "collections", "bulk", "rest"
	Started  time.Time
	Finished time.Time
	Records  int
	Created  int
	Updated  int
	// Unchanged counts records settled without a call: their payload
	// equalled the one Salesforce last accepted.
	Unchanged int
	Deleted   int
	Failed    int
	Skipped   int
	APICalls  int
}
