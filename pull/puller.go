package pull

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/mapping"
	"github.com/forcesync/forcesync/salesforce"
)

// Store is what a Puller needs of the store: both of its sides.
type Store interface {
	forcesync.Store
	forcesync.PullStore
}

// Config is one pulled mapping's puller. Zero values are defaults.
type Config struct {
	Mapping  forcesync.Mapping
	Compiled *mapping.Compiled
	Store    Store
	Querier  Querier
	// Queue names the push mappings fed by the mapping's source: a source
	// record the pull changes is queued for them (the mapping itself
	// included when it pushes), so every mapping sees Salesforce's edit.
	Queue []string
	// Budget says why API calls are paused now ("" when they are not). It
	// is asked before every poll; nil means never paused.
	Budget func(ctx context.Context) string
	// Spent is told the calls each poll made; may be nil.
	Spent func(ctx context.Context, calls int)
	// Hold says why the mapping's pull waits now ("" when it does not);
	// serve passes the engine's schema pause of the mapping, so that a
	// mapping whose object no longer fits it (a field deleted in
	// Salesforce) waits, pull and push alike, until the schema or the
	// config is fixed. It is asked before every poll (and by New, which
	// then leaves the object undescribed); a held poll makes no call.
	// Nothing is lost while held: the watermark stays where it was, and
	// the first poll after the hold takes every change made meanwhile.
	// Nil never holds.
	Hold func() string
	// Current returns the mapping compiled against its object's describe
	// in force (serve: the engine's compiled form, which the schema drift
	// guard replaces when it resumes the mapping). When a hold lifts, the
	// puller builds its reader again from it and the object's describe as
	// Querier answers it then. Nil, or a nil answer: Compiled.
	Current func() *mapping.Compiled
	// Suspect is told of each poll that failed (but for a hold and the
	// budget's pause) before Poll returns, with the error; serve passes
	// the engine's SuspectSchema, so that a query Salesforce refuses
	// because a pulled field was deleted gets the mapping's schema checked
	// (and the mapping paused, which holds its pull) at once, instead of
	// at the next periodic check. It runs in the polling goroutine and
	// decides itself which errors matter. Nil: nothing is told.
	Suspect func(ctx context.Context, err error)
	// Batch is how many pulled records one store transaction commits;
	// zero means 200.
	Batch int
	// BulkThreshold is how many records make the first load of an object
	// (no watermark yet) go through a Bulk API 2.0 query job instead of
	// query pages. Zero means 20,000; a negative value turns Bulk off.
	BulkThreshold int
	// PageSize asks Salesforce for query pages of this many records
	// (200..2000); zero means 2,000.
	PageSize int
	Now      func() time.Time
	Logger   *slog.Logger
}

// Puller reads one mapping's changes from Salesforce.
//
// Delivery contract: every change Salesforce reports by SystemModstamp is
// taken exactly once into the store: the watermark (instant plus the Ids
// taken at or after it) moves in the same transaction that records what
// the change did (source record, binding, event, deliveries), so a crash
// or a restart between pages neither skips nor repeats one. Webhooks get
// each event at least once, with a stable event id.
type Puller struct {
	cfg      Config
	settings forcesync.PullConfig
	// compiled, fields and reader are what polls read by: built by New,
	// or after a hold (held) by the first poll it lets through.
	compiled *mapping.Compiled
	fields   []mapping.PullField
	reader   *Reader
	held     bool
	webhooks []string
	events   bool
	// writes counts the calls a poll made besides its query pages
	// (External IDs stamped on Salesforce-born records, merge survivors
	// read and given a key).
	writes int
}

// ErrPaused is returned by Poll when the budget governor stopped calls.
var ErrPaused = errors.New("pull paused by the API budget")

// HeldError is Poll's answer while Config.Hold holds the mapping's pull;
// the poll made no call.
type HeldError struct {
	Mapping string
	// Reason is Hold's answer: why the mapping waits.
	Reason string
}

func (e *HeldError) Error() string { return "pull of mapping " + e.Mapping + " held: " + e.Reason }

// Stats counts what one poll did.
type Stats struct {
	Read    int // rows Salesforce returned that were new to the watermark
	Changed int // records with fields Salesforce changed (delivered)
	Echoes  int // records that only echoed forcesync's own push
	Created int // records created in Salesforce, bound by the key rule
	// Restored counts records restored from Salesforce's recycle bin,
	// bound again under the key a pulled delete took them from.
	Restored  int
	Deleted   int
	Merged    int
	Conflicts int
	Converted int // Leads converted in Salesforce
	// Stamped counts Salesforce-born records given their sf: key in the
	// mapping's External ID field.
	Stamped int
	// Deferred counts unbound records left for a later poll: a push of
	// the mapping may be creating them, or finding them by their match
	// value and binding them (see Puller.createInFlight and
	// Puller.pushMayMatch). The watermark stays before them, so the next
	// poll reads them again.
	Deferred int
	// Overtaken: another puller (a replica sharing the store) committed
	// first; this poll stopped without writing.
	Overtaken bool
}

