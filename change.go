package forcesync

import "time"

// Op is what happened to a source record.
type Op string

// Ops.
const (
	OpUpsert  Op = "upsert"  // created or changed
	OpDelete  Op = "delete"  // removed from the application
	OpDisable Op = "disable" // deactivated (provisioning): e.g. User.IsActive=false
)

// Change is one accepted event about a source record.
//
// Delivery contract: a Change is durable in the Store before any door answers
// 2xx. Changes to the same (mapping, key) coalesce: only the newest fields are
// pushed. A change whose Version is lower than the stored one for that key is
// ignored, so an older version never overwrites a newer one. A change is
// marked synced only after Salesforce accepted it; it is delivered at least
// once, and the match rule (External ID upsert, or an intent resolved by
// query after a crash) makes a resend harmless.
type Change struct {
	Source string
	Key    string
	Op     Op
	// Version orders changes of one key; 0 means "now" (the store assigns a
	// version greater than any it holds for the key).
	Version int64
	// Fields is the record's full state as a JSON object (for OpUpsert).
	Fields map[string]any
	// FieldsJSON, when not empty, is the record's full state already
	// encoded as a JSON object; it stands in for Fields. Doors that receive
	// JSON pass it as received, so it is not decoded and encoded again on
	// the way to the store. Stores keep it as it is.
	FieldsJSON []byte
	// Priority: PriorityRealtime changes are served before PriorityBackfill.
	Priority Priority
	// Received is when the door accepted the change.
	Received time.Time
}

// MaxVersion is the highest Version a door accepts (2^62-1: Unix time in
// nanoseconds fits until the year 2116). A version at or near MaxInt64 would
// freeze its key, since no later change could be newer; the room left above
// MaxVersion keeps "now" versions (the stored version plus one) working for
// a key that reached it.
const MaxVersion int64 = 1<<62 - 1

// Priority orders work: real-time changes first, backfills after.
type Priority int

// Priorities.
const (
	PriorityRealtime Priority = 0
	PriorityBackfill Priority = 1
)

// SourceRecord is the stored latest state of one application record.
//
// Version and Updated are the application's: the version of its last
// change and when it was accepted. A change pulled from Salesforce
// (package pull) keeps both, so that the application's next version is
// not taken for an old one, and counts itself in PullRev instead.
type SourceRecord struct {
	Source  string
	Key     string
	Version int64
	Deleted bool
	Fields  map[string]any
	Updated time.Time
	// PullRev counts the pulled changes written to the record: with
	// Version it tells the record apart from itself before a pull.
	PullRev int64
	// Unreadable is set when the record's stored fields cannot be read
	// back (code CodeUnreadableRecord, naming the field). A listing
	// (Store.SourceRecords) then gives the record with Fields nil instead
	// of failing, and its callers skip it or show it as unreadable;
	// Store.SourceRecord gives it with the error too, and the fields as
	// far as they decode. A new change of the record replaces the fields.
	Unreadable *RecordError
}
