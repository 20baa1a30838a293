package forcesync

import (
	"context"
	"time"
)

// Store is forcesync's durable state: accepted source records, the outbox of
// work per (mapping, key), bindings, record statuses, runs and API usage.
// Package sqlite (embedded default) and package postgres implement it; both
// pass storetest.Run. All methods are safe for concurrent use.
type Store interface {
	// Accept durably records changes of one source and queues work for each
	// of mappings (the mappings fed by that source). Per (mapping, key) the
	// queued work coalesces to the newest version; a change older than the
	// stored version of its key is ignored (Ignored in its result). When
	// Accept returns nil every change is durable.
	Accept(ctx context.Context, mappings []string, changes []Change) ([]AcceptResult, error)

	// Claim leases up to Limit due work items for one mapping to Owner until
	// Now+Lease, realtime priority first, then oldest due. Items leased by an
	// owner whose lease expired are claimable again.
	Claim(ctx context.Context, req ClaimRequest) ([]WorkItem, error)

	// Complete commits the outcomes of claimed items in one transaction:
	// bindings, statuses, errors, intents cleared, the run, and the outbox
	// row removed — unless a newer change arrived while it was leased, in
	// which case the row stays queued with the newer data.
	Complete(ctx context.Context, owner string, outcomes []Outcome, run *Run) error

	// RecordIntents notes, before creating records that have no External ID,
	// that a create for each key is in flight, so a crash is resolved by
	// querying Salesforce instead of creating again.
	RecordIntents(ctx context.Context, mapping string, intents []Intent) error

	// HoldMatches reserves match values (e.g. lower-cased emails) of a
	// mapping for owner until until, so no two workers, in this process or
	// another sharing the store, look a value up at once, both find
	// nothing and both create. A value another owner holds and whose hold
	// has not run out by now is not granted; owner's own holds are renewed.
	// It returns the values owner now holds.
	HoldMatches(ctx context.Context, mapping, owner string, values []string, now, until time.Time) ([]string, error)
	// ReleaseMatches gives up owner's holds on values.
	ReleaseMatches(ctx context.Context, mapping, owner string, values []string) error

	// Requeue queues the keys again (retry of held records; mapping changes).
	// Keys nil means every held record of the mapping.
	Requeue(ctx context.Context, mapping string, keys []string) (int, error)

	// MappingVersion stores the fingerprint of a mapping's compiled config and
	// reports whether it changed since the last call (held records of a
	// changed mapping are requeued by the caller).
	MappingVersion(ctx context.Context, mapping, fingerprint string) (changed bool, err error)

	// SourceRecord returns the stored latest state of a record. When its
	// stored fields cannot be read back, the error wraps a *RecordError
	// with code CodeUnreadableRecord, and the record comes with it, its
	// Fields decoded with the numbers a float64 cannot hold kept as
	// json.Number (nil if even that fails), for the record page to show
	// and edit and for a pull to merge into.
	SourceRecord(ctx context.Context, source, key string) (*SourceRecord, error)
	// SourceRecords lists the live (not deleted) records of a source that
	// q selects, in key order, from q.Offset, at most q.Limit. A record
	// whose stored fields cannot be read back does not fail the listing:
	// it is listed with Unreadable set (code CodeUnreadableRecord) and
	// Fields nil, for the caller to skip or show as such.
	SourceRecords(ctx context.Context, q SourceQuery) ([]SourceRecord, error)
	// CountSourceRecords counts the live records q selects (ignoring its
	// Offset and Limit).
	CountSourceRecords(ctx context.Context, q SourceQuery) (int, error)
	// Statuses returns the status of a record under each mapping.
	Statuses(ctx context.Context, source, key string) ([]RecordStatus, error)
	// Binding returns the binding of a key under a mapping, or nil.
	Binding(ctx context.Context, mapping, key string) (*Binding, error)
	// List returns statuses matching the filter, newest first.
	List(ctx context.Context, f StatusFilter) ([]RecordStatus, error)
	// Counts returns how many records of the mapping are in each state.
	Counts(ctx context.Context, mapping string) (map[State]int, error)
	// Backlog returns how many work items of the mapping are queued.
	Backlog(ctx context.Context, mapping string) (int, error)
	// Runs returns the newest runs, newest first.
	Runs(ctx context.Context, limit int) ([]Run, error)

	// RecordAPIUsage stores the org's API usage last reported by Salesforce
	// (Sforce-Limit-Info) and adds calls to forcesync's own count for the day.
	RecordAPIUsage(ctx context.Context, u APIUsage) error
	// APIUsage returns the latest usage of a connection.
	APIUsage(ctx context.Context, connection string) (*APIUsage, error)

	// Ledger (budget governor, observability, Bulk jobs in flight; issue 9)
	// is declared in ledger.go.
	Ledger

	Close() error

	// --- identity lifecycle (guard.go, lifecycle.go) ---
	GuardStore
	BindingStore
	MappingMemory
	PasswordMarks
}

