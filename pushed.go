package forcesync

import "context"

// PushRecorder is implemented by stores that can record, in one
// transaction, the outcome of records a file push sent to Salesforce
// itself — streamed from the file into a Bulk job — without queueing them
// first: the file is the intake, so the accept -> claim -> complete round
// trip is replaced by a single set-based write once Salesforce answered.
// Both stores implement it; a push without it goes through the outbox.
type PushRecorder interface {
	// RecordPushed writes for each row, under mapping: the source record
	// (at the row's Version, unless the store holds that version or a
	// newer one), the binding (synced rows, unless Unchanged), the status,
	// and for a held row an attempt in the record's history. A key whose
	// work is queued under mapping (an outbox row: a newer change came in
	// by another door while the job ran, or the file had a later row for
	// it) keeps its record and status; the engine pushes that work and
	// settles it. Its binding is written all the same: Salesforce holds
	// the record under that Id. run, when not nil, is stored with the rows.
	RecordPushed(ctx context.Context, source, mapping string, rows []PushedRecord, run *Run) error
	// StageRecords writes, ahead of Salesforce's answers, the source
	// record of each row as RecordPushed would (same version rule, keys
	// with queued work left alone), so that RecordPushed, given the rows
	// marked Staged, writes only bindings and statuses. A file push stages
	// a job's records while Salesforce processes the job. Until the
	// answers are recorded a staged record holds data its mapping has not
	// pushed under its status; a push cut short in between sends the rows
	// again when resumed (their statuses show them unpushed).
	StageRecords(ctx context.Context, source, mapping string, rows []PushedRecord) error
}

// PushedRecord is the outcome of one record a file push sent.
type PushedRecord struct {
	Key string
	// Version is the record's new version: the stored one plus one.
	Version int64
	// Fields is the record's fields JSON, stored as the source record.
	Fields string
	// State is StateSynced, StateHeld for a record Salesforce refused, or
	// StateSkipped for a record out of the mapping's scope (its filter)
	// and never bound under it, sent nowhere.
	State        State
	SalesforceID string
	// Fingerprint of the payload Salesforce accepted (synced: stored in the
	// binding and status) or refused (held: stored as the held print, so an
	// equal payload stays held without a call).
	Fingerprint string
	Error       *RecordError
	// Staged says StageRecords wrote the row's source record already.
	Staged bool
	// Unchanged marks a synced row whose payload under the mapping is the
	// one its binding holds (its record changed in fields the mapping does
	// not send): nothing was sent, its status is written and its binding
	// left as it is.
	Unchanged bool
}
