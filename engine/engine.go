package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/mapping"
	"github.com/forcesync/forcesync/salesforce"
)

// Config tunes an Engine. The zero value of every field is its default.
type Config struct {
	// Owner names this process in leases; empty means a random name.
	Owner string
	// Lease is how long a claimed batch is ours before others may take it
	// (a crashed process's work comes back after it). Zero means 2 minutes.
	Lease time.Duration
	// BulkThreshold is how many ready records of one External ID mapping
	// make a batch go through Bulk API 2.0 instead of Collections. Zero
	// means 2,000; a negative value turns Bulk off.
	BulkThreshold int
	// BulkBatch is the most records one Bulk job takes (at least
	// BulkThreshold). Zero means 10,000.
	BulkBatch int
	// APIShare is the share of the org's daily API allowance the engine may
	// spend (0 < share <= 1). Zero means 0.5.
	APIShare float64
	// Idle is how long a worker waits for new work when there is none,
	// unless woken by Notify. Zero means one second.
	Idle time.Duration
	// MaxBackoff caps the delay between retries of a transient error. Zero
	// means 10 minutes.
	MaxBackoff time.Duration
	// Workers is how many batches are pushed at once. Zero means 2.
	Workers int
	Now     func() time.Time
	Logger  *slog.Logger
}

// Engine pushes accepted changes to Salesforce.
//
// Delivery contract: at least once. A record is marked synced only after
// Salesforce accepted it, in the same store transaction that records its
// binding. An upsert by External ID makes a resend harmless; a match by
// fields queries Salesforce before every create, so a create that reached
// Salesforce before a crash is found and updated instead of duplicated.
type Engine struct {
	cfg    Config
	store  forcesync.Store
	api    API
	pipes  []*Pipe
	wakeMu sync.Mutex
	wake   chan struct{} // closed by Notify; nil until a worker waits
	mu     sync.Mutex
	paused string // why the governor paused pushing; "" when running
	rnd    *rand.Rand
	rndMu  sync.Mutex
	// deferredUntil is the latest retry time (Unix ms) of a record put off
	// for a twin during a Drain; zero when none.
	deferredUntil atomic.Int64
}

// Pipe is one compiled mapping the engine serves.
type Pipe struct {
	Mapping  forcesync.Mapping
	Compiled *mapping.Compiled
}

// New builds an engine. Mappings are compiled against their objects'
// describes; a mapping that cannot compile is an error naming it.
func New(ctx context.Context, store forcesync.Store, api API, mappings []forcesync.Mapping, cfg Config) (*Engine, error) {
	if cfg.Owner == "" {
		cfg.Owner = fmt.Sprintf("forcesync-%08x", rand.Uint32())
	}
	if cfg.Lease <= 0 {
		cfg.Lease = 2 * time.Minute
	}
	if cfg.BulkThreshold == 0 {
		cfg.BulkThreshold = 2000
	}
	if cfg.BulkBatch <= 0 {
		cfg.BulkBatch = 10000
	}
	if cfg.APIShare <= 0 || cfg.APIShare > 1 {
		cfg.APIShare = 0.5
	}
	if cfg.Idle <= 0 {
		cfg.Idle = time.Second
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 10 * time.Minute
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 2
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	e := &Engine{cfg: cfg, store: store, api: api,
		rnd: rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))}
	for _, m := range mappings {
		d, err := api.Describe(ctx, m.Object)
		if err != nil {
			return nil, fmt.Errorf("mapping %s: describe %s: %w", m.Name, m.Object, err)
		}
		c, err := mapping.Compile(m, d)
		if err != nil {
			return nil, err
		}
		changed, err := store.MappingVersion(ctx, m.Name, c.Version())
		if err != nil {
			return nil, err
		}
		if changed {
			// Records held under the old mapping get another chance.
			n, err := store.Requeue(ctx, m.Name, nil)
			if err != nil {
				return nil, err
			}
			cfg.Logger.Info("mapping changed; held records requeued", "mapping", m.Name, "records", n)
		}
		e.pipes = append(e.pipes, &Pipe{Mapping: m, Compiled: c})
	}
	return e, nil
}

