package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/salesforce"
)

// A plan is what the next push would do, found by running the push itself
// (the same claim order, filter, payload compile, fingerprint compare,
// match, Bulk/Collections choice and result handling) against two
// stand-ins: a store that serves the queued work without leasing it and
// keeps every outcome to itself, and an API that answers reads from the
// live org and records writes instead of sending them. Salesforce is only
// read; the store only read. What a plan cannot know is whether
// Salesforce would refuse a payload that passed forcesync's own checks (a
// validation rule, a duplicate rule): it plans such a record as sent.

// PlanOptions tunes Plan. The zero value plans every mapping.
type PlanOptions struct {
	// Mappings limits the plan to these mappings; empty means all.
	Mappings []string
	// Records caps the records listed per mapping (counts are never
	// capped). Zero means 1,000; negative means no cap.
	Records int
}

// Plan is what the next push would do, per mapping.
type Plan struct {
	Mappings []*MappingPlan `json:"mappings"`
}

// MappingPlan is the plan of one mapping.
type MappingPlan struct {
	Mapping string `json:"mapping"`
	Object  string `json:"object"`
	// Changed says the mapping's compiled config differs from the one the
	// store last ran (a new config is being planned): held records are
	// requeued, and Requeued counts them; their fates are in the plan.
	Changed  bool `json:"mapping_changed"`
	Requeued int  `json:"requeued"`
	// Paused says why the running engine stopped pushing this mapping
	// (a schema change it no longer fits); the plan shows what would be
	// pushed once it resumes. Set by the API, which sees the engine.
	Paused string `json:"paused,omitempty"`
	// Counts are the records by action.
	Counts PlanCounts `json:"counts"`
	// Held and Retry count held and put-off records by error code.
	Held  map[string]int `json:"held_by_code"`
	Retry map[string]int `json:"retry_by_code"`
	Calls PlanCalls      `json:"calls"`
	// Records lists each record's fate, in the order push would take them.
	Records []PlannedRecord `json:"records"`
	// Truncated says Records was capped.
	Truncated bool `json:"records_truncated,omitempty"`
}

// PlanCounts are records by action.
type PlanCounts struct {
	Create  int `json:"create"`
	Update  int `json:"update"`
	Delete  int `json:"delete"`
	Disable int `json:"disable"`
	NoOp    int `json:"no_op"`
	Held    int `json:"held"`
	Skipped int `json:"skipped"`
	Retry   int `json:"retry"`
}

// PlanCalls are the API calls the push would spend.
type PlanCalls struct {
	// Collections counts sObject Collections calls (upsert, create,
	// update, delete; up to 200 records each).
	Collections int `json:"collections"`
	// Queries counts the match queries (one per batch of a match-by-fields
	// mapping with unbound records).
	Queries int `json:"queries"`
	// BulkJobs counts Bulk API 2.0 ingest jobs, and Bulk the calls they
	// cost at least (create, upload, close, one poll, results; more polls
	// when Salesforce is slow).
	BulkJobs int `json:"bulk_jobs"`
	Bulk     int `json:"bulk"`
	Total    int `json:"total"`
	// PlanReads is what making this plan spent reading Salesforce.
	PlanReads int `json:"plan_reads"`
}

// Planned actions.
const (
	ActionCreate  = "create"
	ActionUpdate  = "update"
	ActionDelete  = "delete"
	ActionDisable = "disable"
	ActionNoOp    = "no_op"
	ActionHeld    = "held"
	ActionSkip    = "skip"
	ActionRetry   = "retry"
)

// PlannedRecord is the fate of one record.
type PlannedRecord struct {
	Key    string `json:"key"`
	Action string `json:"action"`
	// SalesforceID is the twin updated or deleted ("" for a create).
	SalesforceID string `json:"salesforce_id,omitempty"`
	// API is how it would go: collections, bulk ("" without a call).
	API string `json:"api,omitempty"`
	// Changes are the fields an update changes, Salesforce's value first.
	Changes []FieldChange `json:"changes,omitempty"`
	// Payload is what would be sent (create, update).
	Payload map[string]any `json:"payload,omitempty"`
	// Code and Message explain held, retried and skipped records.
	Code    string `json:"code,omitempty"`
	Message string `json:"message,omitempty"`
}