// New builds a puller; cfg.Compiled must be the mapping compiled against
// the object's describe. The fields it pulls must exist in that describe
// as Querier answers it (a mismatch is an EInvalid error naming the
// field), unless cfg.Hold holds the mapping: its describe is then read
// when the hold lifts.
func New(ctx context.Context, cfg Config) (*Puller, error) {
	m := cfg.Mapping
	if !m.Pulls() {
		return nil, forcesync.Errorf(forcesync.EInvalid, "mapping %s: direction %s does not pull", m.Name, m.Direction)
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 200
	}
	if cfg.BulkThreshold == 0 {
		cfg.BulkThreshold = 20000
	}
	if cfg.PageSize <= 0 {
		cfg.PageSize = 2000
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Budget == nil {
		cfg.Budget = func(context.Context) string { return "" }
	}
	if cfg.Spent == nil {
		cfg.Spent = func(context.Context, int) {}
	}
	p := &Puller{cfg: cfg, settings: m.PullSettings()}
	if p.Held() != "" {
		p.held = true // the object may not fit the mapping now: described once the hold lifts
	} else if err := p.build(ctx, cfg.Compiled); err != nil {
		return nil, err
	}
	if p.settings.Has(forcesync.SinkWebhook) {
		p.webhooks = []string{WebhookSink(m.Name)}
	}
	p.events = p.settings.Has(forcesync.SinkWebhook) || p.settings.Has(forcesync.SinkChanges)
	return p, nil
}

// build makes the reader of c's pulled fields (and the match field the
// key rule reads) against the object's describe.
func (p *Puller) build(ctx context.Context, c *mapping.Compiled) error {
	m := p.cfg.Mapping
	fields := c.Pulls()
	names := make([]string, 0, len(fields)+1)
	for _, f := range fields {
		names = append(names, f.Target)
	}
	if m.Match.Kind == forcesync.MatchExternalID {
		names = append(names, m.Match.Field) // the key rule reads it
	}
	if m.Match.Kind == forcesync.MatchFields && m.Pushes() && len(m.Match.Fields) > 0 {
		names = append(names, m.Match.Fields[0]) // createInFlight reads it
	}
	r, err := NewReader(ctx, p.cfg.Querier, c.Object(), names)
	if err != nil {
		return fmt.Errorf("mapping %s: %w", m.Name, err)
	}
	p.compiled, p.fields, p.reader = c, fields, r
	return nil
}

// Held says why the mapping's pull waits now (Config.Hold), "" when it
// does not. Safe to call while the puller polls.
func (p *Puller) Held() string {
	if p.cfg.Hold == nil {
		return ""
	}
	return p.cfg.Hold()
}

// WebhookSink names the delivery sink of a mapping's webhook.
func WebhookSink(mapping string) string { return "webhook:" + mapping }

// Mapping returns the mapping pulled.
func (p *Puller) Mapping() forcesync.Mapping { return p.cfg.Mapping }

// Retention is how long the mapping's pulled changes are kept.
func (p *Puller) Retention() time.Duration {
	if p.settings.Retention > 0 {
		return p.settings.Retention
	}
	return forcesync.DefaultRetention
}

// Prune deletes the mapping's pulled changes older than its retention,
// keeping those a webhook has not taken (see PullStore.PrunePulled).
func (p *Puller) Prune(ctx context.Context) (int, error) {
	return p.cfg.Store.PrunePulled(ctx, p.cfg.Mapping.Name, p.cfg.Now().Add(-p.Retention()))
}

// Reader returns the puller's reader (for reconciling by Id); nil while
// a puller built held has not polled since its hold lifted.
func (p *Puller) Reader() *Reader { return p.reader }

// Poll reads every change since the watermark and commits it in batches.
// An idle object costs one query call. It returns a *HeldError without a
// call while Config.Hold holds the mapping, and ErrPaused without a call
// while the budget governor pauses. The first poll after a hold builds
// the reader again (Config.Current). A poll that fails otherwise is told
// to Config.Suspect.
func (p *Puller) Poll(ctx context.Context) (Stats, error) {
	st, err := p.poll(ctx)
	var held *HeldError
	if err != nil && p.cfg.Suspect != nil && ctx.Err() == nil && !errors.As(err, &held) && !errors.Is(err, ErrPaused) {
		p.cfg.Suspect(ctx, err)
	}
	return st, err
}

func (p *Puller) poll(ctx context.Context) (Stats, error) {
	var st Stats
	name := p.cfg.Mapping.Name
	if why := p.Held(); why != "" {
		p.held = true
		return st, &HeldError{Mapping: name, Reason: why}
	}
	if p.held {
		c := p.cfg.Compiled
		if p.cfg.Current != nil {
			if cur := p.cfg.Current(); cur != nil {
				c = cur
			}
		}
		if err := p.build(ctx, c); err != nil {
			return st, err
		}
		p.held = false
	}
	if why := p.cfg.Budget(ctx); why != "" {
		return st, fmt.Errorf("%w: %s", ErrPaused, why)
	}
	wm, err := p.cfg.Store.Watermark(ctx, name)
	if err != nil {
		return st, err
	}
	wm.Mapping = name
	rows, err := p.reader.Since(ctx, wm, &salesforce.QueryOptions{BatchSize: p.cfg.PageSize})
	if err != nil {
		return st, err
	}
	bulkCalls := 0
	p.writes = 0
	defer func() { p.cfg.Spent(context.WithoutCancel(ctx), rows.Pages()+bulkCalls+p.writes) }()
	var recs iter.Seq2[salesforce.Record, error] = rows.All()
	if wm.Instant.IsZero() && p.cfg.BulkThreshold > 0 {
		// The first load: the first page tells the object's size; a large
		// object is read through one Bulk API 2.0 query job instead.
		if recs, err = p.firstLoad(ctx, rows, wm, &bulkCalls); err != nil {
			return st, err
		}
	}
	var batch []salesforce.Record
	taken := map[string]time.Time{}
	// floor is the SystemModstamp of the oldest record a batch of this
	// poll deferred (zero: none): no later batch moves the watermark past it.
	var floor time.Time
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		next, err := p.commit(ctx, batch, wm, taken, &floor, &st)
		if err != nil {
			return err
		}
		next.Gen++
		wm, batch = next, batch[:0]
		clear(taken)
		return nil
	}
	var readErr error
	for rec, err := range recs {
		if err != nil {
			readErr = err
			break
		}
		stamp, err := Modstamp(rec)
		if err != nil {
			return st, err
		}
		if !Take(&wm, rec.ID(), stamp) {
			continue
		}
		if _, dup := taken[rec.ID()]; dup {
			continue // a record that moved while paging: its newest row comes again next poll
		}
		st.Read++
		batch = append(batch, rec)
		taken[rec.ID()] = stamp
		if len(batch) >= p.cfg.Batch {
			if err := flush(); err != nil {
				if errors.Is(err, forcesync.ErrPullOvertaken) {
					st.Overtaken = true
					return st, nil
				}
				return st, err
			}
		}
	}
	// What was read before an error is committed: the watermark covers
	// only it.
	ferr := flush()
	if errors.Is(ferr, forcesync.ErrPullOvertaken) {
		// Another replica pulled these changes first: its commit stands.
		st.Overtaken = true
		return st, nil
	}
	return st, errors.Join(readErr, ferr)
}

