package engine

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/salesforce"
)

// Bulk jobs in flight. A Bulk job runs in Salesforce on its own: if the
// process that created it is killed, the job may still be open or running,
// and a job that finishes after a newer push of the same records would
// write old data over new. So every job is noted in the store before its
// data is sent (Ledger.AddBulkJob) and forgotten once its results are
// collected; a failed call aborts what it left unfinished; and a starting
// engine aborts the unfinished jobs of processes gone (the records are
// still queued in the store and are pushed again).

// BulkJobControl is an optional capability of an API: looking at and
// aborting Bulk jobs, for the recovery of jobs orphaned by a kill.
type BulkJobControl interface {
	// BulkJobState returns the job's state ("Open", "InProgress",
	// "JobComplete", ...); found is false when the org no longer knows it.
	BulkJobState(ctx context.Context, id string) (state string, found bool, err error)
	// AbortBulkJob aborts an unfinished job.
	AbortBulkJob(ctx context.Context, id string) error
}

// BulkJobLister is an optional capability of an API: listing the org's
// Bulk ingest jobs, to find one a killed process created but had no time
// to note.
type BulkJobLister interface {
	IngestJobs(ctx context.Context) ([]salesforce.JobInfo, error)
}

// A job is noted right after Salesforce created it; a process killed in
// between leaves a job no ledger row names. So bulkJobs first notes an
// intent: a ledger row whose ID starts with intentPrefix, for the object,
// renewed while it runs and forgotten when it returns. The intent of a
// process gone makes settleBulkJobs abort the org's Open jobs of that
// object, created around the intent's last note and named by no row.
const intentPrefix = "intent/"

// IsBulkIntent reports whether a ledger row is an intent, not a job.
func IsBulkIntent(id string) bool { return strings.HasPrefix(id, intentPrefix) }

type bulkJobsKey struct{}

// withBulkJobs makes the Bulk calls made with ctx hand each new job to note
// before sending its data.
func withBulkJobs(ctx context.Context, note func(salesforce.JobInfo) error) context.Context {
	return context.WithValue(ctx, bulkJobsKey{}, note)
}

// bulkJobHook is what SalesforceAPI gives salesforce.BulkConfig.OnJob.
func bulkJobHook(ctx context.Context) func(salesforce.JobInfo) error {
	note, _ := ctx.Value(bulkJobsKey{}).(func(salesforce.JobInfo) error)
	return note
}

// bulkUpsert runs a Bulk upsert whose jobs are noted in the store while
// they run.
func (e *Engine) bulkUpsert(ctx context.Context, p *Pipe, obj, ext string, fields []string, recs []salesforce.Record) (map[string]Result, error) {
	return e.bulkJobs(ctx, p, obj, func(bctx context.Context) (map[string]Result, error) {
		return e.api.BulkUpsert(bctx, obj, ext, fields, recs)
	})
}