// FieldChange is one field an update changes.
type FieldChange struct {
	Field string `json:"field"`
	Old   any    `json:"old"`
	New   any    `json:"new"`
}

// Planner plans pushes of compiled mappings. It needs a store that is an
// forcesync.Inspector and an API that is a Reader.
type Planner struct {
	cfg   Config
	store forcesync.Store
	in    forcesync.Inspector
	api   API
	rd    Reader
	pipes []*Pipe
	gov   *Governor
}

// WithGovernor makes the planner ask g before reading and charge g what it
// spent (the backfill lane), like the pushes of g's connection. Without
// one, Plan makes a governor over the store's ledger with the default
// bounds.
func (pl *Planner) WithGovernor(g *Governor) *Planner {
	pl.gov = g
	return pl
}

// planCalls is what Plan asks the governor for per mapping: the reads of
// the records' Salesforce values and of match candidates.
const planCalls = 2

// NewPlanner returns a planner for pipes (see Compile) with the push
// settings of cfg, so its batches and API choices are the engine's.
func NewPlanner(store forcesync.Store, api API, pipes []*Pipe, cfg Config) (*Planner, error) {
	in, ok := forcesync.StoreAs[forcesync.Inspector](store)
	if !ok {
		return nil, fmt.Errorf("plan: the store %T cannot be inspected", store)
	}
	rd, ok := api.(Reader)
	if !ok {
		return nil, fmt.Errorf("plan: the API %T cannot read records back", api)
	}
	return &Planner{cfg: cfg.withDefaults(), store: store, in: in, api: api, rd: rd, pipes: pipes}, nil
}

// API returns the engine's Salesforce API.
func (e *Engine) API() API { return e.api }

// Config returns the engine's settings, defaults applied.
func (e *Engine) Config() Config { return e.cfg }

// Plan returns what the next push of the selected mappings would do.
func (pl *Planner) Plan(ctx context.Context, opt PlanOptions) (*Plan, error) {
	want := map[string]bool{}
	for _, m := range opt.Mappings {
		want[m] = true
	}
	var pipes []*Pipe
	found := map[string]bool{} // want is left whole: emptied, it would select every later mapping
	for _, p := range pl.pipes {
		if len(want) == 0 || want[p.Mapping.Name] {
			pipes = append(pipes, p)
			found[p.Mapping.Name] = true
		}
	}
	for _, m := range opt.Mappings {
		if !found[m] {
			return nil, forcesync.Errorf(forcesync.ENotFound, "plan: no mapping %q", m)
		}
	}
	limit := opt.Records
	if limit == 0 {
		limit = 1000
	}
	gov := pl.gov
	if gov == nil {
		g, err := defaultGovernor(ctx, pl.store, pl.api, pl.pipes)
		if err != nil {
			return nil, err
		}
		gov = g
	}
	// A plan reads from the org: it waits its turn behind pushes, in the
	// backfill lane, and never spends the reserve.
	if ok, why := gov.Allow(ctx, forcesync.LaneBackfill, planCalls*len(pipes)); !ok {
		return nil, fmt.Errorf("plan: %w: %s", ErrBudgetSpent, why)
	}
	// The twin engine's batches count their own calls too (and charge
	// them to the twin's governor, which writes nowhere): this counter
	// sees them all.
	var counter salesforce.CallCounter
	defer func() { gov.Spent(ctx, forcesync.LaneBackfill, counter.Calls()) }()
	cctx := salesforce.WithCallCounter(ctx, &counter)
	out := &Plan{}
	for _, p := range pipes {
		mp, err := pl.planPipe(cctx, p, limit)
		if err != nil {
			return nil, fmt.Errorf("plan %s: %w", p.Mapping.Name, err)
		}
		out.Mappings = append(out.Mappings, mp)
	}
	return out, nil
}