// Pipes returns the compiled mappings.
func (e *Engine) Pipes() []*Pipe { return e.pipes }

// MappingsFor returns the names of the mappings fed by a source.
func (e *Engine) MappingsFor(source string) []string {
	var out []string
	for _, p := range e.pipes {
		if p.Mapping.Source == source {
			out = append(out, p.Mapping.Name)
		}
	}
	return out
}

// Notify wakes idle workers: new work was accepted. Every worker waiting
// at the time wakes once; a worker that is busy looks for work anyway when
// it finishes its batch.
func (e *Engine) Notify() {
	e.wakeMu.Lock()
	if e.wake != nil {
		close(e.wake)
		e.wake = nil
	}
	e.wakeMu.Unlock()
}

// woken returns a channel closed by the next Notify. A worker takes it
// before it looks for work, so a Notify during the look is not lost.
func (e *Engine) woken() <-chan struct{} {
	e.wakeMu.Lock()
	defer e.wakeMu.Unlock()
	if e.wake == nil {
		e.wake = make(chan struct{})
	}
	return e.wake
}

// Paused says why the budget governor stopped pushing, or "".
func (e *Engine) Paused() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.paused
}

// Run pushes work until ctx ends. Each worker serves every mapping in turn.
func (e *Engine) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for w := 0; w < e.cfg.Workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			owner := fmt.Sprintf("%s/%d", e.cfg.Owner, w)
			for {
				woken := e.woken()
				n, err := e.step(ctx, owner)
				if ctx.Err() != nil {
					return
				}
				if err != nil {
					e.cfg.Logger.Error("push step failed", "err", err)
				}
				if n > 0 && err == nil {
					continue
				}
				t := time.NewTimer(e.cfg.Idle)
				select {
				case <-ctx.Done():
					t.Stop()
					return
				case <-woken:
				case <-t.C:
				}
				t.Stop()
			}
		}(w)
	}
	wg.Wait()
	return nil
}

// Drain pushes until no work is due, with the configured number of
// workers, for the CLI and tests. It returns how many records it handled.
// Records a worker put off because another worker was matching a twin are
// waited for, so a drain leaves nothing it deferred itself.
func (e *Engine) Drain(ctx context.Context) (int, error) {
	var total atomic.Int64
	for {
		e.deferredUntil.Store(0)
		var wg sync.WaitGroup
		errs := make([]error, e.cfg.Workers)
		for w := range e.cfg.Workers {
			owner := e.cfg.Owner
			if e.cfg.Workers > 1 {
				owner = fmt.Sprintf("%s/%d", e.cfg.Owner, w)
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					n, err := e.step(ctx, owner)
					total.Add(int64(n))
					if err != nil {
						errs[w] = err
						return
					}
					if n == 0 {
						return
					}
				}
			}()
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return int(total.Load()), err
		}
		until := e.deferredUntil.Load()
		if until == 0 {
			return int(total.Load()), nil
		}
		// Wait until they are due (by the engine's clock, at most matchWait).
		t := time.NewTimer(min(max(time.UnixMilli(until).Sub(e.cfg.Now()), 0), matchWait))
		select {
		case <-ctx.Done():
			t.Stop()
			return int(total.Load()), ctx.Err()
		case <-t.C:
		}
	}
}

// step claims and pushes one batch of each mapping; it returns how many
// records it handled.
func (e *Engine) step(ctx context.Context, owner string) (int, error) {
	if why := e.governor(); why != "" {
		return 0, nil
	}
	total := 0
	var errs []error
	for _, p := range e.pipes {
		n, err := e.pushBatch(ctx, owner, p)
		total += n
		if err != nil {
			errs = append(errs, fmt.Errorf("mapping %s: %w", p.Mapping.Name, err))
		}
	}
	return total, errors.Join(errs...)
}