// commit decides about a batch and commits it with the watermark moved
// past the rows taken (but those a decision deferred, and *floor, the
// oldest deferred by an earlier batch of the poll, which it lowers); it
// returns the watermark committed. A decision made on state that changed
// meanwhile (an ingest, a push completing) is made again on fresh state.
func (p *Puller) commit(ctx context.Context, batch []salesforce.Record, wm forcesync.Watermark, taken map[string]time.Time, floor *time.Time, st *Stats) (forcesync.Watermark, error) {
	const attempts = 10
	var err error
	for range attempts {
		var c *forcesync.PullCommit
		var s Stats
		var deferred map[string]bool
		c, s, deferred, err = p.decide(ctx, batch)
		if err != nil {
			return wm, err
		}
		low := *floor
		for id := range deferred {
			if t := taken[id]; low.IsZero() || t.Before(low) {
				low = t
			}
		}
		c.Watermark = advanceBefore(wm, taken, deferred, low)
		err = p.cfg.Store.CommitPull(ctx, c)
		if err == nil {
			*floor = low
			st.Changed += s.Changed
			st.Echoes += s.Echoes
			st.Created += s.Created
			st.Restored += s.Restored
			st.Deleted += s.Deleted
			st.Merged += s.Merged
			st.Conflicts += s.Conflicts
			st.Stamped += s.Stamped
			st.Converted += s.Converted
			st.Deferred += s.Deferred
			return c.Watermark, nil
		}
		if forcesync.ErrorCode(err) != forcesync.EConflict || errors.Is(err, forcesync.ErrPullOvertaken) {
			return wm, err
		}
	}
	return wm, fmt.Errorf("pull %s: records kept changing while deciding: %w", p.cfg.Mapping.Name, err)
}

// view is the state the decisions of one batch read and update as they go.
type view struct {
	p       *Puller
	ctx     context.Context
	byID    map[string]*forcesync.PullBinding
	sources map[string]*forcesync.SourceRecord // key -> record; nil value: none
	err     error                              // a call made while deciding failed
	stamps  []string                           // Salesforce-born Ids whose sf: key goes into the External ID field
	// unbound maps the batch's unbound Ids to the key a pulled delete
	// took their binding from (PullStore.UnboundKeys).
	unbound map[string]string
	// creating holds the lower-cased match values of the mapping's
	// creates in flight (PullStore.Intents), read once a record needs
	// them; deferred, the Ids left for a later poll (createInFlight).
	creating map[string]bool
	deferred map[string]bool
	// awaited holds the lower-cased match values of the batch's unbound
	// records that a key waiting for its push holds (PullStore.Unpushed,
	// read once per decision): see Puller.pushMayMatch.
	awaited map[string][]string
}

func (v *view) source(key string) (*forcesync.SourceRecord, error) {
	if r, ok := v.sources[key]; ok {
		return r, nil
	}
	r, err := v.p.cfg.Store.SourceRecord(v.ctx, v.p.cfg.Mapping.Source, key)
	if forcesync.ErrorCode(err) == forcesync.ENotFound {
		r, err = nil, nil
	}
	if re, ok := errors.AsType[*forcesync.RecordError](err); ok && re.Code == forcesync.CodeUnreadableRecord && r != nil && r.Fields != nil {
		// Old data the store cannot read back (a number past float64's
		// range): merge into the record as stored, that number kept,
		// rather than fail every poll of the mapping. Its push stays held.
		v.p.cfg.Logger.Warn("pulled change merged into a record whose stored fields cannot be read", "event", "pull.unreadable_record",
			"mapping", v.p.cfg.Mapping.Name, "key", key, "code", re.Code, "fields", re.Fields) // names only: the message quotes the stored value
		err = nil
	}
	if err != nil {
		return nil, err
	}
	v.sources[key] = r
	return r, nil
}