func (pl *Planner) planPipe(ctx context.Context, p *Pipe, limit int) (*MappingPlan, error) {
	mp := &MappingPlan{Mapping: p.Mapping.Name, Object: p.Compiled.Object(), Held: map[string]int{}, Retry: map[string]int{}, Records: []PlannedRecord{}}
	fp, known, err := pl.in.MappingFingerprint(ctx, p.Mapping.Name)
	if err != nil {
		return nil, err
	}
	mp.Changed = known && fp != p.Compiled.Version()
	ds := &dryStore{Store: pl.store, in: pl.in, now: pl.cfg.Now, requeueHeld: mp.Changed}
	if mp.Changed && p.Mapping.Pushes() {
		// The changed config's start sweeps the mapping's scope: the bound
		// records it would deprovision or disable are queued then
		// (removal.go). The plan shows their fates too.
		if err := pl.sweep(ctx, p, ds); err != nil {
			return nil, err
		}
	}
	reads0 := pl.api.Calls()
	da := &dryAPI{live: pl.api, rd: pl.rd, calls: &mp.Calls, sent: map[string]*sentRecord{}}
	cfg := pl.cfg
	cfg.Workers, cfg.Owner = 1, "plan"
	// The twin's pushes are make-believe: their log lines (push.held and
	// the like) would tell a log collector of pushes that never happened.
	cfg.Logger = slog.New(slog.DiscardHandler)
	// The twin's governor reads the real ledger and writes to none: the
	// plan shows what the push would do once the budget lets it.
	gov, err := NewGovernor(ctx, GovernorConfig{Connection: cfg.Connection, Ledger: ds, Share: 1, Now: cfg.Now, Logger: cfg.Logger})
	if err != nil {
		return nil, err
	}
	cfg.Governor = gov
	twin := &Engine{cfg: cfg, store: ds, api: da, pipes: []*Pipe{p}, gov: gov, rnd: newRand()}
	if _, err := twin.Drain(ctx); err != nil {
		return nil, err
	}
	mp.Requeued = ds.requeued
	createdBy := map[string]bool{}
	for _, o := range ds.outcomes {
		rec := PlannedRecord{Key: o.Item.Key, SalesforceID: o.SalesforceID}
		if o.Error != nil {
			rec.Code, rec.Message = o.Error.Code, o.Error.Message
		}
		s := da.sent[o.SalesforceID]
		if s != nil && s.created && o.State == forcesync.StateSynced {
			if createdBy[o.SalesforceID] {
				// A later record matched the one this plan creates (same
				// match value): its update.
				s = da.sent[o.SalesforceID+updateOfNew]
			}
			createdBy[o.SalesforceID] = true
		}
		switch o.State {
		case forcesync.StateSynced:
			switch {
			case s == nil:
				rec.Action = ActionNoOp
				mp.Counts.NoOp++
			case s.created:
				rec.Action, rec.SalesforceID = ActionCreate, ""
				mp.Counts.Create++
			case o.Item.Op == forcesync.OpDisable:
				rec.Action = ActionDisable
				mp.Counts.Disable++
			default:
				rec.Action = ActionUpdate
				mp.Counts.Update++
			}
			if s != nil {
				rec.API, rec.Payload = s.api, s.fields
				if !s.created {
					rec.Changes = diff(s.old, s.fields, p.Compiled.ExternalIDField())
				}
			}
		case forcesync.StateDeleted:
			rec.Action = ActionDelete
			if s != nil {
				rec.API = s.api
			}
			mp.Counts.Delete++
		case forcesync.StateSkipped:
			rec.Action = ActionSkip
			mp.Counts.Skipped++
		case forcesync.StateHeld:
			rec.Action = ActionHeld
			mp.Counts.Held++
			mp.Held[rec.Code]++
		default:
			rec.Action = ActionRetry
			mp.Counts.Retry++
			mp.Retry[rec.Code]++
		}
		if strings.HasPrefix(rec.SalesforceID, "plan-new-") {
			rec.SalesforceID = "" // a record this plan creates
		}
		if limit < 0 || len(mp.Records) < limit {
			mp.Records = append(mp.Records, rec)
		} else {
			mp.Truncated = true
		}
	}
	mp.Calls.Total = mp.Calls.Collections + mp.Calls.Queries + mp.Calls.Bulk
	mp.Calls.PlanReads = int(pl.api.Calls() - reads0)
	return mp, nil
}

