package forcesync

import (
	"context"
	"time"
)

// Ledger is the part of the Store the budget governor and the operators'
// views need (issue 9): forcesync's own API calls over a rolling 24 hours,
// the pause the governor is in, the age of the oldest queued work, and the
// Bulk jobs in flight. Both stores implement it; Store embeds it.
type Ledger interface {
	// AddAPICalls adds n API calls forcesync made for connection at at,
	// spent from lane ("realtime", "backfill"). Calls are kept per minute;
	// minutes older than 25 hours are dropped on the way. Replicas sharing
	// the store add to the same ledger.
	AddAPICalls(ctx context.Context, connection, lane string, at time.Time, n int) error
	// APICalls returns the calls recorded for connection at or after since,
	// one entry per minute and lane, oldest first.
	APICalls(ctx context.Context, connection string, since time.Time) ([]CallBucket, error)

	// SetBudgetState stores the governor's state of a connection, replacing
	// the previous one.
	SetBudgetState(ctx context.Context, s BudgetState) error
	// BudgetState returns the governor's last stored state of a connection,
	// nil when it never stored one.
	BudgetState(ctx context.Context, connection string) (*BudgetState, error)

	// OldestQueued returns when the oldest work item still queued for
	// mapping was enqueued (its newest change), zero when none is queued.
	OldestQueued(ctx context.Context, mapping string) (time.Time, error)

	// AddBulkJob notes a Bulk API job forcesync created and has not yet
	// collected, so a process killed while it runs finds it at start.
	// Noting a job again by the same owner moves its Created time to j's
	// (the owner's heartbeat while the job runs, so a long job is not
	// taken for a dead process's); another owner's note changes nothing.
	AddBulkJob(ctx context.Context, j BulkJobRef) error
	// RemoveBulkJob forgets a job whose results were collected or that was
	// aborted. Forgetting an unknown job is not an error.
	RemoveBulkJob(ctx context.Context, connection, id string) error
	// BulkJobs lists the jobs noted for connection, oldest first.
	BulkJobs(ctx context.Context, connection string) ([]BulkJobRef, error)
}

// Lanes of the API budget: realtime work keeps a part of the budget that
// backfills cannot take.
const (
	LaneRealtime = "realtime"
	LaneBackfill = "backfill"
)

// CallBucket is forcesync's API calls of one minute and lane.
type CallBucket struct {
	Minute time.Time // start of the minute, UTC
	Lane   string
	Calls  int
}

// BudgetState is the budget governor's view of one connection, stored so
// that `forcesync status`, other replicas and a restarted process see it.
type BudgetState struct {
	Connection string
	// Paused lists the lanes that may not spend now: empty when running,
	// ["backfill"] when only backfills wait, both when all pushing waits.
	Paused []string
	// Reason says why, in words, with the figures ("" when running).
	Reason string
	// Since is when the pause began; ResumeAt is when the governor expects
	// to resume (or next looks at the org's usage again).
	Since, ResumeAt time.Time
	// Own is forcesync's calls in the last 24 hours; Budget is its share.
	Own, Budget int
	// OrgUsed and OrgMax are the org's last known daily API usage.
	OrgUsed, OrgMax int
	// Updated is when the state was computed.
	Updated time.Time
}

// BulkJobRef is a Bulk API job in flight.
type BulkJobRef struct {
	Connection string
	ID         string
	// Owner names the process (engine owner) that created the job.
	Owner   string
	Mapping string
	Object  string
	// Created is when the job was noted, or last noted again by its owner
	// while it runs (see Ledger.AddBulkJob).
	Created time.Time
}