// matchWait is how long a record waits when another worker is matching a
// record with the same match value.
const matchWait = time.Second

// deferUntil notes that a record was put off until t, for Drain.
func (e *Engine) deferUntil(t time.Time) {
	v := t.UnixMilli() + 1
	for {
		cur := e.deferredUntil.Load()
		if cur >= v || e.deferredUntil.CompareAndSwap(cur, v) {
			return
		}
	}
}

// governor decides whether the budget allows another call.
func (e *Engine) governor() string {
	used, max := e.api.Usage()
	why := ""
	if max > 0 && float64(used) >= e.cfg.APIShare*float64(max) {
		why = fmt.Sprintf("API budget spent: %d of %d calls used, share %.0f%%", used, max, e.cfg.APIShare*100)
	}
	e.mu.Lock()
	if why != e.paused {
		if why != "" {
			e.cfg.Logger.Warn("pausing pushes", "reason", why)
		}
		e.paused = why
	}
	e.mu.Unlock()
	return why
}

// backoff returns the delay before the attempt-th retry: exponential from
// one second, jittered by up to half, capped.
func (e *Engine) backoff(attempt int) time.Duration {
	d := time.Second << min(attempt, 20)
	if d > e.cfg.MaxBackoff || d <= 0 {
		d = e.cfg.MaxBackoff
	}
	e.rndMu.Lock()
	j := time.Duration(e.rnd.Int64N(int64(d/2) + 1))
	e.rndMu.Unlock()
	return d/2 + j
}

// work is one claimed item on its way through a batch.
type work struct {
	item      forcesync.WorkItem
	payload   mapping.Payload
	out       forcesync.Outcome
	done      bool
	created   bool // Salesforce created the record in this batch
	unchanged bool // settled without a call: nothing changed
}

func (w *work) finish(state forcesync.State, err *forcesync.RecordError) {
	w.out.State = state
	w.out.Error = err
	w.done = true
}

// pushBatch claims one batch of a mapping and pushes it.
func (e *Engine) pushBatch(ctx context.Context, owner string, p *Pipe) (int, error) {
	size := p.Mapping.BatchSize
	if size <= 0 || size > 200 {
		size = 200
	}
	// An External ID mapping claims up to a Bulk job's worth; when the claim
	// reaches the threshold it goes through Bulk API 2.0, otherwise through
	// Collections in calls of size. Deciding on what was claimed (rather
	// than on a count of the backlog) costs no extra query and ignores work
	// that is waiting for a retry.
	limit := size
	bulkOK := e.cfg.BulkThreshold > 0 && p.Mapping.Match.Kind == forcesync.MatchExternalID
	if bulkOK {
		limit = max(e.cfg.BulkBatch, e.cfg.BulkThreshold)
	}
	now := e.cfg.Now()
	items, err := e.store.Claim(ctx, forcesync.ClaimRequest{Mapping: p.Mapping.Name, Owner: owner, Lease: e.cfg.Lease, Limit: limit, Now: now})
	if err != nil || len(items) == 0 {
		return 0, err
	}
	useBulk := bulkOK && len(items) >= e.cfg.BulkThreshold
	run := &forcesync.Run{Mapping: p.Mapping.Name, API: "collections", Started: now, Records: len(items)}
	if useBulk {
		run.API = "bulk"
	}
	calls0 := e.api.Calls()
	ws := make([]*work, len(items))
	for i, it := range items {
		ws[i] = &work{item: it, out: forcesync.Outcome{Item: it}}
	}
	e.prepare(p, ws)
	var callErr error
	switch p.Mapping.Match.Kind {
	case forcesync.MatchExternalID:
		callErr = e.pushUpserts(ctx, p, ws, useBulk, size)
	default:
		callErr = e.pushMatched(ctx, owner, p, ws)
	}
	if callErr == nil {
		callErr = e.pushDeletes(ctx, p, ws)
	}
	outs := make([]forcesync.Outcome, 0, len(ws))
	for _, w := range ws {
		if !w.done {
			// Not reached because a whole call failed: try again later.
			re, _ := recordError(callErr)
			if callErr == nil {
				re = &forcesync.RecordError{Code: "NOT_ATTEMPTED", Message: "not attempted"}
			}
			w.out.State, w.out.Error = forcesync.StateRetrying, re
		}
		if w.out.State == forcesync.StateRetrying && w.out.NextAttempt.IsZero() {
			if w.out.Error != nil && w.out.Error.Code == codeInterrupted {
				w.out.NextAttempt = e.cfg.Now() // not Salesforce's doing: no backoff
			} else {
				w.out.NextAttempt = e.cfg.Now().Add(e.backoff(w.item.Attempts))
			}
		}
		countRun(run, w)
		outs = append(outs, w.out)
	}
	run.Finished = e.cfg.Now()
	run.APICalls = int(e.api.Calls() - calls0)
	// Commit even when the context ended: Salesforce already has the data.
	if err := e.store.Complete(context.WithoutCancel(ctx), owner, outs, run); err != nil {
		return len(items), err
	}
	if used, max := e.api.Usage(); max > 0 {
		_ = e.store.RecordAPIUsage(context.WithoutCancel(ctx), forcesync.APIUsage{Connection: p.Mapping.Connection,
			Used: used, Max: max, Calls: map[string]int{run.API: run.APICalls}, At: run.Finished})
	}
	if callErr != nil && !salesforce.Retryable(callErr) {
		return len(items), callErr
	}
	return len(items), nil
}