// sweep adds to ds the bound records of p that the changed config takes
// out of the mapping (or disables), as serve's start queues them.
func (pl *Planner) sweep(ctx context.Context, p *Pipe, ds *dryStore) error {
	e := &Engine{cfg: pl.cfg, store: pl.store, api: pl.api, pipes: pl.pipes}
	keys, err := e.fallingOut(ctx, p)
	if err != nil {
		return err
	}
	now := pl.cfg.Now()
	for _, k := range keys {
		rec, err := pl.store.SourceRecord(ctx, p.Mapping.Source, k)
		if err != nil {
			return err
		}
		b, err := pl.store.Binding(ctx, p.Mapping.Name, k)
		if err != nil {
			return err
		}
		if rec == nil || b == nil {
			continue
		}
		it := forcesync.WorkItem{Mapping: p.Mapping.Name, Source: p.Mapping.Source, Key: k, Op: forcesync.OpUpsert,
			Version: rec.Version, Fields: rec.Fields, Binding: b, Forced: true, Enqueued: now}
		if rec.Deleted {
			it.Op = forcesync.OpDelete
		}
		ds.swept = append(ds.swept, it)
	}
	return nil
}

// diff lists the fields of an update whose value differs from old.
func diff(old, fields map[string]any, ext string) []FieldChange {
	var out []FieldChange
	for k, v := range fields {
		if k == "Id" || strings.EqualFold(k, ext) {
			continue
		}
		var was any
		for ok, ov := range old {
			if strings.EqualFold(ok, k) {
				was = ov
				break
			}
		}
		if !sameValue(was, v) {
			out = append(out, FieldChange{Field: k, Old: was, New: v})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Field < out[j].Field })
	return out
}

// errPlanWrites marks a store write a plan must never make.
var errPlanWrites = errors.New("plan: the push tried to write to the store (a plan writes nothing)")

// dryStore serves the queued work of one mapping as claims would, without
// leasing it, and keeps outcomes instead of committing them.
type dryStore struct {
	forcesync.Store
	in          forcesync.Inspector
	now         func() time.Time
	requeueHeld bool

	mu       sync.Mutex
	loaded   bool
	queue    []forcesync.WorkItem
	again    map[string]bool
	outcomes []forcesync.Outcome
	requeued int
	guards   map[string]forcesync.GuardState // the guard as the plan moves it (GuardTake)
	swept    []forcesync.WorkItem            // records a config change's sweep queues (Planner.sweep)
}

func newRand() *rand.Rand { return rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64())) }

// load reads the mapping's due work (and, for a changed mapping, the held
// records it would requeue) in claim order.
func (s *dryStore) load(ctx context.Context, mapping string) error {
	if s.loaded {
		return nil
	}
	s.loaded, s.again = true, map[string]bool{}
	now := s.now()
	for _, held := range []bool{false, true} {
		if held && !s.requeueHeld {
			continue
		}
		for off := 0; ; {
			items, err := s.in.Peek(ctx, forcesync.PeekQuery{Mapping: mapping, Now: now, Held: held, Offset: off, Limit: 1000})
			if err != nil {
				return err
			}
			if held {
				s.requeued += len(items)
			}
			s.queue = append(s.queue, items...)
			off += len(items)
			if len(items) < 1000 {
				break
			}
		}
	}
	if s.requeueHeld {
		// Requeued records come first, as after engine.New requeued them:
		// they are realtime and due now.
		n := len(s.queue) - s.requeued
		s.queue = append(s.queue[n:], s.queue[:n]...)
	}
	// The records the config change's sweep queues, unless queued already.
	queued := map[string]bool{}
	for _, it := range s.queue {
		queued[it.Key] = true
	}
	for _, it := range s.swept {
		if !queued[it.Key] {
			s.queue = append(s.queue, it)
		}
	}
	return nil
}

