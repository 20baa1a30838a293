package engine

import (
	"context"

	"github.com/forcesync/forcesync"
)

// Calls a batch may take at most, asked of the governor before claiming:
// Collections upserts and deletes (one call each per 200 records); a match
// by fields looks up, updates, creates and deletes; a Bulk job creates,
// uploads, closes, polls and fetches two result files.
const (
	upsertBatchCalls  = 2
	matchedBatchCalls = 4
	bulkBatchCalls    = 20
)

// batchBudget is what the governor allows the next batch of a mapping.
type batchBudget struct {
	// priority, when set, limits the claim to realtime work: backfills wait.
	priority *forcesync.Priority
	// bulk is false when the headroom is too small for a Bulk job.
	bulk bool
}

// budgetFor asks the governor before a mapping's batch is claimed: false
// when neither lane may spend what a batch can take.
func (e *Engine) budgetFor(ctx context.Context, p *Pipe) (batchBudget, bool) {
	need := upsertBatchCalls
	if p.Mapping.Match.Kind != forcesync.MatchExternalID {
		need = matchedBatchCalls
	}
	// Both lanes are asked every time, so the state shows each one.
	rt, _ := e.gov.Headroom(ctx, forcesync.LaneRealtime, need)
	room, _ := e.gov.Headroom(ctx, forcesync.LaneBackfill, need)
	if rt < need {
		return batchBudget{}, false
	}
	b := batchBudget{bulk: true}
	if room < need {
		realtime := forcesync.PriorityRealtime
		b.priority, room = &realtime, rt
	}
	b.bulk = room >= bulkBatchCalls
	return b, true
}

// laneOf is the lane a batch spends from: backfill when any of its items
// is a backfill.
func laneOf(items []forcesync.WorkItem) string {
	for _, it := range items {
		if it.Priority == forcesync.PriorityBackfill {
			return forcesync.LaneBackfill
		}
	}
	return forcesync.LaneRealtime
}

// observeUsage hands the org's usage from the client's last answer to a
// governor the engine made itself (one given in Config hears every answer
// through the client's OnLimitInfo hook). Only a change is news: the same
// figures again may be old.
func (e *Engine) observeUsage() {
	if e.cfg.Governor != nil {
		return
	}
	used, max := e.api.Usage()
	if max <= 0 {
		return
	}
	// Under the lock, so another worker that finds no news finds the
	// governor told already.
	e.usageMu.Lock()
	defer e.usageMu.Unlock()
	if e.usageSeen != [2]int{used, max} {
		e.usageSeen = [2]int{used, max}
		e.gov.ObserveUsage(used, max)
	}
}