func countRun(run *forcesync.Run, w *work) {
	switch w.out.State {
	case forcesync.StateSynced:
		switch {
		case w.created:
			run.Created++
		case w.unchanged:
			run.Unchanged++
		default:
			run.Updated++
		}
	case forcesync.StateDeleted:
		run.Deleted++
	case forcesync.StateSkipped:
		run.Skipped++
	case forcesync.StateHeld, forcesync.StateRetrying:
		run.Failed++
	}
}

// prepare applies the filter, compiles payloads and settles every item that
// needs no API call: skipped, unchanged, still held, not allowed.
func (e *Engine) prepare(p *Pipe, ws []*work) {
	c := p.Compiled
	for _, w := range ws {
		it := w.item
		bound := it.Binding != nil && it.Binding.SalesforceID != ""
		if bound {
			w.out.SalesforceID = it.Binding.SalesforceID
		}
		if it.Op == forcesync.OpDelete {
			if !c.DeletesInSalesforce() || !bound {
				w.out.Unbind = bound && c.DeletesInSalesforce()
				w.finish(forcesync.StateSkipped, nil)
			}
			continue
		}
		ok, err := c.Filter(it.Fields)
		if err != nil {
			w.finish(forcesync.StateHeld, &forcesync.RecordError{Code: "FILTER_ERROR", Message: err.Error()})
			continue
		}
		if !ok {
			w.finish(forcesync.StateSkipped, nil)
			continue
		}
		if bound && !c.CanUpdate() {
			w.out.Fingerprint = it.Binding.Fingerprint
			w.unchanged = true
			w.finish(forcesync.StateSynced, nil)
			continue
		}
		pl, err := c.PayloadFor(it.Key, it.Fields, !bound)
		if err != nil {
			var re *forcesync.RecordError
			if !errors.As(err, &re) {
				re = &forcesync.RecordError{Code: "MAPPING_ERROR", Message: err.Error()}
			}
			w.out.Fingerprint = ""
			w.finish(forcesync.StateHeld, re)
			continue
		}
		w.payload = pl
		if p.Mapping.Match.Kind == forcesync.MatchExternalID {
			// Only the payload is sent from here on (a match by fields
			// builds payloads again): let a big batch's source fields go.
			w.item.Fields, w.out.Item.Fields = nil, nil
		}
		w.out.Warnings = pl.Warnings
		w.out.Fingerprint = pl.Fingerprint
		if bound && !it.Forced && it.Binding.Fingerprint == pl.Fingerprint {
			w.unchanged = true
			w.finish(forcesync.StateSynced, nil) // no change: no call
			continue
		}
		if !it.Forced && it.HeldFingerprint != "" && it.HeldFingerprint == pl.Fingerprint {
			w.finish(forcesync.StateHeld, &forcesync.RecordError{Code: "HELD", Message: "unchanged since Salesforce refused it; change the record or the mapping, or retry it"})
			continue
		}
		if !bound && !c.CanCreate() && p.Mapping.Match.Kind == forcesync.MatchBinding {
			w.finish(forcesync.StateSkipped, nil)
		}
	}
}