// Claim serves the next items without leasing them.
func (s *dryStore) Claim(ctx context.Context, req forcesync.ClaimRequest) ([]forcesync.WorkItem, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.load(ctx, req.Mapping); err != nil {
		return nil, err
	}
	n := min(req.Limit, len(s.queue))
	items := s.queue[:n:n]
	s.queue = s.queue[n:]
	return items, nil
}

// Complete keeps the outcomes. A record put off to be due at once (a twin
// waiting for the first of its match value) comes back, as it would in a
// drain.
func (s *dryStore) Complete(_ context.Context, _ string, outs []forcesync.Outcome, _ *forcesync.Run) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	for _, o := range outs {
		if o.State == forcesync.StateRetrying && !o.NextAttempt.After(now) && !s.again[o.Item.Key] {
			s.again[o.Item.Key] = true
			it := o.Item
			it.Attempts++
			s.queue = append(s.queue, it)
			continue
		}
		s.outcomes = append(s.outcomes, o)
	}
	return nil
}

func (s *dryStore) RecordIntents(context.Context, string, []forcesync.Intent) error { return nil }

// GuardTake decides as the store would, on the plan's own copy of the
// guard's state: the plan shows what the mass-change guard would let
// through and writes nothing (asking the store's guard would count the
// plan's removals in the real window, and pause the mapping past its
// limit).
func (s *dryStore) GuardTake(ctx context.Context, req forcesync.GuardRequest) (forcesync.GuardState, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.guards == nil {
		states, err := s.Store.GuardStates(ctx)
		if err != nil {
			return forcesync.GuardState{}, false, err
		}
		s.guards = map[string]forcesync.GuardState{}
		for _, st := range states {
			s.guards[st.Name] = st
		}
	}
	st, ok := forcesync.GuardDecide(s.guards[req.Name], req)
	s.guards[req.Name] = st
	return st, ok, nil
}

func (s *dryStore) GuardApprove(context.Context, string, time.Time, time.Time) (forcesync.GuardState, error) {
	return forcesync.GuardState{}, errPlanWrites
}

// The push's other writes stop the plan rather than reach the store.
func (s *dryStore) Bind(context.Context, forcesync.Binding) error { return errPlanWrites }
func (s *dryStore) RememberMapping(context.Context, forcesync.MappingMemo) error {
	return errPlanWrites
}
func (s *dryStore) ClearPasswordMark(context.Context, string, string, int64) error {
	return errPlanWrites
}

// The ledger's writes go nowhere; its reads are the real ones.
func (s *dryStore) AddAPICalls(context.Context, string, string, time.Time, int) error { return nil }
func (s *dryStore) SetBudgetState(context.Context, forcesync.BudgetState) error       { return nil }
func (s *dryStore) AddBulkJob(context.Context, forcesync.BulkJobRef) error            { return nil }
func (s *dryStore) RemoveBulkJob(context.Context, string, string) error               { return nil }
func (s *dryStore) HoldMatches(_ context.Context, _, _ string, values []string, _, _ time.Time) ([]string, error) {
	return values, nil
}
func (s *dryStore) ReleaseMatches(context.Context, string, string, []string) error { return nil }
func (s *dryStore) RecordAPIUsage(context.Context, forcesync.APIUsage) error       { return nil }
func (s *dryStore) Accept(context.Context, []string, []forcesync.Change) ([]forcesync.AcceptResult, error) {
	return nil, errPlanWrites
}
func (s *dryStore) Requeue(context.Context, string, []string) (int, error) { return 0, errPlanWrites }
func (s *dryStore) MappingVersion(context.Context, string, string) (bool, error) {
	return false, errPlanWrites
}