// SourceQuery selects source records for listing (the SCIM door's
// lookups and pages, reconcile's walk through a source).
type SourceQuery struct {
	Source string
	// Field and Value, when Field is set, keep only records whose top-level
	// field Field is a string equal to Value, ignoring case (userName,
	// externalId). Field is letters, digits and underscores.
	Field, Value string
	// After, when set, keeps only the records whose key sorts after it in
	// the store's key order: a caller paging through a whole source passes
	// the last key of the page before, and each page costs its own rows
	// where an Offset would walk past every record before it again.
	After  string
	Offset int
	// Limit caps SourceRecords; zero means 100.
	Limit int
}

// AcceptResult is the fate of one accepted change.
type AcceptResult struct {
	Key     string
	Version int64 // the version stored
	Ignored bool  // older than the stored version
}

// ClaimRequest asks for due work.
type ClaimRequest struct {
	Mapping string
	// Owner names the claiming worker in the claim's lease; Complete and
	// LeaseRenewer name it again. A worker holds one claim of a mapping at
	// a time: a renewal extends the owner's latest claim only.
	Owner string
	Lease time.Duration
	Limit int
	Now   time.Time
	// Priority, when not nil, claims only that priority.
	Priority *Priority
}

// WorkItem is one leased unit of work: the newest state of a source record to
// bring to Salesforce under one mapping.
type WorkItem struct {
	Mapping  string
	Source   string
	Key      string
	Op       Op
	Version  int64
	Fields   map[string]any
	Priority Priority
	// Seq identifies the outbox row's content at claim time.
	Seq      int64
	Attempts int
	// Binding is the current binding, nil if the record was never pushed.
	Binding *Binding
	// Intent is set when a create for this key may have reached Salesforce
	// before a crash: the engine must look for it before creating.
	Intent *Intent
	// HeldFingerprint is the fingerprint of the payload Salesforce last
	// refused permanently; an equal payload stays held without a call.
	HeldFingerprint string
	// Forced is set when the item was requeued on purpose (retry of a held
	// record, a changed mapping): it is pushed even if its payload is unchanged.
	Forced bool
	// Enqueued is when the newest change arrived.
	Enqueued time.Time
	// Unreadable is set, and Fields nil, when the record's stored fields
	// cannot be read back (code CodeUnreadableRecord, naming the field):
	// the engine holds the item without a call, and the claim's other
	// items flow. A new change of the record replaces the fields.
	Unreadable *RecordError
}

// Intent records a create in flight for a key without External ID.
type Intent struct {
	Key string
	// Match is the match-field values the record is created with, e.g.
	// {"Email": "a@b.c"}, used to find it after a crash.
	Match map[string]string
	At    time.Time
}

// Outcome is the result of pushing one work item.
type Outcome struct {
	Item         WorkItem
	State        State
	SalesforceID string
	// Fingerprint of the payload Salesforce accepted (synced) or refused (held).
	Fingerprint string
	Error       *RecordError
	Warnings    []string
	// NextAttempt for StateRetrying.
	NextAttempt time.Time
	// Unbind removes the binding (after a Salesforce delete).
	Unbind bool
	// KeepBinding leaves the binding as it is, whatever SalesforceID and
	// Fingerprint say: the outcome settles the status only, and another
	// mapping's write of the binding (a promotion's) is not overwritten by
	// a batch that read it earlier.
	KeepBinding bool
}

// StatusFilter selects statuses for List.
type StatusFilter struct {
	Mapping string
	States  []State
	Limit   int
}

// APIUsage is the API budget of one connection.
type APIUsage struct {
	Connection string
	// Used and Max are the org's rolling 24-hour figures from Sforce-Limit-Info.
	Used, Max int
	// Calls are the API calls forcesync itself made today, by kind.
	Calls map[string]int
	At    time.Time
}