// bulkJobs runs call, whose Bulk jobs are noted in the store while they
// run and forgotten after; when call fails, the jobs it left unfinished
// are aborted first, so no stale job lands after a newer push. While call
// runs, its jobs are noted again every bulkHeartbeat, so another process
// (a replica of serve, a push) does not take a long job for a dead
// process's and abort it.
func (e *Engine) bulkJobs(ctx context.Context, p *Pipe, obj string, call func(context.Context) (map[string]Result, error)) (map[string]Result, error) {
	var mu sync.Mutex
	intent := intentPrefix + e.cfg.Owner + "/" + strconv.FormatUint(e.intents.Add(1), 10)
	ids := []string{intent} // the intent, then the jobs: all renewed while call runs
	note := func(id string) error {
		return e.store.AddBulkJob(ctx, forcesync.BulkJobRef{Connection: e.cfg.Connection, ID: id, Owner: e.cfg.Owner,
			Mapping: p.Mapping.Name, Object: obj, Created: e.cfg.Now()})
	}
	if err := note(intent); err != nil {
		return nil, fmt.Errorf("note a Bulk job about to be created: %w", err)
	}
	bctx := withBulkJobs(ctx, func(info salesforce.JobInfo) error {
		mu.Lock()
		ids = append(ids, info.ID)
		mu.Unlock()
		return note(info.ID)
	})
	stop := make(chan struct{})
	beats := make(chan struct{})
	go func() {
		defer close(beats)
		t := time.NewTicker(e.bulkHeartbeat())
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				mu.Lock()
				live := append([]string(nil), ids...)
				mu.Unlock()
				for _, id := range live {
					if err := note(id); err != nil && ctx.Err() == nil {
						e.cfg.Logger.Warn("noting a running Bulk job again", "event", "bulk.ledger_error", "connection", e.cfg.Connection, "job", id, "err", err)
					}
				}
			}
		}
	}()
	res, err := call(bctx)
	close(stop)
	<-beats
	mu.Lock()
	done := append([]string(nil), ids...)
	mu.Unlock()
	// Forget the jobs even when ctx ended; a failed call first aborts what
	// it left unfinished, so no stale job lands after a newer push.
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	for _, id := range done {
		if err != nil && id != intent {
			e.abortUnfinished(fctx, id)
		}
		if rerr := e.store.RemoveBulkJob(fctx, e.cfg.Connection, id); rerr != nil {
			e.cfg.Logger.Warn("forgetting a Bulk job", "event", "bulk.ledger_error", "connection", e.cfg.Connection, "job", id, "err", rerr)
		}
	}
	return res, err
}

// bulkHeartbeat is how often a running job is noted again: a third of the
// lease, at most 5 s, so it stays well inside the age after which another
// process, whatever its own lease, counts the job as orphaned.
func (e *Engine) bulkHeartbeat() time.Duration {
	d := e.cfg.Lease / 3
	if d > 5*time.Second {
		d = 5 * time.Second
	}
	if d < 50*time.Millisecond {
		d = 50 * time.Millisecond
	}
	return d
}

// abortUnfinished aborts a job unless it is finished; it reports the state
// it found ("" when unknown).
func (e *Engine) abortUnfinished(ctx context.Context, id string) (string, bool) {
	ctl, ok := e.api.(BulkJobControl)
	if !ok {
		return "", false
	}
	state, found, err := ctl.BulkJobState(ctx, id)
	if err != nil {
		e.cfg.Logger.Warn("looking at a Bulk job", "event", "bulk.job_error", "connection", e.cfg.Connection, "job", id, "err", err)
		return "", false
	}
	if !found {
		return "gone", true
	}
	if salesforce.JobState(state).Terminal() {
		return state, true
	}
	if err := ctl.AbortBulkJob(ctx, id); err != nil {
		e.cfg.Logger.Warn("aborting a Bulk job", "event", "bulk.job_error", "connection", e.cfg.Connection, "job", id, "err", err)
		return state, false
	}
	return state, true
}

// recoverBulkJobs settles the jobs other processes last noted more than
// minAge ago (their work's leases have run out by then, so they count as
// gone): an unfinished job is aborted, a finished one forgotten. A job the
// org cannot be asked about now stays noted for the next pass.
func (e *Engine) recoverBulkJobs(ctx context.Context, minAge time.Duration) {
	now := e.cfg.Now()
	e.settleBulkJobs(ctx, "Bulk job left by a stopped process", func(j forcesync.BulkJobRef) bool { return now.Sub(j.Created) >= minAge })
}

