package forcesync

import (
	"context"
	"time"
)

// Inspector is what plan and reconcile need of a store beyond Store:
// read-only views of the outbox and the bindings, and the reconcile runs.
// Package sqlite and package postgres implement it beside Store.
type Inspector interface {
	// Peek returns the work items a claim would take, in claim order
	// (priority, then due time, then arrival), without leasing them: due at
	// q.Now and not under a live lease. With q.Held it returns instead the
	// held records that have no queued work, as Forced items (what a
	// mapping change requeues).
	Peek(ctx context.Context, q PeekQuery) ([]WorkItem, error)
	// MappingFingerprint returns the compiled-config fingerprint stored by
	// MappingVersion, and false when none is stored.
	MappingFingerprint(ctx context.Context, mapping string) (string, bool, error)
	// Bindings lists a mapping's bindings in key order, after the key
	// after ("" from the start), at most limit (zero means 1,000).
	Bindings(ctx context.Context, mapping, after string, limit int) ([]Binding, error)
	// Unbind forgets the bindings of keys (their Salesforce twin is gone),
	// so their next push creates them again.
	Unbind(ctx context.Context, mapping string, keys []string) error

	// SaveReconcile stores a reconcile run and its findings, giving the run
	// its ID (and the findings their RunID).
	SaveReconcile(ctx context.Context, run *ReconcileRun, findings []Finding) error
	// ReconcileRuns returns the newest runs of a mapping ("" for every
	// mapping), newest first, at most limit (zero means 20).
	ReconcileRuns(ctx context.Context, mapping string, limit int) ([]ReconcileRun, error)
	// Findings returns the findings of a run in key order.
	Findings(ctx context.Context, runID int64) ([]Finding, error)
}

// PeekQuery selects work items for Peek.
type PeekQuery struct {
	Mapping string
	Now     time.Time
	Held    bool
	Offset  int
	// Limit caps the items; zero means 1,000.
	Limit int
}

// DriftKind names one way Salesforce and forcesync disagree.
type DriftKind string

// Drift kinds found by reconcile.
const (
	// DriftFieldChanged: a mapped field differs from what forcesync last
	// pushed, and the source did not change since: someone edited it in
	// Salesforce.
	DriftFieldChanged DriftKind = "field_changed"
	// DriftDeleted: the bound record is in the recycle bin.
	DriftDeleted DriftKind = "deleted"
	// DriftMerged: the bound record was merged into another (its master).
	DriftMerged DriftKind = "merged"
	// DriftMissing: the bound Id is not in Salesforce at all, not even
	// deleted (purged, or an Id of another org).
	DriftMissing DriftKind = "missing"
	// DriftConverted: the binding points at a converted Lead.
	DriftConverted DriftKind = "converted"
	// DriftTwins: two or more Salesforce records match one record's key.
	DriftTwins DriftKind = "twins"
	// DriftNeverSynced: a source record the mapping takes has no twin.
	DriftNeverSynced DriftKind = "never_synced"
	// DriftUnreadable: the source record's stored fields cannot be read
	// back (CodeUnreadableRecord; the detail names the field), so it is
	// neither compared nor healed: it is not missing, and nothing is
	// deleted or created for it. Sending the record again repairs it.
	DriftUnreadable DriftKind = "unreadable"
	// DriftShared: not drift. The Salesforce record is bound to other keys
	// of the mapping too (matching by fields: two people with one email)
	// and holds the values of another of them (the detail names it), the
	// one it is compared with. Heal leaves it alone.
	DriftShared DriftKind = "shared"
)

// Drifted counts the findings of fs that are drift: all but DriftShared,
// which is a note about the record, not a difference to repair.
func Drifted(fs []Finding) int {
	n := 0
	for _, f := range fs {
		if f.Kind != DriftShared {
			n++
		}
	}
	return n
}

// ReconcileRun is one comparison of a mapping's records with Salesforce.
type ReconcileRun struct {
	ID       int64     `json:"id"`
	Mapping  string    `json:"mapping"`
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	// Checked is how many bound records were compared.
	Checked int `json:"checked"`
	// API is how Salesforce was read: "bulk" (a Bulk API 2.0 query) or
	// "query" (SOQL by Id).
	API string `json:"api"`
	// APICalls is what the run spent, reads and heals.
	APICalls int `json:"api_calls"`
	// Counts are the findings by kind.
	Counts map[DriftKind]int `json:"counts"`
	// Healed is how many findings --heal fixed.
	Healed int `json:"healed"`
	// Queued is how many never-synced findings --heal queued (not healed:
	// the push that follows settles them). Not stored: it is the heal's
	// own answer, for its caller (the CLI drains when it is not zero).
	Queued int `json:"-"`
	// Error is why the run stopped early, "" when it finished.
	Error string `json:"error"`
}

// Finding is one drifted record.
type Finding struct {
	RunID        int64     `json:"run_id"`
	Mapping      string    `json:"mapping"`
	Key          string    `json:"key"`
	SalesforceID string    `json:"salesforce_id"`
	Kind         DriftKind `json:"kind"`
	// Fields are the fields that differ (DriftFieldChanged).
	Fields []FieldDrift `json:"fields"`
	// Detail says more: the master Id of a merge, the twins' Ids, the
	// converted Contact.
	Detail string `json:"detail"`
	Healed bool   `json:"healed"`
}

// FieldDrift is one field that differs.
type FieldDrift struct {
	Field string `json:"field"`
	// Salesforce is the value Salesforce holds; Expected what forcesync
	// pushed (and the source still gives).
	Salesforce any `json:"salesforce"`
	Expected   any `json:"expected"`
}