// settle records a call's result for a work item.
func (e *Engine) settle(w *work, r Result, created bool) {
	switch {
	case r.Err == nil:
		w.out.SalesforceID = r.ID
		w.created = created
		if w.payload.UpdateFingerprint != "" {
			// The record is bound from now on, so its next change is
			// compared as an update: store the update-time fingerprint,
			// also when an upsert built for a create found the record
			// (say, created by a call whose answer was lost).
			w.out.Fingerprint = w.payload.UpdateFingerprint
		}
		w.finish(forcesync.StateSynced, nil)
	case r.Retryable:
		w.finish(forcesync.StateRetrying, r.Err)
	default:
		w.finish(forcesync.StateHeld, r.Err)
	}
}

// pushUpserts sends External ID upserts, through Collections or Bulk.
func (e *Engine) pushUpserts(ctx context.Context, p *Pipe, ws []*work, useBulk bool, size int) error {
	c := p.Compiled
	ext := c.ExternalIDField()
	var todo []*work
	for _, w := range ws {
		if w.done || w.item.Op == forcesync.OpDelete {
			continue
		}
		bound := w.item.Binding != nil && w.item.Binding.SalesforceID != ""
		if !bound && !c.CanCreate() {
			// Update only: update the bound twin or leave it.
			w.finish(forcesync.StateSkipped, nil)
			continue
		}
		todo = append(todo, w)
	}
	if len(todo) == 0 {
		return nil
	}
	if useBulk {
		recs := make([]salesforce.Record, len(todo))
		fieldSet := map[string]bool{}
		var fields []string
		for i, w := range todo {
			recs[i] = salesforce.Record(w.payload.Fields)
			for k := range w.payload.Fields {
				if !fieldSet[k] {
					fieldSet[k] = true
					fields = append(fields, k)
				}
			}
			w.payload.Fields = nil // recs holds it until it is sent
		}
		res, err := e.api.BulkUpsert(ctx, c.Object(), ext, fields, recs)
		if err != nil {
			return err
		}
		for _, w := range todo {
			r, ok := res[w.payload.ExternalID]
			if !ok {
				w.finish(forcesync.StateRetrying, &forcesync.RecordError{Code: "UNPROCESSED", Message: "Bulk job did not process the record"})
				continue
			}
			e.settle(w, r, r.Created)
		}
		return nil
	}
	for lo := 0; lo < len(todo); lo += size {
		chunk := todo[lo:min(lo+size, len(todo))]
		recs := make([]salesforce.Record, len(chunk))
		for i, w := range chunk {
			recs[i] = salesforce.Record(copyMap(w.payload.Fields))
		}
		res, err := e.api.Upsert(ctx, c.Object(), ext, recs)
		if err != nil {
			return err
		}
		for i, w := range chunk {
			e.settle(w, res[i], res[i].Created)
		}
	}
	return nil
}

func copyMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m)+1)
	for k, v := range m {
		out[k] = v
	}
	return out
}

