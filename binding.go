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

// FailingRuns returns how many of the newest runs of mapping (runs newest
// first, as Store.Runs returns them) failed every record they took, and
// when the oldest of those started: pushes that all fail (Salesforce
// refusing every call, a failing login, an outage), as opposed to a few
// records held for their data. Runs that took no record are passed over.
// The console's overview and `forcesync status` report the mapping as
// failing from it.
func FailingRuns(runs []Run, mapping string) (n int, since time.Time) {
	for i := range runs {
		r := &runs[i]
		if r.Mapping != mapping || r.Records == 0 {
			continue
		}
		if r.Failed < r.Records {
			break
		}
		n, since = n+1, r.Started
	}
	return n, since
}