// settleBulkJobs settles the jobs other owners noted for which orphaned
// says yes: an unfinished job is aborted, a finished one forgotten; a job
// the org cannot be asked about now stays noted for the next pass.
func (e *Engine) settleBulkJobs(ctx context.Context, msg string, orphaned func(forcesync.BulkJobRef) bool) {
	jobs, err := e.store.BulkJobs(ctx, e.cfg.Connection)
	if err != nil {
		e.cfg.Logger.Warn("listing Bulk jobs in flight", "event", "bulk.ledger_error", "connection", e.cfg.Connection, "err", err)
		return
	}
	var (
		seen   []salesforce.JobInfo
		listed bool
	)
	noted := make(map[string]bool, len(jobs))
	for _, j := range jobs {
		noted[j.ID] = true
	}
	for _, j := range jobs {
		if j.Owner == e.cfg.Owner || !orphaned(j) {
			continue
		}
		if IsBulkIntent(j.ID) {
			if !listed {
				seen, err = e.listIngestJobs(ctx)
				if err != nil {
					e.cfg.Logger.Warn("listing the org's Bulk jobs", "event", "bulk.job_error", "connection", e.cfg.Connection, "err", err)
					return // the intents stay noted for the next pass
				}
				listed = true
			}
			e.settleIntent(ctx, msg, j, seen, noted)
			continue
		}
		state, ok := e.abortUnfinished(ctx, j.ID)
		if !ok {
			continue
		}
		action := "forgotten"
		if state != "gone" && !salesforce.JobState(state).Terminal() {
			action = "aborted"
		}
		e.cfg.Logger.Warn(msg, "event", "bulk.orphan", "connection", e.cfg.Connection,
			"job", j.ID, "mapping", j.Mapping, "owner", j.Owner, "state", state, "action", action)
		if err := e.store.RemoveBulkJob(ctx, e.cfg.Connection, j.ID); err != nil {
			e.cfg.Logger.Warn("forgetting a Bulk job", "event", "bulk.ledger_error", "connection", e.cfg.Connection, "job", j.ID, "err", err)
		}
	}
}

// listIngestJobs lists the org's ingest jobs; none when the API cannot.
func (e *Engine) listIngestJobs(ctx context.Context) ([]salesforce.JobInfo, error) {
	l, ok := e.api.(BulkJobLister)
	if !ok {
		return nil, nil
	}
	return l.IngestJobs(ctx)
}

// intentSkew is how far Salesforce's clock and ours may differ when the
// jobs of a gone process's intent are looked for.
const intentSkew = 2 * time.Minute

// settleIntent aborts the Open jobs of the intent's object that no ledger
// row names and that Salesforce created around the intent's last note (the
// process died within a heartbeat of it), then forgets the intent.
func (e *Engine) settleIntent(ctx context.Context, msg string, in forcesync.BulkJobRef, seen []salesforce.JobInfo, noted map[string]bool) {
	from, to := in.Created.Add(-intentSkew), in.Created.Add(e.bulkHeartbeat()+intentSkew)
	for _, j := range seen {
		if j.State != salesforce.JobOpen || noted[j.ID] || !strings.EqualFold(j.Object, in.Object) {
			continue
		}
		created, err := salesforce.ParseDateTime(j.CreatedDate)
		if err != nil || created.Before(from) || created.After(to) {
			continue
		}
		state, ok := e.abortUnfinished(ctx, j.ID)
		if !ok {
			continue
		}
		e.cfg.Logger.Warn(msg, "event", "bulk.orphan", "connection", e.cfg.Connection,
			"job", j.ID, "mapping", in.Mapping, "owner", in.Owner, "state", state, "action", "aborted", "noted", false)
	}
	if err := e.store.RemoveBulkJob(ctx, e.cfg.Connection, in.ID); err != nil {
		e.cfg.Logger.Warn("forgetting a Bulk job", "event", "bulk.ledger_error", "connection", e.cfg.Connection, "job", in.ID, "err", err)
	}
}

// IngestJobs implements BulkJobLister.
func (a *SalesforceAPI) IngestJobs(ctx context.Context) ([]salesforce.JobInfo, error) {
	return a.Client.Bulk(salesforce.BulkConfig{}).IngestJobs(ctx)
}

// BulkJobState implements BulkJobControl.
func (a *SalesforceAPI) BulkJobState(ctx context.Context, id string) (string, bool, error) {
	info, err := a.Client.Bulk(salesforce.BulkConfig{}).IngestJobInfo(ctx, id)
	var ae *salesforce.APIError
	if errors.As(err, &ae) && ae.Status == http.StatusNotFound {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	return string(info.State), true, nil
}

// AbortBulkJob implements BulkJobControl.
func (a *SalesforceAPI) AbortBulkJob(ctx context.Context, id string) error {
	_, err := a.Client.Bulk(salesforce.BulkConfig{}).AbortJob(ctx, id)
	return err
}
