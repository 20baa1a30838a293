package forcesync

import (
	"context"
	"time"
)

// Attempt is one push of a record under a mapping: what Complete recorded
// for one outcome. The console's record page and GET
// /api/v1/sources/{source}/records/{key}/history show them.
type Attempt struct {
	Mapping string    `json:"mapping"`
	Key     string    `json:"key"`
	At      time.Time `json:"at"`
	// RunID is the run the attempt belonged to (0 when Complete had none).
	RunID int64 `json:"run_id,omitempty"`
	Op    Op    `json:"op"`
	// State is the outcome of the attempt (not the record's state after,
	// which a newer change may have made pending).
	State        State        `json:"state"`
	SalesforceID string       `json:"salesforce_id,omitempty"`
	Error        *RecordError `json:"error,omitempty"`
	// Fingerprint is the fingerprint of the payload sent (or refused);
	// two attempts with the same fingerprint sent the same fields.
	Fingerprint string `json:"fingerprint,omitempty"`
	// Version is the source version the attempt pushed.
	Version int64 `json:"version"`
}

// HistoryKept is how many attempts the stores keep per (mapping, key):
// the newest replace the oldest, so the history stays bounded however
// often a record is pushed.
const HistoryKept = 20

// HistoryStore keeps each record's newest attempts. Both stores implement
// it beside Store, writing in Complete's transaction; storetest checks them.
type HistoryStore interface {
	// RecordHistory returns the newest attempts of key under mapping,
	// newest first, at most limit (zero means HistoryKept).
	RecordHistory(ctx context.Context, mapping, key string, limit int) ([]Attempt, error)
}