// decide settles each record of a batch; it returns the commit (its
// watermark for the caller to set), and the Ids of the records it left for
// a later poll.
func (p *Puller) decide(ctx context.Context, batch []salesforce.Record) (*forcesync.PullCommit, Stats, map[string]bool, error) {
	var st Stats
	m := p.cfg.Mapping
	c := &forcesync.PullCommit{Mapping: m.Name, Source: m.Source, Queue: p.cfg.Queue, Webhooks: p.webhooks, Now: p.cfg.Now()}
	ids := make([]string, 0, len(batch))
	for _, rec := range batch {
		ids = append(ids, rec.ID())
		if mid, _ := rec["MasterRecordId"].(string); mid != "" {
			ids = append(ids, mid)
		}
	}
	bs, err := p.cfg.Store.PullBindings(ctx, m.Name, ids)
	if err != nil {
		return nil, st, nil, err
	}
	v := &view{p: p, ctx: ctx, byID: map[string]*forcesync.PullBinding{}, sources: map[string]*forcesync.SourceRecord{}, deferred: map[string]bool{}}
	for id, b := range bs {
		v.byID[id] = &b
	}
	if v.unbound, err = p.unboundKeys(ctx, batch, bs); err != nil {
		return nil, st, nil, err
	}
	if v.awaited, err = p.unpushed(ctx, batch, bs); err != nil {
		return nil, st, nil, err
	}
	// Deletes and merges first: a merge moves a binding to the surviving
	// record, whose own row (its SystemModstamp moved too) may come later
	// in the batch or earlier.
	order := make([]salesforce.Record, len(batch))
	copy(order, batch)
	sort.SliceStable(order, func(i, j int) bool { return deleted(order[i]) && !deleted(order[j]) })
	for _, rec := range order {
		var r *forcesync.PulledRecord
		if deleted(rec) {
			r, err = p.decideDelete(v, rec, &st)
		} else {
			r, err = p.decideLive(v, rec, &st)
		}
		if err != nil {
			return nil, st, nil, err
		}
		if r != nil {
			if !p.events {
				r.Event = nil
			}
			c.Records = append(c.Records, *r)
		}
	}
	if err := p.stamp(ctx, v.stamps); err != nil {
		return nil, st, nil, err
	}
	st.Stamped = len(v.stamps)
	st.Deferred = len(v.deferred)
	return c, st, v.deferred, nil
}

// stamp writes each Salesforce-born record's sf: key into the External ID
// field of a mapping that pushes by it, before the commit binds the key:
// a later push of that key (the app editing the record it got as
// sf:<Id>) upserts by that value, and must find this record rather than
// create its twin. Done first, it is safe across a crash: the next poll
// reads the value back and the key rule gives the same key.
func (p *Puller) stamp(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	up, ok := p.cfg.Querier.(Updater)
	if !ok {
		return fmt.Errorf("pull %s: cannot write the External ID of Salesforce-born records", p.cfg.Mapping.Name)
	}
	obj, field := p.reader.d.Name, p.reader.d.Field(p.cfg.Mapping.Match.Field).Name
	for lo := 0; lo < len(ids); lo += 200 {
		chunk := ids[lo:min(lo+200, len(ids))]
		recs := make([]salesforce.Record, len(chunk))
		for i, id := range chunk {
			recs[i] = salesforce.Record{"attributes": map[string]any{"type": obj}, "Id": id, field: "sf:" + id}
		}
		res, err := up.UpdateMany(ctx, obj, recs, nil)
		p.writes++
		if err != nil {
			return fmt.Errorf("pull %s: stamp the External ID of Salesforce-born records: %w", p.cfg.Mapping.Name, err)
		}
		for i, r := range res {
			if err := r.Error(); err != nil {
				return fmt.Errorf("pull %s: stamp %s's External ID: %w", p.cfg.Mapping.Name, chunk[i], err)
			}
		}
	}
	return nil
}

func deleted(rec salesforce.Record) bool { return isTrue(rec["IsDeleted"]) }

// converted reports a converted Lead.
func converted(rec salesforce.Record) bool { return isTrue(rec["IsConverted"]) }

// isTrue reads a boolean as a query (true) or a Bulk CSV ("true") has it.
func isTrue(v any) bool {
	switch b := v.(type) {
	case bool:
		return b
	case string:
		return b == "true"
	}
	return false
}