// updateOfNew suffixes the Id of a record the plan creates to note an
// update of it by a later record with the same match value.
const updateOfNew = "/update"

// sentRecord is a write the push would make.
type sentRecord struct {
	api     string
	created bool
	fields  map[string]any
	old     map[string]any // what Salesforce holds now (updates)
}

// dryAPI answers the push's reads from the live org and records its writes.
type dryAPI struct {
	live API
	rd   Reader

	mu      sync.Mutex
	calls   *PlanCalls
	n       int64 // would-be calls, for Calls
	sent    map[string]*sentRecord
	created []createdRecord // records the plan created, for later matches
	next    int
}

type createdRecord struct {
	obj, id string
	fields  map[string]any
}

func (a *dryAPI) Describe(ctx context.Context, obj string) (*salesforce.SObjectDescribe, error) {
	return a.live.Describe(ctx, obj)
}
func (a *dryAPI) Usage() (int, int) { return 0, 0 }
func (a *dryAPI) Calls() int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.n
}

func (a *dryAPI) count(kind string, n int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	switch kind {
	case "collections":
		a.calls.Collections += n
	case "query":
		a.calls.Queries += n
	case "bulk":
		a.calls.Bulk += n
		a.calls.BulkJobs++
	}
	a.n += int64(n)
}

func (a *dryAPI) newID(obj string, fields map[string]any) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.next++
	id := fmt.Sprintf("plan-new-%d", a.next)
	a.created = append(a.created, createdRecord{obj: obj, id: id, fields: fields})
	return id
}

func (a *dryAPI) record(id string, s *sentRecord) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.sent[id] = s
}

// createdBy finds a record the plan created whose field equals v.
func (a *dryAPI) createdBy(obj, field, v string) []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var ids []string
	for _, c := range a.created {
		if c.obj != obj {
			continue
		}
		for k, fv := range c.fields {
			if strings.EqualFold(k, field) && strings.EqualFold(canonical(fv), v) {
				ids = append(ids, c.id)
			}
		}
	}
	return ids
}

// FindBy is the push's match query: read for real, plus what the plan
// itself created.
func (a *dryAPI) FindBy(ctx context.Context, obj, field string, values []string) (map[string][]string, error) {
	if len(values) == 0 {
		return map[string][]string{}, nil
	}
	a.count("query", 1)
	found, err := a.live.FindBy(ctx, obj, field, values)
	if err != nil {
		return nil, err
	}
	for _, v := range values {
		if ids := a.createdBy(obj, field, v); len(ids) > 0 {
			found[strings.ToLower(v)] = append(found[strings.ToLower(v)], ids...)
		}
	}
	return found, nil
}

// existing reads obj's records whose field is one of the values, keyed by
// the value lower-cased (External IDs match regardless of case).
func (a *dryAPI) existing(ctx context.Context, obj, field string, values []string, recs []salesforce.Record) (map[string]salesforce.Record, error) {
	var names []string
	seen := map[string]bool{}
	for _, r := range recs {
		for k := range r {
			if k != "attributes" && !seen[k] {
				seen[k] = true
				names = append(names, k)
			}
		}
	}
	sort.Strings(names)
	rows, err := a.rd.ReadWhere(ctx, obj, field, values, names, false)
	if err != nil {
		return nil, err
	}
	out := make(map[string]salesforce.Record, len(rows))
	for _, r := range rows {
		v := r.ID()
		if field != "Id" {
			v = canonical(r[field])
		}
		out[strings.ToLower(v)] = r
	}
	return out, nil
}

func payloadOf(r salesforce.Record) map[string]any {
	out := make(map[string]any, len(r))
	for k, v := range r {
		if k != "attributes" {
			out[k] = v
		}
	}
	return out
}

