package engine

import (
	"context"
	"sync"
	"time"

	"github.com/forcesync/forcesync"
)

// Backfills under Run. A backfill arrives in many posts (an import of
// 50,000 records is fifty posts of 1,000), and workers that claim as soon
// as each post lands send each one on its own: every claim is below the
// Bulk threshold, so a backfill that one Bulk job could carry becomes
// hundreds of Collections calls, and more replicas or mappings only make
// the claims smaller. So while a mapping's backlog is still growing, Run's
// workers claim only realtime work of it (which still goes out at once,
// through Collections when it is small) and leave the backfill queued until
//
//   - the backlog holds a full Bulk job (BulkBatch records), or
//   - it has not grown for backfillQuiet, 5 s (the import paused or ended;
//     posts under load can come seconds apart), or
//   - backfill has been held back for backfillMaxWait, 30 s (a trickle).
//
// (The backlog here is the work a claim could take now: what other
// replicas have in flight does not count.) Then the next claim takes up to
// a Bulk job's worth at once. Claims of a
// mapping take turns across replicas (the store serializes them), so the
// first replica to claim takes the whole backlog and the others find none
// to shred. Drain and DrainLarge do not hold anything back: their callers
// want everything now.
const (
	backfillQuiet   = 5 * time.Second
	backfillMaxWait = 30 * time.Second
)

// backfillGate is the per-mapping state of the rule above, shared by the
// engine's workers.
type backfillGate struct {
	mu sync.Mutex
	m  map[string]*gateState
}

type gateState struct {
	count  int       // backlog at the last look
	grew   time.Time // when the backlog last grew
	holdAt time.Time // since when backfill is held back; zero when not
}

// pushHolding is pushBatch under the rule above. Realtime work is claimed
// first without looking at the backlog, so a stream of realtime changes
// pays no extra query; only when there is none is the backfill looked at.
func (e *Engine) pushHolding(ctx context.Context, owner string, p *Pipe, b batchBudget) (int, error) {
	if b.priority != nil || !b.bulk || e.cfg.BulkThreshold <= 0 || p.Mapping.Match.Kind != forcesync.MatchExternalID {
		return e.pushBatch(ctx, owner, p, b)
	}
	rt := b
	realtime := forcesync.PriorityRealtime
	rt.priority = &realtime
	if n, err := e.pushBatch(ctx, owner, p, rt); n > 0 || err != nil {
		return n, err
	}
	if b = e.holdBackfill(ctx, p, b); b.priority != nil {
		return 0, nil // held; the realtime work was just looked at
	}
	return e.pushBatch(ctx, owner, p, b)
}

// holdBackfill limits b to realtime work while p's backfill should wait
// (see above). It looks only at batches that could go through Bulk: for the
// others, waiting would save no call.
func (e *Engine) holdBackfill(ctx context.Context, p *Pipe, b batchBudget) batchBudget {
	if b.priority != nil || !b.bulk || e.cfg.BulkThreshold <= 0 || p.Mapping.Match.Kind != forcesync.MatchExternalID {
		return b
	}
	n, err := e.readyBacklog(ctx, p.Mapping.Name)
	if err != nil {
		return b // the claim will say what is wrong
	}
	hold, change, held := e.gate.wait(p.Mapping.Name, n, e.BulkBatch(), e.cfg.Now())
	switch change {
	case "held":
		e.cfg.Logger.Info("backfill held while its backlog grows", "event", "backfill.held", "mapping", p.Mapping.Name, "backlog", n)
		e.cfg.Metrics.backfillHeld(p.Mapping.Name)
	case "":
	default:
		e.cfg.Logger.Info("backfill released", "event", "backfill.released", "mapping", p.Mapping.Name, "backlog", n,
			"reason", change, "held", held.Round(time.Millisecond))
	}
	if hold {
		realtime := forcesync.PriorityRealtime
		b.priority = &realtime
	}
	return b
}

// readyBacklog counts the mapping's work a claim could take now; a store
// that cannot count it gives its whole backlog, other replicas' leased work
// included.
func (e *Engine) readyBacklog(ctx context.Context, mapping string) (int, error) {
	if rc, ok := forcesync.StoreAs[forcesync.ReadyCounter](e.store); ok {
		return rc.Ready(ctx, mapping, e.cfg.Now())
	}
	return e.store.Backlog(ctx, mapping)
}

// wait notes a mapping's backlog n at now and says whether its backfill
// should wait; change is "held" when a hold starts, the reason when one
// ends ("full", "quiet", "max_wait"; held is then how long it lasted), and
// "" otherwise.
func (g *backfillGate) wait(mapping string, n, full int, now time.Time) (hold bool, change string, held time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.m == nil {
		g.m = map[string]*gateState{}
	}
	st := g.m[mapping]
	if st == nil {
		st = &gateState{}
		g.m[mapping] = st
	}
	if n > st.count {
		st.grew = now
	}
	st.count = n
	switch {
	case n == 0:
		// Nothing to hold, but a backfill that lands between this look and
		// the claim would go out unlooked at: claim realtime work only.
		if st.holdAt.IsZero() {
			return true, "", 0
		}
		change = "empty"
	case n >= full:
		change = "full"
	case now.Sub(st.grew) >= backfillQuiet:
		change = "quiet"
	case !st.holdAt.IsZero() && now.Sub(st.holdAt) >= backfillMaxWait:
		change = "max_wait"
	default:
		if st.holdAt.IsZero() {
			st.holdAt = now
			return true, "held", 0
		}
		return true, "", 0
	}
	if st.holdAt.IsZero() {
		return false, "", 0 // was not held: nothing to tell
	}
	held = now.Sub(st.holdAt)
	st.holdAt = time.Time{}
	return n == 0, change, held
}