// decideDelete settles a record deleted in Salesforce: a plain delete
// unbinds it; a merge moves the binding to the surviving record, or, when
// that one is bound to another key already, unbinds it and names that key.
func (p *Puller) decideDelete(v *view, rec salesforce.Record, st *Stats) (*forcesync.PulledRecord, error) {
	id := rec.ID()
	b := v.byID[id]
	if b == nil {
		return nil, nil // never ours
	}
	stamp, _ := Modstamp(rec)
	src, err := v.source(b.Key)
	if err != nil {
		return nil, err
	}
	r := &forcesync.PulledRecord{Key: b.Key, SalesforceID: id, ExpectFingerprint: b.Fingerprint, Modstamp: stamp}
	if src != nil {
		r.ExpectVersion, r.ExpectPullRev = src.Version, src.PullRev
	}
	ev := &forcesync.PulledChange{Key: b.Key, SalesforceID: id, Modstamp: stamp}
	master, _ := rec["MasterRecordId"].(string)
	delete(v.byID, id)
	intoSource := p.settings.Has(forcesync.SinkSource) && src != nil && !src.Deleted
	switch mb := v.byID[master]; {
	case master == "":
		st.Deleted++
		ev.Op = forcesync.PulledDelete
		r.Unbind, r.DeleteSource = true, intoSource
	case mb == nil && !p.followExternalID(v, b.Key, master, &mb):
		// The survivor carries another External ID: the loser's key ends
		// here; the survivor is bound under its own key when its row comes.
		st.Merged++
		ev.Op, ev.MergedInto = forcesync.PulledMerge, mb.Key
		r.Unbind, r.DeleteSource = true, intoSource
	case mb == nil:
		// The survivor is not bound: the key follows the record.
		st.Merged++
		ev.Op, ev.MergedInto = forcesync.PulledMerge, b.Key
		r.Bind, r.SalesforceID, r.Fingerprint = true, master, b.Fingerprint
		v.byID[master] = &forcesync.PullBinding{Key: b.Key, SalesforceID: master, Fingerprint: b.Fingerprint, Base: b.Base, Pushed: b.Pushed}
	default:
		st.Merged++
		ev.Op, ev.MergedInto = forcesync.PulledMerge, mb.Key
		r.Unbind, r.DeleteSource = true, intoSource
	}
	if r.DeleteSource {
		v.sources[b.Key] = &forcesync.SourceRecord{Key: b.Key, Version: src.Version, PullRev: src.PullRev + 1, Updated: src.Updated, Deleted: true}
	}
	r.Event = ev
	return r, nil
}

// Updater is what moving an External ID key to a merge survivor needs;
// *salesforce.Client implements it.
type Updater interface {
	UpdateMany(ctx context.Context, obj string, records []salesforce.Record, opt *salesforce.CollectionOptions) ([]salesforce.SaveResult, error)
}

// followExternalID lets a key follow a merge survivor in a mapping that
// pushes by External ID: the survivor must carry the key in that field,
// or the next push would create a twin. A survivor without a value gets
// the key (one read, one update: merges are rare); one with another value
// keeps it, and *mb becomes the binding it will get under the key rule.
// Mappings matched otherwise push by Id: the key follows freely.
func (p *Puller) followExternalID(v *view, key, master string, mb **forcesync.PullBinding) bool {
	m := p.cfg.Mapping
	if m.Match.Kind != forcesync.MatchExternalID || !m.Pushes() {
		return true
	}
	v.err = nil
	field := p.reader.d.Field(m.Match.Field).Name
	recs, err := p.reader.ByIDs(v.ctx, []string{master})
	p.writes++
	if err != nil {
		v.err = err
		return false
	}
	if len(recs) == 1 {
		if ext, _ := recs[0][field].(string); ext != "" {
			*mb = &forcesync.PullBinding{Key: ext, SalesforceID: master}
			return false
		}
	}
	up, ok := p.cfg.Querier.(Updater)
	if !ok {
		*mb = &forcesync.PullBinding{Key: "sf:" + master, SalesforceID: master}
		return false
	}
	res, err := up.UpdateMany(v.ctx, p.reader.d.Name, []salesforce.Record{{"attributes": map[string]any{"type": p.reader.d.Name}, "Id": master, field: key}}, nil)
	p.writes++
	if err == nil && len(res) == 1 {
		err = res[0].Error()
	}
	if err != nil {
		v.err = fmt.Errorf("merge of %s: give the survivor %s its External ID: %w", key, master, err)
		return false
	}
	return true
}