// pushMatched serves MatchFields and MatchBinding mappings: update bound
// records by Id; find unbound ones by their match field (one query per
// batch), then update the match or create.
func (e *Engine) pushMatched(ctx context.Context, owner string, p *Pipe, ws []*work) error {
	c := p.Compiled
	obj := c.Object()
	var updates, unbound []*work
	for _, w := range ws {
		if w.done || w.item.Op == forcesync.OpDelete {
			continue
		}
		if w.item.Binding != nil && w.item.Binding.SalesforceID != "" {
			updates = append(updates, w)
		} else {
			unbound = append(unbound, w)
		}
	}
	var creates []*work
	var held []string // match values this batch holds until it returns
	defer func() {
		if len(held) == 0 {
			return
		}
		if err := e.store.ReleaseMatches(context.WithoutCancel(ctx), p.Mapping.Name, owner, held); err != nil {
			// The holds run out with the lease; until then twins wait.
			e.cfg.Logger.Warn("releasing match holds", "mapping", p.Mapping.Name, "err", err)
		}
	}()
	if p.Mapping.Match.Kind == forcesync.MatchFields && len(unbound) > 0 {
		field := p.Mapping.Match.Fields[0]
		seen := map[string]*work{}
		var cands []*work
		var lvs []string
		for _, w := range unbound {
			v := matchValue(w.payload.Match, field)
			if v == "" {
				if !c.CanCreate() {
					w.finish(forcesync.StateSkipped, nil)
				} else {
					creates = append(creates, w)
				}
				continue
			}
			lv := strings.ToLower(v)
			if first, dup := seen[lv]; dup {
				// Two records share the match value: the first goes now,
				// this one next time, when it will find the first's twin.
				w.finish(forcesync.StateRetrying, &forcesync.RecordError{Code: "MATCH_PENDING", Message: "waiting for record " + first.item.Key + " with the same " + field})
				w.out.NextAttempt = e.cfg.Now()
				continue
			}
			seen[lv] = w
			cands, lvs = append(cands, w), append(lvs, lv)
		}
		// Hold the values in the store, so no other worker of any process
		// sharing it looks them up (and creates) until this batch is done.
		now := e.cfg.Now()
		got, err := e.store.HoldMatches(ctx, p.Mapping.Name, owner, lvs, now, now.Add(e.cfg.Lease))
		if err != nil {
			return err
		}
		held = got
		granted := make(map[string]bool, len(got))
		for _, v := range got {
			granted[v] = true
		}
		var values []string
		for i, w := range cands {
			if !granted[lvs[i]] {
				// Another worker is matching (and maybe creating) a record
				// with this value right now: look again once it is done.
				w.finish(forcesync.StateRetrying, &forcesync.RecordError{Code: "MATCH_PENDING", Message: "another batch is matching a record with the same " + field})
				w.out.NextAttempt = now.Add(matchWait)
				e.deferUntil(w.out.NextAttempt)
				continue
			}
			values = append(values, matchValue(w.payload.Match, field))
		}
		found, err := e.api.FindBy(ctx, obj, field, values)
		if err != nil {
			return err
		}
		for _, w := range unbound {
			if w.done || matchValue(w.payload.Match, field) == "" {
				continue
			}
			ids := found[strings.ToLower(matchValue(w.payload.Match, field))]
			if len(ids) > 0 {
				w.out.SalesforceID = ids[0]
				if !c.CanUpdate() {
					w.finish(forcesync.StateSynced, nil)
					continue
				}
				// Matched: the update payload, not the create one.
				pl, err := c.PayloadFor(w.item.Key, w.item.Fields, false)
				if err != nil {
					var re *forcesync.RecordError
					if !errors.As(err, &re) {
						re = &forcesync.RecordError{Code: "MAPPING_ERROR", Message: err.Error()}
					}
					w.finish(forcesync.StateHeld, re)
					continue
				}
				w.payload = pl
				w.out.Fingerprint = pl.Fingerprint
				w.item.Binding = &forcesync.Binding{SalesforceID: ids[0]}
				updates = append(updates, w)
				continue
			}
			if !c.CanCreate() {
				w.finish(forcesync.StateSkipped, nil)
				continue
			}
			creates = append(creates, w)
		}
	} else {
		for _, w := range unbound {
			switch {
			case !c.CanCreate():
				w.finish(forcesync.StateSkipped, nil)
			case w.item.Intent != nil && !w.item.Forced:
				// A create for this key may have reached Salesforce before a
				// crash, and a binding-only mapping has nothing to look it up
				// by: hold it rather than risk a duplicate. A retry (forced)
				// creates it.
				w.finish(forcesync.StateHeld, &forcesync.RecordError{Code: "CREATE_UNCERTAIN",
					Message: "a create may have reached Salesforce before a crash; check for the record, then retry it to create it"})
			default:
				creates = append(creates, w)
			}
		}
	}
	for lo := 0; lo < len(updates); lo += 200 {
		chunk := updates[lo:min(lo+200, len(updates))]
		recs := make([]salesforce.Record, len(chunk))
		for i, w := range chunk {
			r := copyMap(w.payload.Fields)
			r["attributes"] = map[string]any{"type": obj}
			r["Id"] = w.item.Binding.SalesforceID
			recs[i] = r
		}
		res, err := e.api.Update(ctx, obj, recs)
		if err != nil {
			return err
		}
		for i, w := range chunk {
			if res[i].ID == "" {
				res[i].ID = w.item.Binding.SalesforceID
			}
			e.settle(w, res[i], false)
		}
	}
	if len(creates) > 0 {
		// Note the creates in flight first: after a crash the match query
		// (or, for binding-only mappings, the intent) tells us what landed.
		intents := make([]forcesync.Intent, len(creates))
		for i, w := range creates {
			intents[i] = forcesync.Intent{Key: w.item.Key, Match: w.payload.Match}
		}
		if err := e.store.RecordIntents(ctx, p.Mapping.Name, intents); err != nil {
			return err
		}
	}
	for lo := 0; lo < len(creates); lo += 200 {
		chunk := creates[lo:min(lo+200, len(creates))]
		recs := make([]salesforce.Record, len(chunk))
		for i, w := range chunk {
			r := copyMap(w.payload.Fields)
			r["attributes"] = map[string]any{"type": obj}
			recs[i] = r
		}
		res, err := e.api.Create(ctx, obj, recs)
		if err != nil {
			return err
		}
		for i, w := range chunk {
			e.settle(w, res[i], true)
		}
	}
	return nil
}

