package engine

import (
	"context"
	"time"
)

// DrainLarge is Drain for a caller that is still adding work, such as a
// file push: one worker pushes, a batch at a time, only mappings whose
// backlog holds at least minBacklog items, so work trickling in is not sent
// in many small calls while a large batch builds up. One worker at a time
// keeps the backlog free of this engine's own leases, so each claim is as
// large as the backlog allows. The caller drains for good with Drain once
// no more work comes.
func (e *Engine) DrainLarge(ctx context.Context, minBacklog int) (int, error) {
	minBacklog = max(minBacklog, 1)
	total := 0
	for {
		n, err := e.step(ctx, e.cfg.Owner, minBacklog, false)
		total += n
		if err != nil || n == 0 {
			return total, err
		}
		if ctx.Err() != nil {
			return total, ctx.Err()
		}
	}
}

// BulkBatch is the most records one claim, and so one Bulk job, takes.
func (e *Engine) BulkBatch() int { return max(e.cfg.BulkBatch, e.cfg.BulkThreshold) }

// Lease is how long a claim is leased (renewed while its batch is in flight).
func (e *Engine) Lease() time.Duration { return e.cfg.Lease }
