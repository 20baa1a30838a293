package console

import (
	"context"

	"github.com/forcesync/forcesync"
)

// Inspector answers the plan and reconcile questions for the console
// (serve implements it over its engines with engine.Planner and
// engine.Reconciler; the console sees only these types).
type Inspector interface {
	// Plan returns what the next push of mappings (all when none) would
	// do; it writes nothing.
	Plan(ctx context.Context, mappings []string) ([]MappingPlan, error)
	// PlanMapping plans m as the editor has it, compiled against the org
	// now, instead of the running mapping of its name: what saving it
	// would make the next push do.
	PlanMapping(ctx context.Context, m forcesync.Mapping) (*MappingPlan, error)
	// Reconcile compares a mapping's records with Salesforce, report
	// only (no heal), and stores the run.
	Reconcile(ctx context.Context, mapping string) (*forcesync.ReconcileRun, error)
}

// MappingPlan is the plan of one mapping (engine.MappingPlan's content).
type MappingPlan struct {
	Mapping, Object string
	// Changed: the compiled mapping differs from the one the store last
	// ran, so its held records are requeued (Requeued counts them).
	Changed  bool
	Requeued int
	Paused   string
	Counts   PlanCounts
	// Held and Retry count held and put-off records by error code.
	Held, Retry map[string]int
	// Calls are the API calls the push would spend; PlanReads what the
	// plan itself spent reading Salesforce.
	Calls, PlanReads int
	Records          []PlannedRecord
	Truncated        bool
}

// PlanCounts are a plan's records by action.
type PlanCounts struct {
	Create, Update, Delete, Disable, NoOp, Held, Skipped, Retry int
}

// Total is every record the plan takes.
func (c PlanCounts) Total() int {
	return c.Create + c.Update + c.Delete + c.Disable + c.NoOp + c.Held + c.Skipped + c.Retry
}

// PlannedRecord is the fate of one record in a plan.
type PlannedRecord struct {
	Key, Action, SalesforceID, API, Code, Message string
	Changes                                       []FieldChange
}

// FieldChange is one field an update changes.
type FieldChange struct {
	Field    string
	Old, New any
}

// ChangesFeed is what the pull page needs of the pull side (package
// pull's Feed).
type ChangesFeed interface {
	// Conflicts lists a source record's conflicts, newest first.
	Conflicts(ctx context.Context, source, key string) ([]forcesync.Conflict, error)
	// DeadLetters lists a mapping's webhook deliveries that gave up.
	DeadLetters(ctx context.Context, mapping string, limit int) ([]forcesync.Delivery, error)
	// Redeliver puts a mapping's dead letters (those of the events seqs
	// names; every one when seqs is empty) back for delivery, logs and
	// counts it, and returns how many it put back.
	Redeliver(ctx context.Context, mapping string, seqs []int64) (int, error)
}