// upsert plans External ID upserts: an existing record is updated, others
// created, as Salesforce would.
func (a *dryAPI) upsert(ctx context.Context, obj, ext, api string, recs []salesforce.Record) (map[string]Result, error) {
	values := make([]string, 0, len(recs))
	for _, r := range recs {
		values = append(values, canonical(r[ext]))
	}
	have, err := a.existing(ctx, obj, ext, values, recs)
	if err != nil {
		return nil, err
	}
	out := make(map[string]Result, len(recs))
	for i, r := range recs {
		v := values[i]
		if old, ok := have[strings.ToLower(v)]; ok {
			a.record(old.ID(), &sentRecord{api: api, fields: payloadOf(r), old: old})
			out[v] = Result{ID: old.ID()}
			continue
		}
		if ids := a.createdBy(obj, ext, v); len(ids) > 0 {
			a.record(ids[0]+updateOfNew, &sentRecord{api: api, fields: payloadOf(r), old: map[string]any{}})
			out[v] = Result{ID: ids[0]}
			continue
		}
		id := a.newID(obj, payloadOf(r))
		a.record(id, &sentRecord{api: api, created: true, fields: payloadOf(r)})
		out[v] = Result{ID: id, Created: true}
	}
	return out, nil
}

func (a *dryAPI) Upsert(ctx context.Context, obj, ext string, recs []salesforce.Record) ([]Result, error) {
	a.count("collections", 1)
	res, err := a.upsert(ctx, obj, ext, "collections", recs)
	if err != nil {
		return nil, err
	}
	out := make([]Result, len(recs))
	for i, r := range recs {
		out[i] = res[canonical(r[ext])]
	}
	return out, nil
}

// BulkUpsert plans a Bulk API 2.0 upsert: one job per 100 MB of CSV, each
// at least create, upload, close, one poll and the results.
func (a *dryAPI) BulkUpsert(ctx context.Context, obj, ext string, fields []string, recs []salesforce.Record) (map[string]Result, error) {
	var size int64
	for _, r := range recs {
		for _, f := range fields {
			size += int64(len(canonical(r[f]))) + 1
		}
	}
	jobs := int(size/salesforce.DefaultMaxBytesPerJob) + 1
	for range jobs {
		a.count("bulk", 5)
	}
	return a.upsert(ctx, obj, ext, "bulk", recs)
}

func (a *dryAPI) Create(_ context.Context, obj string, recs []salesforce.Record) ([]Result, error) {
	a.count("collections", 1)
	out := make([]Result, len(recs))
	for i, r := range recs {
		id := a.newID(obj, payloadOf(r))
		a.record(id, &sentRecord{api: "collections", created: true, fields: payloadOf(r)})
		out[i] = Result{ID: id, Created: true}
	}
	return out, nil
}

func (a *dryAPI) Update(ctx context.Context, obj string, recs []salesforce.Record) ([]Result, error) {
	a.count("collections", 1)
	ids := make([]string, 0, len(recs))
	for _, r := range recs {
		if !strings.HasPrefix(r.ID(), "plan-new-") {
			ids = append(ids, r.ID())
		}
	}
	have, err := a.existing(ctx, obj, "Id", ids, recs)
	if err != nil {
		return nil, err
	}
	out := make([]Result, len(recs))
	for i, r := range recs {
		old := have[strings.ToLower(r.ID())]
		if old == nil {
			old = salesforce.Record{}
		}
		fields := payloadOf(r)
		delete(fields, "Id")
		key := r.ID()
		if strings.HasPrefix(key, "plan-new-") {
			key += updateOfNew
		}
		a.record(key, &sentRecord{api: "collections", fields: fields, old: old})
		out[i] = Result{ID: r.ID()}
	}
	return out, nil
}

func (a *dryAPI) Delete(_ context.Context, ids []string) ([]Result, error) {
	a.count("collections", 1)
	out := make([]Result, len(ids))
	for i, id := range ids {
		a.record(id, &sentRecord{api: "collections"})
		out[i] = Result{ID: id}
	}
	return out, nil
}