// unboundKeys reads the keys a pulled delete unbound from the batch's
// live records that have no binding now: records restored from the
// recycle bin, which come back under their key. A mapping matched by
// External ID needs none: the key rule reads the key back from the
// record's External ID field, where forcesync put it.
func (p *Puller) unboundKeys(ctx context.Context, batch []salesforce.Record, bound map[string]forcesync.PullBinding) (map[string]string, error) {
	if p.cfg.Mapping.Match.Kind == forcesync.MatchExternalID {
		return nil, nil
	}
	var ids []string
	for _, rec := range batch {
		if _, ok := bound[rec.ID()]; !ok && !deleted(rec) {
			ids = append(ids, rec.ID())
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	return p.cfg.Store.UnboundKeys(ctx, p.cfg.Mapping.Name, ids)
}

// restoredKey is the key a record restored from Salesforce's recycle bin
// had when a pulled delete unbound it, "" when it had none or the key is
// bound to another record since (the app's change created it again):
// the restored record is then new to forcesync, a twin for a person to
// settle.
func (p *Puller) restoredKey(v *view, id string) (string, error) {
	key, ok := v.unbound[id]
	if !ok {
		return "", nil
	}
	for _, b := range v.byID {
		if b.Key == key {
			return "", nil
		}
	}
	b, err := p.cfg.Store.Binding(v.ctx, p.cfg.Mapping.Name, key)
	if err != nil || b != nil {
		return "", err
	}
	return key, nil
}

// pushInFlight reports whether rec, unbound, is a record forcesync's own
// push created and has not recorded yet: its External ID value names an
// application record with a change queued under the mapping and no
// Salesforce Id. Taking it for a record created in Salesforce would write
// the values that push sent (older, when the application changed the
// record since) over the application's, and announce them as a change;
// the push binds it and sends the newest values. A rep's edit between
// the create and the push's answer comes back with the record's next
// change.
//
// The store's rule (CommitPull refuses to bind an Id another key holds)
// covers a push that committed its binding after the poll read the
// bindings; this covers one that has not committed it yet, when there is
// no binding for the store to find.
func (p *Puller) pushInFlight(v *view, rec salesforce.Record) (bool, error) {
	m := p.cfg.Mapping
	if m.Match.Kind != forcesync.MatchExternalID || !m.Pushes() {
		return false, nil
	}
	key, _ := rec[p.reader.d.Field(m.Match.Field).Name].(string)
	if key == "" {
		return false, nil
	}
	sr, ok := forcesync.StoreAs[forcesync.SettledReader](p.cfg.Store)
	if !ok {
		return false, nil
	}
	got, err := sr.Settled(v.ctx, m.Source, []string{m.Name}, []string{key})
	if err != nil {
		return false, err
	}
	s, ok := got[key]
	sm := s.Mappings[m.Name]
	return ok && !s.Deleted && sm.Queued && sm.SalesforceID == "", nil
}

// createInFlight reports whether rec, unbound, may be a record a push of
// a mapping matched by a field created and has not recorded yet: the
// push noted a create intent (Store.RecordIntents) with rec's match value,
// compared case-folded as the push's match query compares it, and Complete
// has not cleared it. The record carries no key of the application to
// tell: taken now, it would reach the app as sf:<Id>, a twin of the key
// the push binds it to next. It is left for a later poll instead
// (Stats.Deferred; the watermark stays before it), which finds it bound
// to the push's key (its own change then), or, when the push settled
// otherwise (it created another record, or failed), unbound and without
// an intent: then a record created in Salesforce, sharing the value.
//
// The store's rule (CommitPull refuses to bind an Id another key holds)
// covers a push that committed after the poll read the bindings; the
// intent is cleared in that same commit, so one or the other is seen.
func (p *Puller) createInFlight(v *view, rec salesforce.Record) (bool, error) {
	m := p.cfg.Mapping
	if m.Match.Kind != forcesync.MatchFields || !m.Pushes() || len(m.Match.Fields) == 0 {
		return false, nil
	}
	field := m.Match.Fields[0]
	value, _ := rec[p.reader.d.Field(field).Name].(string)
	if value == "" {
		return false, nil
	}
	if v.creating == nil {
		ins, err := p.cfg.Store.Intents(v.ctx, m.Name)
		if err != nil {
			return false, err
		}
		v.creating = map[string]bool{}
		for _, in := range ins {
			for k, mv := range in.Match {
				if strings.EqualFold(k, field) && mv != "" {
					v.creating[strings.ToLower(mv)] = true
				}
			}
		}
	}
	return v.creating[strings.ToLower(value)], nil
}

// matchSource is the source field (a dot path) the mapping's push reads
// its match value from, "" when the mapping pushes no match by a field or
// computes the value (an expression, a fallback chain, a constant, a
// value map): then no store can look keys up by it.
func (p *Puller) matchSource() string {
	m := p.cfg.Mapping
	if m.Match.Kind != forcesync.MatchFields || !m.Pushes() || len(m.Match.Fields) == 0 {
		return ""
	}
	for i := range m.Fields {
		r := &m.Fields[i]
		if !strings.EqualFold(r.Target, m.Match.Fields[0]) || m.RowDirection(r) == forcesync.Pull {
			continue
		}
		if r.SourceField == "" || r.Expr != "" || len(r.FirstOf) > 0 || r.HasConstant || len(r.ValueMap) > 0 {
			return ""
		}
		return r.SourceField
	}
	return ""
}

// unpushed reads, for the batch's live records no key is bound to, the
// keys waiting for a push whose match value is theirs (PullStore.Unpushed),
// by lower-cased value; nil when the mapping matches otherwise or no such
// record has a value.
func (p *Puller) unpushed(ctx context.Context, batch []salesforce.Record, bound map[string]forcesync.PullBinding) (map[string][]string, error) {
	src := p.matchSource()
	if src == "" {
		return nil, nil
	}
	name := p.reader.d.Field(p.cfg.Mapping.Match.Fields[0]).Name
	var values []string
	for _, rec := range batch {
		if _, ok := bound[rec.ID()]; ok || deleted(rec) || converted(rec) {
			continue
		}
		if v, _ := rec[name].(string); v != "" {
			values = append(values, v)
		}
	}
	if len(values) == 0 {
		return nil, nil
	}
	return p.cfg.Store.Unpushed(ctx, p.cfg.Mapping.Name, src, values)
}

// pushMayMatch reports whether rec, unbound, may be a record a queued or
// running push of the mapping (matched by a field) finds by its match
// value and binds to its key: a key with push work queued or claimed and
// no binding holds rec's value (compared ignoring case, as the push's
// match query compares). A rep created the record before the
// application's record was pushed; the push updates it rather than
// create another. Taken now, it would reach the app as sf:<Id>, and the
// push would then bind the app's key to the same record: one person twice
// in the app. It is left for a later poll (Stats.Deferred), which finds it
// bound to the key (its rep's values the push did not overwrite then
// arrive as the key's change), or, when the push settled otherwise (it
// matched another record with the value, or gave up), still unbound: a
// record created in Salesforce, sharing the value.
//
// A push that binds the record after the poll read the bindings and
// before it reads the queue is the store's to catch: the binding and the
// end of its queued work commit together, so one or the other is seen,
// and CommitPull refuses to bind an Id another key holds.
func (p *Puller) pushMayMatch(v *view, rec salesforce.Record) bool {
	if len(v.awaited) == 0 {
		return false
	}
	value, _ := rec[p.reader.d.Field(p.cfg.Mapping.Match.Fields[0]).Name].(string)
	return value != "" && len(v.awaited[strings.ToLower(value)]) > 0
}

// keyFor is the key rule for a record created in Salesforce: its External
// ID value when the mapping matches by one and the record has it, else
// "sf:" and its Id.
//
// The puller reads the batch's bindings once; a push may bind one of its
// records after that (it created the record, the poll read it, then the
// push committed). The key rule may then name sf:<Id> for a record bound
// under the app's key; CommitPull refuses to bind an Id another key holds
// (EConflict), and the batch is decided again on fresh bindings, where
// the record is bound: an echo, not a twin.
func (p *Puller) keyFor(ctx context.Context, rec salesforce.Record) (string, error) {
	m := p.cfg.Mapping
	if m.Match.Kind == forcesync.MatchExternalID {
		if v, _ := rec[p.reader.d.Field(m.Match.Field).Name].(string); v != "" {
			// A key bound to another record already keeps it.
			b, err := p.cfg.Store.Binding(ctx, m.Name, v)
			if err != nil {
				return "", err
			}
			if b == nil {
				return v, nil
			}
		}
	}
	return "sf:" + rec.ID(), nil
}

// decideLive settles a created or changed record, field by field, against
// the sync base: the value both sides last agreed on (or, when forcesync
// pushed since, the values it pushed: their return is an echo).
func (p *Puller) decideLive(v *view, rec salesforce.Record, st *Stats) (*forcesync.PulledRecord, error) {
	id := rec.ID()
	stamp, _ := Modstamp(rec)
	b := v.byID[id]
	r := &forcesync.PulledRecord{SalesforceID: id, Modstamp: stamp}
	frozen := converted(rec)
	switch {
	case frozen && b == nil:
		return nil, nil // converted before it was ever ours: a Contact's business
	case frozen && b.Fingerprint == forcesync.FingerprintConverted:
		st.Echoes++
		return nil, nil // told already; a converted Lead changes no more
	}
	if b == nil {
		ours, err := p.pushInFlight(v, rec)
		if err != nil {
			return nil, err
		}
		if ours {
			st.Echoes++
			return nil, nil
		}
		key, err := p.restoredKey(v, id)
		if err != nil {
			return nil, err
		}
		if key == "" {
			creating, err := p.createInFlight(v, rec)
			if err != nil {
				return nil, err
			}
			if creating || p.pushMayMatch(v, rec) {
				v.deferred[id] = true
				return nil, nil
			}
		}
		if key != "" {
			st.Restored++
		} else if key, err = p.keyFor(v.ctx, rec); err != nil {
			return nil, err
		} else {
			st.Created++
		}
		b = &forcesync.PullBinding{Key: key, SalesforceID: id}
		r.Bind = true
		if m := p.cfg.Mapping; key == "sf:"+id && m.Match.Kind == forcesync.MatchExternalID && m.Pushes() {
			if ext, _ := rec[p.reader.d.Field(m.Match.Field).Name].(string); ext == "" {
				v.stamps = append(v.stamps, id)
			}
		}
	}
	r.Key, r.ExpectFingerprint = b.Key, b.Fingerprint
	src, err := v.source(b.Key)
	if err != nil {
		return nil, err
	}
	var appFields map[string]any
	var appUpdated time.Time
	if src != nil {
		r.ExpectVersion, r.ExpectPullRev = src.Version, src.PullRev
		if !src.Deleted {
			appFields, appUpdated = src.Fields, src.Updated
		}
	}
	// The app's side in Salesforce's terms: its payload now.
	c := p.compiled
	var app map[string]any
	var appFP string
	if appFields != nil && p.cfg.Mapping.Pushes() {
		if pl, err := c.PayloadFor(b.Key, appFields, false); err == nil {
			app, appFP = pl.Fields, pl.Fingerprint
		}
	}
	merged := map[string]any{}
	if appFields != nil {
		merged = clone(appFields)
	}
	base := make(map[string]any, len(p.fields))
	ev := &forcesync.PulledChange{Key: b.Key, Op: forcesync.PulledUpsert, SalesforceID: id, Modstamp: stamp, Fields: map[string]any{}}
	wrote := false
	for _, f := range p.fields {
		s := rec[f.Target]
		base[f.Target] = s
		old, known := b.Pushed[f.Target]
		if !known {
			old, known = b.Base[f.Target]
		}
		if !f.Both && appFields != nil {
			// A pull row belongs to Salesforce: compared with what the app
			// holds, so an ingest that carried an older value is corrected.
			old, known = getPath(appFields, f.Source), true
		}
		if known && same(f.Type, s, old) {
			if appFields == nil {
				// No live record in the app (it deleted it, or never had
				// it): Salesforce's values make the record whole, should
				// another field's change bring it back.
				setPath(merged, f.Source, plain(s))
			}
			ev.Fields[f.Source] = plain(getPath(merged, f.Source))
			if !f.Both {
				ev.Fields[f.Source] = plain(s)
			}
			continue // Salesforce did not change it (or it is our echo)
		}
		takeSF := true
		if f.Both && app != nil {
			a := app[f.Target]
			switch {
			case same(f.Type, a, s):
				ev.Fields[f.Source] = plain(s)
				continue // both sides hold it already
			case known && same(f.Type, a, old):
				// only Salesforce changed it
			case !known && empty(getPath(appFields, f.Source)):
				// No sync base for the field (a row added to the mapping
				// since the record was last synced): the app never had a
				// value, so Salesforce's is the only one. Nothing conflicts.
			case !known && empty(s):
				// No sync base, and only the app has a value: it stands,
				// and goes to Salesforce (the push sends a field it has
				// no base for).
				takeSF = false
				r.Requeue = true
			default:
				// Salesforce's side is as new as the record's SystemModstamp,
				// or as the one a push read when it held the field back: its
				// own write of the app's other fields moved it on since.
				sfAt := stamp
				if t, ok := b.Held[f.Target]; ok && t.Before(sfAt) {
					sfAt = t
				}
				winner := "salesforce"
				switch {
				case frozen:
					// A converted Lead takes no more writes: it keeps its value.
				case f.Policy == forcesync.AppWins:
					winner = "app"
				case f.Policy == forcesync.NewestWins && appUpdated.After(sfAt):
					winner = "app"
				}
				r.Conflicts = append(r.Conflicts, forcesync.Conflict{Field: f.Target, App: a, Remote: plain(s), Policy: f.Policy, Winner: winner, Modstamp: sfAt})
				st.Conflicts++
				if winner == "app" {
					takeSF = false
					r.Requeue = true // the app's value goes back to Salesforce
				}
			}
		}
		if !takeSF {
			ev.Fields[f.Source] = plain(getPath(merged, f.Source))
			continue
		}
		setPath(merged, f.Source, plain(s))
		ev.Fields[f.Source] = plain(s)
		ev.Changed = append(ev.Changed, f.Source)
		wrote = true
	}
	r.Base = base
	if wrote && p.settings.Has(forcesync.SinkSource) {
		r.SourceFields = merged
		// What the commit will store: the app's version and accept time
		// kept (a new record: version 1, now), one more pulled change.
		next := &forcesync.SourceRecord{Key: b.Key, Version: 1, Fields: merged, Updated: p.cfg.Now(), PullRev: r.ExpectPullRev + 1}
		if src != nil && src.Version > 0 {
			next.Version, next.Updated = src.Version, src.Updated
		}
		v.sources[b.Key] = next
	}
	// The binding's fingerprint follows the merged record when the app had
	// nothing unpushed: its payload is what Salesforce holds now, so the
	// queued push settles without a call. Unpushed app changes keep the
	// old one, and are pushed (with Salesforce's values merged in).
	if p.cfg.Mapping.Pushes() && (r.Bind || appFP == b.Fingerprint) && r.SourceFields != nil {
		if pl, err := c.PayloadFor(b.Key, merged, false); err == nil {
			r.Fingerprint = pl.Fingerprint
		}
	}
	if frozen {
		// Converted: the Lead mapping settles the key without a call from
		// now on (the source's Contact mapping, if any, carries it), and
		// the app is told which Contact the Lead became.
		r.Fingerprint, r.Requeue = forcesync.FingerprintConverted, false
		ev.Op = forcesync.PulledConvert
		ev.ConvertedTo, _ = rec["ConvertedContactId"].(string)
		st.Converted++
		r.Event = ev
		if r.Bind {
			v.byID[id] = &forcesync.PullBinding{Key: b.Key, SalesforceID: id, Fingerprint: r.Fingerprint, Base: base}
		}
		return r, nil
	}
	switch {
	case len(ev.Changed) > 0 || r.Bind:
		if r.Bind {
			ev.Changed = nil
			for _, f := range p.fields {
				ev.Changed = append(ev.Changed, f.Source)
			}
		} else {
			st.Changed++
		}
		r.Event = ev
	case len(r.Conflicts) == 0:
		st.Echoes++
	}
	if r.Bind {
		v.byID[id] = &forcesync.PullBinding{Key: b.Key, SalesforceID: id, Fingerprint: r.Fingerprint, Base: base}
	}
	return r, nil
}
