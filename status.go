package forcesync

import "time"

// State is where a record stands with one mapping.
type State string

// States.
const (
	StatePending  State = "pending"  // accepted, not yet pushed
	StateSynced   State = "synced"   // Salesforce holds what was last pushed
	StateRetrying State = "retrying" // transient error; next attempt at NextAttempt
	StateHeld     State = "held"     // permanent Salesforce error; retried when the record or the mapping changes
	StateSkipped  State = "skipped"  // the mapping's filter excluded it
	// StateDeleted: the Salesforce record is gone and the binding with
	// it: deleted by the remove action after a source delete, or deleted
	// (or merged away) in Salesforce, as a pull of a two-way mapping saw.
	StateDeleted State = "deleted"
	// StateDisabled: the record is disabled in Salesforce (a User's
	// IsActive=false, or the mapping's disable writes), or was disabled
	// before it ever reached Salesforce.
	StateDisabled State = "disabled"
	// StateDeprovisioned: the record was deleted in the application or left
	// the mapping's scope, and the remove action (deactivate or ignore) was
	// applied; the binding is kept so a return updates the same record.
	StateDeprovisioned State = "deprovisioned"
)

// FingerprintDisabled is the binding fingerprint of a record forcesync
// disabled or deprovisioned: no payload equals it, so the record's next
// upsert is always sent (and reactivates a User).
const FingerprintDisabled = "disabled"

// RecordStatus is the sync state of one source record under one mapping,
// always with the last Salesforce error when there was one.
type RecordStatus struct {
	Mapping      string
	Source       string
	Key          string
	State        State
	SalesforceID string
	// Error is the last error (nil when the last attempt succeeded).
	Error *RecordError
	// Warnings are notes from compiling the payload, e.g. a truncated value.
	Warnings    []string
	Attempts    int
	NextAttempt time.Time
	Updated     time.Time
	// Version is the source version the status describes.
	Version int64
}

// RecordError is Salesforce's (or forcesync's own pre-flight) error for one record.
type RecordError struct {
	Code    string   `json:"code"`
	Message string   `json:"message"`
	Fields  []string `json:"fields,omitempty"`
}

func (e *RecordError) Error() string {
	if e == nil {
		return ""
	}
	return e.Code + ": " + e.Message
}
