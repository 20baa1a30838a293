package engine

import (
	"context"
	"errors"
	"iter"
	"strings"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/salesforce"
)

// The file path of a push (package filepush) streams a file's changed rows
// straight into a Bulk upsert job and records the answers in one set-based
// write (forcesync.PushRecorder), instead of the outbox's accept -> claim
// -> complete round trip. The engine lends it what a batch would use: the
// compiled mapping, the API budget, the Bulk job ledger and the usage.

// StreamBulk is an optional capability of an API: a Bulk upsert whose
// records are read from a sequence as the upload proceeds, so the caller
// never holds them all.
type StreamBulk interface {
	BulkUpsertSeq(ctx context.Context, obj, extField string, fields []string, recs iter.Seq2[salesforce.Record, error]) (map[string]Result, error)
}

// ErrNoFileJob is returned by FileUpsert when the engine cannot run a file
// job for the mapping now (its API cannot stream, the governor paused the
// backfill lane, the schema no longer fits): the caller queues the rows
// through the store instead.
var ErrNoFileJob = errors.New("engine: no Bulk file job now")

// FileJobOK reports whether a file push may send p's rows as its own Bulk
// jobs: an External ID upsert mapping that pushes and creates, without the
// features that need the engine's per-batch work (two-way echo notes,
// passwords, alias filling), on an API that streams Bulk jobs. Rows the
// file path cannot judge on its own still go through the store (filepush
// decides per row; FileJobGuard names one such case).
func (e *Engine) FileJobOK(p *Pipe) bool {
	c := p.Compiled
	if _, ok := e.api.(StreamBulk); !ok {
		return false
	}
	return e.cfg.BulkThreshold > 0 && p.Mapping.Match.Kind == forcesync.MatchExternalID && p.Mapping.Pushes() &&
		c.CanCreate() && c.ExternalIDField() != "" && len(c.Pulls()) == 0 && c.PasswordSource() == "" && !c.AliasFilled()
}

// ForPlanning returns an engine over compiled pipes that only answers what
// a dry-run file push asks (Pipes, FileJobOK, FileJobGuard, BulkThreshold,
// BulkBatch), built without New's store writes (mapping versions,
// requeues, removals, Bulk job recovery). It has no store: it must not
// push, drain or run.
func ForPlanning(api API, pipes []*Pipe, cfg Config) *Engine {
	return &Engine{cfg: cfg.withDefaults(), api: api, pipes: pipes}
}

// FileJobGuard names the mapping whose binding of a record keeps a file
// push from creating that record under p itself: for a Contact mapping,
// the source's Lead mapping (a bound Lead is promoted: converted, or its
// conversion followed, instead of a twin Contact created); for a Lead
// mapping, the source's Contact mapping (a bound Contact is a demotion,
// settled by the Contact mapping's operations.demote). "" when no other
// mapping guards p's creates.
func (e *Engine) FileJobGuard(p *Pipe) string {
	obj := p.Compiled.Object()
	var q *Pipe
	switch {
	case strings.EqualFold(obj, "Contact"):
		q = e.leadPipe(p.Mapping.Source)
	case strings.EqualFold(obj, "Lead"):
		q = e.contactPipe(p.Mapping.Source)
	}
	if q == nil {
		return ""
	}
	return q.Mapping.Name
}

// FileJobRetry reports whether a record error a file push's own job got is
// one the engine handles rather than holds (sflimits.go): the push queues
// such a record for the engine instead of recording it held.
func FileJobRetry(code string) bool { return code == "CANNOT_UPDATE_CONVERTED_LEAD" }

// BulkThreshold is the fewest records sent through Bulk API 2.0; fewer go
// through Collections.
func (e *Engine) BulkThreshold() int { return e.cfg.BulkThreshold }

// FileUpsert runs one Bulk upsert of p with the records of recs (payload
// fields, as mapping.Payload holds them), noted in
// the Bulk job ledger while it runs (a failed call aborts what it left
// unfinished), within the governor's backfill budget, and returns the
// answers keyed by External ID value and the run to record with them
// (API, calls, times; the caller counts the outcomes).
func (e *Engine) FileUpsert(ctx context.Context, p *Pipe, fields []string, recs iter.Seq2[map[string]any, error]) (map[string]Result, *forcesync.Run, error) {
	sb, ok := e.api.(StreamBulk)
	if !ok || e.schemaPaused(p.Mapping.Name) != "" {
		return nil, nil, ErrNoFileJob
	}
	e.observeUsage()
	if b, ok := e.budgetFor(ctx, p); !ok || !b.bulk || b.priority != nil {
		return nil, nil, ErrNoFileJob
	}
	run := &forcesync.Run{Mapping: p.Mapping.Name, API: "bulk", Started: e.cfg.Now()}
	var counter salesforce.CallCounter
	ctx = salesforce.WithCallCounter(ctx, &counter)
	c := p.Compiled
	res, err := e.bulkJobs(ctx, p, c.Object(), func(bctx context.Context) (map[string]Result, error) {
		seq := func(yield func(salesforce.Record, error) bool) {
			for r, err := range recs {
				if !yield(salesforce.Record(r), err) {
					return
				}
			}
		}
		return sb.BulkUpsertSeq(bctx, c.Object(), c.ExternalIDField(), fields, seq)
	})
	run.Finished = e.cfg.Now()
	run.APICalls = counter.Calls()
	e.observeUsage()
	e.gov.Spent(ctx, forcesync.LaneBackfill, run.APICalls)
	if used, max := e.api.Usage(); max > 0 {
		_ = e.store.RecordAPIUsage(context.WithoutCancel(ctx), forcesync.APIUsage{Connection: e.cfg.Connection,
			Used: used, Max: max, Calls: map[string]int{run.API: run.APICalls}, At: run.Finished})
	}
	e.cfg.Metrics.batch(run)
	return res, run, err
}

// RecoverGoneJobs settles, at once rather than a lease later, the Bulk
// jobs noted in the ledger by owners that gone reports stopped: a file push
// calls it before its first job, since a push killed part way may have
// left a job open or running that would otherwise land after the new
// push's data, or stay open. An unfinished job is aborted, a finished one
// forgotten (its records are sent again: the file is the intake).
func (e *Engine) RecoverGoneJobs(ctx context.Context, gone func(owner string) bool) {
	e.settleBulkJobs(ctx, "Bulk job left by a stopped push", func(j forcesync.BulkJobRef) bool { return gone(j.Owner) })
}