func matchValue(m map[string]string, field string) string {
	for k, v := range m {
		if strings.EqualFold(k, field) {
			return v
		}
	}
	return ""
}

// pushDeletes deletes the twins of deleted source records.
func (e *Engine) pushDeletes(ctx context.Context, p *Pipe, ws []*work) error {
	var dels []*work
	for _, w := range ws {
		if !w.done && w.item.Op == forcesync.OpDelete {
			dels = append(dels, w)
		}
	}
	for lo := 0; lo < len(dels); lo += 200 {
		chunk := dels[lo:min(lo+200, len(dels))]
		ids := make([]string, len(chunk))
		for i, w := range chunk {
			ids[i] = w.item.Binding.SalesforceID
		}
		res, err := e.api.Delete(ctx, ids)
		if err != nil {
			return err
		}
		for i, w := range chunk {
			r := res[i]
			if r.Err != nil && (r.Err.Code == "ENTITY_IS_DELETED" || r.Err.Code == "NOT_FOUND" || r.Err.Code == "INVALID_CROSS_REFERENCE_KEY") {
				r.Err = nil // already gone: the goal is met
			}
			if r.Err == nil {
				w.out.Unbind = true
				w.out.SalesforceID = ids[i]
				w.finish(forcesync.StateDeleted, nil)
				continue
			}
			e.settle(w, r, false)
		}
	}
	return nil
}
