package forcesync

import "context"

// SettledReader is implemented by stores that can report, for many keys at
// once, what a file push needs to tell an unchanged row from a changed one
// before it writes anything: the stored record and, per mapping, the
// record's state, binding fingerprint and whether work is queued. Both
// stores implement it; a file push without it accepts every row.
type SettledReader interface {
	// Settled returns the live state of keys of source under mappings,
	// keyed by record key. A key with no stored record is absent. Reads
	// only: it takes no lease and writes nothing.
	Settled(ctx context.Context, source string, mappings []string, keys []string) (map[string]Settled, error)
}

// Settled is the stored state of one source record, as SettledReader reports it.
type Settled struct {
	Version int64
	Deleted bool
	// Fields is the record's fields JSON exactly as the store holds it.
	Fields string
	// Mappings holds the record's state per mapping; a mapping with no
	// status for the record is absent.
	Mappings map[string]SettledMapping
}

// SettledMapping is a record's state under one mapping.
type SettledMapping struct {
	State State
	// Fingerprint is the bound payload's fingerprint; "" when unbound.
	Fingerprint  string
	SalesforceID string
	// Queued is set while an outbox row exists for the record (pending,
	// leased or waiting for a retry).
	Queued bool
	// Overtaken is set while that outbox row is held by a claim of an
	// earlier version of the record: a change was accepted after the
	// claim, so a call for the older data may be in flight (in some
	// process, or a dead worker's until its lease runs out), and
	// Salesforce may hold what the store does not show yet.
	Overtaken bool
}
