package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/salesforce"
)

// Reconcile compares what Salesforce holds for a mapping's bound records
// with what forcesync last pushed and the source holds now, and reports
// drift by kind (forcesync.DriftKind). It reads Salesforce through one
// Bulk API 2.0 query of the object when the mapping has more bound records
// than a threshold (a handful of calls for any number), and by Id in SOQL
// chunks below it. With Heal it queues the repairs a push mapping can make.

// ReconcileOptions tunes Reconcile. The zero value reports without healing.
type ReconcileOptions struct {
	// BulkThreshold is how many bound records make reconcile read the
	// object through Bulk API 2.0. Zero means 2,000; negative never.
	BulkThreshold int
	// Heal repairs what it can (see heal): records changed in Salesforce
	// are pushed again; records deleted, merged or missing are created
	// again when the mapping may create (merged ones only when a match
	// rule can find their survivor); bindings to converted Leads move to
	// the Contact under the source's Contact mapping; unbound twins are
	// deleted when the mapping deletes in Salesforce; source records never
	// synced are queued. The repairs go through the mapping's mass-change
	// guard: more than its limit and nothing is healed until a person
	// approves the mapping (forcesync approve).
	Heal bool
	// Now is the guard's clock; nil means time.Now.
	Now func() time.Time
}

// ErrBudgetSpent refuses a reconcile (or a plan) when the budget governor
// does not let it spend what it needs.
var ErrBudgetSpent = errors.New("API budget spent")

// ErrHealPaused refuses a heal the mass-change guard paused: more repairs
// than the mapping's guard lets through in a window.
var ErrHealPaused = errors.New("heal paused by the mass-change guard")

// Reconciler reconciles compiled mappings.
type Reconciler struct {
	store forcesync.Store
	in    forcesync.Inspector
	api   API
	rd    Reader
	pipes []*Pipe
	gov   *Governor
}

// NewReconciler returns a reconciler for pipes; store must be a
// forcesync.Inspector and api a Reader. Its reads are charged to a budget
// governor over the store's ledger (WithGovernor sets the connection's).
func NewReconciler(store forcesync.Store, api API, pipes []*Pipe) (*Reconciler, error) {
	in, ok := forcesync.StoreAs[forcesync.Inspector](store)
	if !ok {
		return nil, fmt.Errorf("reconcile: the store %T cannot be inspected", store)
	}
	rd, ok := api.(Reader)
	if !ok {
		return nil, fmt.Errorf("reconcile: the API %T cannot read records back", api)
	}
	return &Reconciler{store: store, in: in, api: api, rd: rd, pipes: pipes}, nil
}

// WithGovernor makes the reconciler ask g before reading and charge g what
// it spent, like the pushes of g's connection.
func (rc *Reconciler) WithGovernor(g *Governor) *Reconciler {
	rc.gov = g
	return rc
}

// governor returns the reconciler's governor, making one over the store's
// ledger with the default bounds when none was given.
func (rc *Reconciler) governor(ctx context.Context) (*Governor, error) {
	if rc.gov != nil {
		return rc.gov, nil
	}
	g, err := defaultGovernor(ctx, rc.store, rc.api, rc.pipes)
	if err != nil {
		return nil, err
	}
	rc.gov = g
	return g, nil
}

// defaultGovernor is a governor with the default bounds over the store's
// ledger, for the connection of pipes (as engine.New names it).
func defaultGovernor(ctx context.Context, store forcesync.Store, api API, pipes []*Pipe) (*Governor, error) {
	conn := "default"
	if len(pipes) > 0 && pipes[0].Mapping.Connection != "" {
		conn = pipes[0].Mapping.Connection
	}
	gc := GovernorConfig{Connection: conn, Ledger: store}
	if lr, ok := api.(LimitsReader); ok {
		gc.Limits = lr.DailyAPIUsage
	}
	return NewGovernor(ctx, gc)
}

// Calls a reconcile asks the governor for before reading: a Bulk query
// job (create, poll, results, and a follow-up by Id), or one SOQL page of
// 2,000 records per page plus the twins' query.
const reconcileBulkCalls = 6

func reconcileNeed(bound, threshold int) int {
	if threshold > 0 && bound > threshold {
		return reconcileBulkCalls
	}
	return 2 + bound/2000
}

// Reconcile compares one mapping and stores the run with its findings.
// With Heal, the repairs are made or queued (a running engine, or a drain,
// pushes them); a heal the mass-change guard paused is an error wrapping
// ErrHealPaused, a reconcile the budget does not allow one wrapping
// ErrBudgetSpent; the run is stored all the same.
func (rc *Reconciler) Reconcile(ctx context.Context, mappingName string, opt ReconcileOptions) (*forcesync.ReconcileRun, []forcesync.Finding, error) {
	var p *Pipe
	for _, x := range rc.pipes {
		if x.Mapping.Name == mappingName {
			p = x
		}
	}
	if p == nil {
		return nil, nil, forcesync.Errorf(forcesync.ENotFound, "reconcile: no mapping %q", mappingName)
	}
	threshold := opt.BulkThreshold
	if threshold == 0 {
		threshold = 2000
	}
	now := opt.Now
	if now == nil {
		now = time.Now
	}
	run := &forcesync.ReconcileRun{Mapping: mappingName, Started: now().UTC(), API: "query", Counts: map[forcesync.DriftKind]int{}}
	var d *drift
	binds, converted, err := rc.bindings(ctx, p)
	var gov *Governor
	if err == nil {
		gov, err = rc.governor(ctx)
	}
	var counter salesforce.CallCounter
	cctx := salesforce.WithCallCounter(ctx, &counter)
	if err == nil {
		// Reading 100,000 records is cheap, but pushes come first: the
		// reconcile spends from the backfill lane and waits its turn. The
		// governor charges its own /limits read, if it makes one.
		ok, why := gov.Allow(cctx, forcesync.LaneBackfill, reconcileNeed(len(binds), threshold))
		charged := counter.Calls()
		if !ok {
			err = fmt.Errorf("reconcile %s: %w: %s", mappingName, ErrBudgetSpent, why)
		} else {
			d, err = rc.compare(cctx, p, binds, converted, threshold, run)
			if err == nil && opt.Heal {
				err = rc.heal(cctx, p, d, run, now())
			}
			gov.Spent(ctx, forcesync.LaneBackfill, counter.Calls()-charged)
		}
	}
	if err != nil {
		run.Error = err.Error()
	}
	var findings []forcesync.Finding
	if d != nil {
		findings = d.findings
	}
	for _, f := range findings {
		run.Counts[f.Kind]++
	}
	run.Finished = now().UTC()
	run.APICalls = counter.Calls()
	if serr := rc.in.SaveReconcile(context.WithoutCancel(ctx), run, findings); serr != nil {
		return run, findings, errors.Join(err, serr)
	}
	return run, findings, err
}

// reconcilePage is how many bindings, source records or keys reconcile
// reads from the store at a time: few statements for any number of
// records, and a page's worth of memory.
const reconcilePage = 5000

// bindings lists the bindings of p's mapping that reconcile compares, and
// the keys of the others: Leads converted and carried on under the Contact
// mapping, settled rather than drift, but bound all the same.
func (rc *Reconciler) bindings(ctx context.Context, p *Pipe) (binds []forcesync.Binding, converted []string, err error) {
	for after := ""; ; {
		page, err := rc.in.Bindings(ctx, p.Mapping.Name, after, reconcilePage)
		if err != nil {
			return nil, nil, err
		}
		for _, b := range page {
			if b.Fingerprint == forcesync.FingerprintConverted {
				converted = append(converted, b.Key)
				continue
			}
			binds = append(binds, b)
		}
		if len(page) < reconcilePage {
			return binds, converted, nil
		}
		after = page[len(page)-1].Key
	}
}

// drift is what compare found, with what heal needs beyond the findings.
type drift struct {
	findings []forcesync.Finding
	// contactOf is the Contact a converted Lead became, by key.
	contactOf map[string]string
	// leadOf is the converted Lead's Id, by key.
	leadOf map[string]string
	// twinsOf lists, by key, the other live records carrying the key's
	// match value that no binding of the mapping points at.
	twinsOf map[string][]string
	// sources are the source records of the never-synced findings.
	sources map[string]*forcesync.SourceRecord
}

// reconcileFields are the Salesforce fields reconcile reads for p: the
// mapped ones, the match fields, and the facts of life of the object
// (deleted, merged, converted) that its describe has.
func (rc *Reconciler) reconcileFields(ctx context.Context, p *Pipe) ([]string, string, error) {
	d, err := rc.api.Describe(ctx, p.Compiled.Object())
	if err != nil {
		return nil, "", err
	}
	var fields []string
	add := func(name string) {
		if f := d.Field(name); f != nil {
			fields = append(fields, f.Name)
		}
	}
	for _, r := range p.Mapping.Fields {
		if r.Direction == "" || r.Direction == forcesync.Push || r.Direction == forcesync.Both {
			add(r.Target)
		}
	}
	matchField := p.Compiled.ExternalIDField()
	if p.Mapping.Match.Kind == forcesync.MatchFields {
		matchField = p.Mapping.Match.Fields[0]
	}
	if matchField != "" {
		add(matchField)
		if f := d.Field(matchField); f != nil {
			matchField = f.Name
		}
	}
	for _, n := range []string{"IsDeleted", "MasterRecordId", "IsConverted", "ConvertedContactId"} {
		add(n)
	}
	return fields, matchField, nil
}

// compare reads Salesforce and lists the drift of p's records; converted
// are the keys of the mapping's other bindings (see bindings).
func (rc *Reconciler) compare(ctx context.Context, p *Pipe, binds []forcesync.Binding, converted []string, threshold int, run *forcesync.ReconcileRun) (*drift, error) {
	run.Checked = len(binds)
	fields, matchField, err := rc.reconcileFields(ctx, p)
	if err != nil {
		return nil, err
	}
	byID, byMatch, err := rc.readBound(ctx, p, binds, fields, matchField, threshold, run)
	if err != nil {
		return nil, err
	}
	d := &drift{contactOf: map[string]string{}, leadOf: map[string]string{}, twinsOf: map[string][]string{}, sources: map[string]*forcesync.SourceRecord{}}
	// The bound records Salesforce holds live are compared with their
	// source records, read in pages after this first pass.
	var live []boundRecord
	for _, b := range binds {
		r, ok := byID[b.SalesforceID]
		if !ok {
			r, ok = byID[longID(b.SalesforceID)]
		}
		switch {
		case !ok:
			d.add(p, b, forcesync.DriftMissing, "not in Salesforce, not even in the recycle bin", nil)
		case r["IsDeleted"] == true:
			if m := canonical(r["MasterRecordId"]); m != "" {
				d.add(p, b, forcesync.DriftMerged, "merged into "+m, nil)
			} else {
				d.add(p, b, forcesync.DriftDeleted, "in the recycle bin", nil)
			}
		case r["IsConverted"] == true:
			detail := "converted"
			if c := canonical(r["ConvertedContactId"]); c != "" {
				detail = "converted to Contact " + c
				d.contactOf[b.Key], d.leadOf[b.Key] = c, r.ID()
			}
			d.add(p, b, forcesync.DriftConverted, detail, nil)
		default:
			live = append(live, boundRecord{b, r})
		}
	}
	matchOf := map[string]string{} // key -> lower-cased match value, for twins
	sharers := map[string]int{}    // 15-character Id -> live bindings to it
	for _, br := range live {
		sharers[id15(br.b.SalesforceID)]++
	}
	shared := map[string][]sharedCmp{} // 15-character Id -> its sharers' comparisons
	for lo := 0; lo < len(live); lo += reconcilePage {
		if err := rc.compareFields(ctx, p, live[lo:min(lo+reconcilePage, len(live))], matchField, matchOf, sharers, shared, d); err != nil {
			return nil, err
		}
	}
	resolveShared(p, shared, d)
	if err := rc.findTwins(ctx, p, binds, matchField, matchOf, byMatch, run, d); err != nil {
		return nil, err
	}
	never, err := rc.neverSynced(ctx, p, binds, converted, d)
	if err != nil {
		return nil, err
	}
	d.findings = append(d.findings, never...)
	sort.SliceStable(d.findings, func(i, j int) bool { return d.findings[i].Key < d.findings[j].Key })
	return d, nil
}

// add lists a finding of b's record.
func (d *drift) add(p *Pipe, b forcesync.Binding, kind forcesync.DriftKind, detail string, fs []forcesync.FieldDrift) {
	d.findings = append(d.findings, forcesync.Finding{Mapping: p.Mapping.Name, Key: b.Key, SalesforceID: b.SalesforceID,
		Kind: kind, Detail: detail, Fields: fs})
}

// boundRecord is a binding with the live Salesforce record it points at.
type boundRecord struct {
	b forcesync.Binding
	r salesforce.Record
}

// readBound reads fields of the bound records from Salesforce, by Id
// (15- or 18-character), and, on a Bulk read, lists the live records of
// the object by lower-cased match value, for twins.
func (rc *Reconciler) readBound(ctx context.Context, p *Pipe, binds []forcesync.Binding, fields []string, matchField string, threshold int,
	run *forcesync.ReconcileRun) (byID map[string]salesforce.Record, byMatch map[string][]string, err error) {
	obj := p.Compiled.Object()
	byID = map[string]salesforce.Record{}
	byMatch = map[string][]string{} // live records by lower-cased match value
	keep := func(r salesforce.Record) {
		byID[r.ID()] = r
		if deleted, _ := r["IsDeleted"].(bool); !deleted && matchField != "" {
			if v := canonical(r[matchField]); v != "" {
				byMatch[strings.ToLower(v)] = append(byMatch[strings.ToLower(v)], r.ID())
			}
		}
	}
	if threshold > 0 && len(binds) > threshold {
		run.API = "bulk"
		err := rc.rd.ReadAll(ctx, obj, fields, rc.scope(p, binds, matchField), true, func(r salesforce.Record) error { keep(r); return nil })
		if err != nil {
			return nil, nil, err
		}
		// Bound records the scope left out (someone cleared the field it
		// selects by): by Id, so that they are not taken for missing.
		var rest []string
		for _, b := range binds {
			if _, ok := byID[b.SalesforceID]; !ok && byID[longID(b.SalesforceID)] == nil {
				rest = append(rest, b.SalesforceID)
			}
		}
		recs, err := rc.rd.ReadWhere(ctx, obj, "Id", rest, fields, true)
		if err != nil {
			return nil, nil, err
		}
		for _, r := range recs {
			keep(r)
		}
	} else if len(binds) > 0 {
		ids := make([]string, len(binds))
		for i, b := range binds {
			ids[i] = b.SalesforceID
		}
		recs, err := rc.rd.ReadWhere(ctx, obj, "Id", ids, fields, true)
		if err != nil {
			return nil, nil, err
		}
		for _, r := range recs {
			keep(r)
		}
	}
	return byID, byMatch, nil
}

// compareFields compares the live bound records of page with what
// forcesync would send from their source records now, read in one go,
// lists the fields Salesforce no longer holds, and notes each record's
// lower-cased match value in matchOf.
// A record several keys are bound to (sharers counts them by Id) is not
// judged here: its comparisons go to shared, for resolveShared.
func (rc *Reconciler) compareFields(ctx context.Context, p *Pipe, page []boundRecord, matchField string, matchOf map[string]string,
	sharers map[string]int, shared map[string][]sharedCmp, d *drift) error {
	keys := make([]string, len(page))
	for i, br := range page {
		keys[i] = br.b.Key
	}
	srcs, err := liveSources(ctx, rc.store, p.Mapping.Source, keys)
	if err != nil {
		return err
	}
	twoWay := twoWayFields(p)
	for _, br := range page {
		b, r := br.b, br.r
		src := srcs[b.Key]
		if src == nil {
			continue // a delete on its way
		}
		if src.Unreadable != nil {
			d.add(p, b, forcesync.DriftUnreadable, src.Unreadable.Message, nil)
			continue // nothing to compare with; its Salesforce record stays
		}
		if ok, err := p.Compiled.Filter(src.Fields); err != nil || !ok {
			continue // no longer the mapping's: not drift
		}
		pl, err := p.Compiled.PayloadFor(b.Key, src.Fields, false)
		if err != nil {
			continue // the push holds it; its status says why
		}
		if v := matchValue(pl.Match, matchField); v != "" {
			matchOf[b.Key] = strings.ToLower(v)
		}
		if id := id15(b.SalesforceID); sharers[id] > 1 {
			c := sharedCmp{b: b, onItsWay: pl.Fingerprint != b.Fingerprint}
			if !c.onItsWay {
				c.diffs = fieldDrift(pl.Fields, r, p.Compiled.ExternalIDField(), twoWay)
			}
			shared[id] = append(shared[id], c)
			continue
		}
		if pl.Fingerprint != b.Fingerprint {
			continue // the source changed since: a push is on its way
		}
		if diffs := fieldDrift(pl.Fields, r, p.Compiled.ExternalIDField(), twoWay); len(diffs) > 0 {
			d.add(p, b, forcesync.DriftFieldChanged, "", diffs)
		}
	}
	return nil
}

// sharedCmp is the comparison of one key bound to a record other keys of
// the mapping are bound to too.
type sharedCmp struct {
	b forcesync.Binding
	// onItsWay: the key's source changed since its last push.
	onItsWay bool
	diffs    []forcesync.FieldDrift
}

// resolveShared judges each record several keys are bound to (matching by
// fields binds two people with one email to one Contact). Every push of
// any of them writes the record, so it holds the values of the key pushed
// last, and only that key's values are the record's to compare: the keys
// whose binding is live (not disabled), the one whose values the record
// holds when there is one, else the one whose binding was written last (the
// last push to the record). Its drift is reported as usual; the others are
// reported shared, never drift, and heal leaves them alone: pushing them
// again would write older values over the live key's.
func resolveShared(p *Pipe, shared map[string][]sharedCmp, d *drift) {
	ids := make([]string, 0, len(shared))
	for id := range shared {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		cs := shared[id]
		if len(cs) == 1 {
			if c := cs[0]; !c.onItsWay && len(c.diffs) > 0 {
				d.add(p, c.b, forcesync.DriftFieldChanged, "", c.diffs)
			}
			continue
		}
		cur := -1
		better := func(i int) bool {
			if cur < 0 {
				return true
			}
			a, b := cs[i], cs[cur]
			if lv, lc := a.b.Fingerprint != forcesync.FingerprintDisabled, b.b.Fingerprint != forcesync.FingerprintDisabled; lv != lc {
				return lv
			}
			if ha, hb := !a.onItsWay && len(a.diffs) == 0, !b.onItsWay && len(b.diffs) == 0; ha != hb {
				return ha
			}
			if !a.b.Updated.Equal(b.b.Updated) {
				return a.b.Updated.After(b.b.Updated)
			}
			return a.b.Key > b.b.Key
		}
		for i := range cs {
			if better(i) {
				cur = i
			}
		}
		c := cs[cur]
		if !c.onItsWay && len(c.diffs) > 0 {
			d.add(p, c.b, forcesync.DriftFieldChanged, "", c.diffs)
		}
		for i, o := range cs {
			if i == cur {
				continue
			}
			d.add(p, o.b, forcesync.DriftShared, fmt.Sprintf("%s %s is shared with key %s, whose values it holds; compared with that key, not this one",
				p.Compiled.Object(), o.b.SalesforceID, c.b.Key), nil)
		}
	}
}

// liveSources returns the stored records of keys of source that are not
// deleted; a deleted one is absent. They are read in one call when the
// store is a forcesync.SettledReader. A key that read does not hold (or
// holds in a form it cannot decode), and every key of another store, is
// read on its own, so that it gets the store's own answer; a key with no
// stored record is absent, and one whose fields cannot be read back comes
// with Unreadable set.
func liveSources(ctx context.Context, store forcesync.Store, source string, keys []string) (map[string]*forcesync.SourceRecord, error) {
	var settled map[string]forcesync.Settled
	if sr, ok := forcesync.StoreAs[forcesync.SettledReader](store); ok {
		var err error
		if settled, err = sr.Settled(ctx, source, nil, keys); err != nil {
			return nil, err
		}
	}
	out := make(map[string]*forcesync.SourceRecord, len(keys))
	for _, k := range keys {
		if s, ok := settled[k]; ok {
			if s.Deleted {
				continue
			}
			rec := &forcesync.SourceRecord{Source: source, Key: k, Version: s.Version}
			if s.Fields != "" && json.Unmarshal([]byte(s.Fields), &rec.Fields) == nil {
				out[k] = rec
				continue
			}
		}
		rec, err := store.SourceRecord(ctx, source, k)
		if forcesync.ErrorCode(err) == forcesync.ENotFound {
			continue // bound, but the store holds no record: nothing to compare
		}
		if re, ok := errors.AsType[*forcesync.RecordError](err); ok && re.Code == forcesync.CodeUnreadableRecord && rec != nil {
			rec.Unreadable, err = re, nil
		}
		if err != nil {
			return nil, err
		}
		if rec != nil && !rec.Deleted {
			out[k] = rec
		}
	}
	return out, nil
}

// findTwins lists, for each bound record whose lower-cased match value
// (matchOf) other live records carry, those records: from byMatch on a
// Bulk read, by one query of the match values otherwise.
func (rc *Reconciler) findTwins(ctx context.Context, p *Pipe, binds []forcesync.Binding, matchField string, matchOf map[string]string,
	byMatch map[string][]string, run *forcesync.ReconcileRun, d *drift) error {
	if matchField == "" || len(matchOf) == 0 {
		return nil
	}
	if run.API != "bulk" {
		values := make([]string, 0, len(matchOf))
		seen := map[string]bool{}
		for _, v := range matchOf {
			if !seen[v] {
				seen[v] = true
				values = append(values, v)
			}
		}
		sort.Strings(values)
		recs, err := rc.rd.ReadWhere(ctx, p.Compiled.Object(), matchField, values, []string{matchField}, false)
		if err != nil {
			return err
		}
		byMatch = map[string][]string{}
		for _, r := range recs {
			v := strings.ToLower(canonical(r[matchField]))
			byMatch[v] = append(byMatch[v], r.ID())
		}
	}
	bound := make(map[string]bool, len(binds))
	for _, b := range binds {
		bound[id15(b.SalesforceID)] = true
	}
	for _, b := range binds {
		v, ok := matchOf[b.Key]
		if !ok || len(byMatch[v]) < 2 {
			continue
		}
		ids := append([]string(nil), byMatch[v]...)
		sort.Strings(ids)
		var unbound []string
		for _, id := range ids {
			if !bound[id15(id)] {
				unbound = append(unbound, id)
			}
		}
		d.twinsOf[b.Key] = unbound
		d.add(p, b, forcesync.DriftTwins, fmt.Sprintf("%d records have %s %q: %s (bound: %s)", len(ids), matchField, v, strings.Join(ids, ", "), b.SalesforceID), nil)
	}
	return nil
}

// scope is the filter of reconcile's Bulk read: the records forcesync may
// have bound, not the whole object. An External ID mapping's records carry
// its External ID; a mapping matched by fields reads the records holding a
// match value from the oldest bound Id on (its twins made since included);
// any other reads from the oldest bound Id on.
func (rc *Reconciler) scope(p *Pipe, binds []forcesync.Binding, matchField string) salesforce.Cond {
	if ext := p.Compiled.ExternalIDField(); ext != "" {
		return salesforce.NotNull(ext)
	}
	oldest := ""
	for _, b := range binds {
		if id := id15(b.SalesforceID); oldest == "" || id < oldest {
			oldest = id
		}
	}
	from := salesforce.Ge("Id", oldest)
	if matchField != "" {
		return salesforce.And(salesforce.NotNull(matchField), from)
	}
	return from
}

// id15 is the case-sensitive 15-character form of an Id.
func id15(id string) string {
	if len(id) == 18 {
		return id[:15]
	}
	return id
}

// longID is the 18-character form of a 15-character Id, as the read
// records are keyed.
func longID(id string) string { return salesforce.ID18(id) }

// twoWayFields are the lower-cased targets of p's both rows: a value
// Salesforce holds there that differs from the app's is a change the next
// poll brings to the application (by the mapping's conflict rules), not
// drift for a heal to push over.
func twoWayFields(p *Pipe) map[string]bool {
	out := map[string]bool{}
	for _, f := range p.Compiled.Pulls() {
		if f.Both {
			out[strings.ToLower(f.Target)] = true
		}
	}
	return out
}

// fieldDrift lists the payload fields whose value Salesforce no longer
// holds, leaving out ext and the two-way fields (see twoWayFields).
func fieldDrift(fields map[string]any, r salesforce.Record, ext string, twoWay map[string]bool) []forcesync.FieldDrift {
	var out []forcesync.FieldDrift
	for k, v := range fields {
		if strings.EqualFold(k, ext) || twoWay[strings.ToLower(k)] {
			continue
		}
		var has any
		for rk, rv := range r {
			if strings.EqualFold(rk, k) {
				has = rv
				break
			}
		}
		if !sameValue(has, v) {
			out = append(out, forcesync.FieldDrift{Field: k, Salesforce: has, Expected: v})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Field < out[j].Field })
	return out
}

// neverSynced lists the source records the mapping takes that have no
// binding (converted are the keys of the bindings compare leaves out) and
// are not on their way (pending or retrying), and keeps them in d.sources
// for heal. It walks the source a page at a time by key and reads the
// states of a page's unbound records in one go. An unbound record whose
// fields cannot be read back is listed as unreadable instead: whether the
// mapping takes it cannot be told, and heal leaves it alone.
func (rc *Reconciler) neverSynced(ctx context.Context, p *Pipe, binds []forcesync.Binding, converted []string, d *drift) ([]forcesync.Finding, error) {
	bound := make(map[string]bool, len(binds)+len(converted))
	for _, b := range binds {
		bound[b.Key] = true
	}
	for _, k := range converted {
		bound[k] = true
	}
	var out []forcesync.Finding
	for after := ""; ; {
		recs, err := rc.store.SourceRecords(ctx, forcesync.SourceQuery{Source: p.Mapping.Source, After: after, Limit: reconcilePage})
		if err != nil {
			return nil, err
		}
		var unbound []*forcesync.SourceRecord
		for i := range recs {
			r := &recs[i]
			if bound[r.Key] || r.Deleted {
				continue
			}
			if r.Unreadable != nil {
				out = append(out, forcesync.Finding{Mapping: p.Mapping.Name, Key: r.Key, Kind: forcesync.DriftUnreadable, Detail: r.Unreadable.Message})
				continue
			}
			if ok, err := p.Compiled.Filter(r.Fields); err != nil || !ok {
				continue
			}
			unbound = append(unbound, r)
		}
		statuses, err := rc.statusesOf(ctx, p, unbound)
		if err != nil {
			return nil, err
		}
		for _, r := range unbound {
			detail, inFlight := neverSyncedDetail(p, statuses[r.Key])
			if inFlight {
				continue
			}
			d.sources[r.Key] = r
			out = append(out, forcesync.Finding{Mapping: p.Mapping.Name, Key: r.Key, Kind: forcesync.DriftNeverSynced, Detail: detail})
		}
		if len(recs) < reconcilePage {
			return out, nil
		}
		after = recs[len(recs)-1].Key
	}
}

// statusesOf returns, by key, the statuses of recs that neverSyncedDetail
// needs: their states under p's mapping, read in one call when the store
// is a forcesync.SettledReader. A held record's status is read on its own,
// for its error code, and so is every record of another store, or one
// that read does not hold.
func (rc *Reconciler) statusesOf(ctx context.Context, p *Pipe, recs []*forcesync.SourceRecord) (map[string][]forcesync.RecordStatus, error) {
	out := make(map[string][]forcesync.RecordStatus, len(recs))
	if len(recs) == 0 {
		return out, nil
	}
	keys := make([]string, len(recs))
	for i, r := range recs {
		keys[i] = r.Key
	}
	m := p.Mapping.Name
	var settled map[string]forcesync.Settled
	if sr, ok := forcesync.StoreAs[forcesync.SettledReader](rc.store); ok {
		var err error
		if settled, err = sr.Settled(ctx, p.Mapping.Source, []string{m}, keys); err != nil {
			return nil, err
		}
	}
	for _, k := range keys {
		if s, ok := settled[k]; ok {
			sm, ok := s.Mappings[m]
			if !ok {
				continue // no status under the mapping
			}
			if sm.State != forcesync.StateHeld {
				out[k] = []forcesync.RecordStatus{{Mapping: m, Key: k, Source: p.Mapping.Source, State: sm.State}}
				continue
			}
		}
		sts, err := rc.store.Statuses(ctx, p.Mapping.Source, k)
		if err != nil {
			return nil, err
		}
		out[k] = sts
	}
	return out, nil
}

// neverSyncedDetail is the detail of an unbound record's never_synced
// finding from its statuses (under every mapping), and whether it is on
// its way instead (pending or retrying under p's mapping).
func neverSyncedDetail(p *Pipe, sts []forcesync.RecordStatus) (detail string, inFlight bool) {
	detail = neverQueued
	for _, st := range sts {
		if st.Mapping != p.Mapping.Name {
			continue
		}
		switch st.State {
		case forcesync.StatePending, forcesync.StateRetrying:
			inFlight = true
		case forcesync.StateHeld:
			detail = "held"
			if st.Error != nil {
				detail = "held: " + st.Error.Code
			}
		default:
			detail = string(st.State)
		}
	}
	return detail, inFlight
}

// neverQueued is the detail of a never-synced record the mapping has no
// status for.
const neverQueued = "never queued for this mapping"

// repair is one change a heal makes.
type repair struct {
	finding int
	kind    repairKind
}

type repairKind int

const (
	repairRepush   repairKind = iota // requeue: pushed again
	repairRecreate                   // unbind and requeue: created again
	repairEnqueue                    // accept the source record for the mapping
	repairConvert                    // rebind to the Contact a Lead became
	repairTwins                      // delete the unbound twins
)

// heal repairs what the findings call for, through the mapping's
// mass-change guard. The rules, by kind:
//
//   - field_changed: pushed again (the source's values win), when the
//     mapping may update.
//   - deleted, missing: unbound and created again, when the mapping may
//     create; merged too, when a match rule can find the survivor.
//   - converted: bound to the Contact the Lead became under the source's
//     Contact mapping, when there is one that takes the record (its
//     External ID is stamped on the Contact when it upserts by one), and
//     requeued there; the Lead mapping's status becomes converted.
//     Without such a mapping it is left for a person.
//   - twins: the bound record stays. The other live records carrying its
//     match value that no binding of the mapping points at are deleted
//     (to the recycle bin, where they stay 15 days) when the mapping
//     deletes in Salesforce (operations.delete: delete); otherwise, or
//     when another binding points at them, they are left for a person.
//   - never_synced: queued (accepted again for the mapping, or requeued
//     when it has a status), not healed: its detail ends "queued" and
//     run.Queued counts it; the push that follows settles it.
//   - shared: left alone; the record holds another key's values.
//   - unreadable: left alone; sending the record again repairs it.
//
// All the repairs count as changes for the guard: beyond its limit the
// guard pauses the mapping, nothing is changed, and the heal is refused
// with ErrHealPaused until someone approves the mapping (forcesync
// approve), after which the same heal goes through.
func (rc *Reconciler) heal(ctx context.Context, p *Pipe, d *drift, run *forcesync.ReconcileRun, now time.Time) error {
	if p.Mapping.Direction == forcesync.Pull {
		return fmt.Errorf("heal: mapping %s pulls from Salesforce; healing re-pushes and is for push mappings", p.Mapping.Name)
	}
	c := p.Compiled
	fs := d.findings
	canFind := p.Mapping.Match.Kind != forcesync.MatchBinding
	cp := rc.contactPipe(p)
	otherBound, err := rc.boundElsewhere(ctx, p, d)
	if err != nil {
		return err
	}
	var plan []repair
	changes := 0
	for i, f := range fs {
		switch f.Kind {
		case forcesync.DriftFieldChanged:
			if c.CanUpdate() {
				plan = append(plan, repair{i, repairRepush})
			}
		case forcesync.DriftDeleted, forcesync.DriftMissing:
			if c.CanCreate() {
				plan = append(plan, repair{i, repairRecreate})
			}
		case forcesync.DriftMerged:
			if c.CanCreate() && canFind {
				plan = append(plan, repair{i, repairRecreate})
			}
		case forcesync.DriftConverted:
			if why := convertBlock(p, cp, d, f.Key); why != "" {
				fs[i].Detail += "; left for a person: " + why
				continue
			}
			plan = append(plan, repair{i, repairConvert})
		case forcesync.DriftTwins:
			var del []string
			for _, id := range d.twinsOf[f.Key] {
				if !otherBound[id15(id)] {
					del = append(del, id)
				}
			}
			d.twinsOf[f.Key] = del
			switch {
			case len(del) == 0:
				fs[i].Detail += "; left for a person: every twin is bound to a record"
				continue
			case !c.DeletesInSalesforce():
				fs[i].Detail += "; left for a person: the mapping does not delete in Salesforce (operations.delete: delete)"
				continue
			}
			plan = append(plan, repair{i, repairTwins})
			changes += len(del) - 1
		case forcesync.DriftNeverSynced:
			if f.Detail == neverQueued {
				plan = append(plan, repair{i, repairEnqueue})
			} else {
				plan = append(plan, repair{i, repairRepush})
			}
		}
	}
	changes += len(plan)
	if len(plan) == 0 {
		return nil
	}
	if !p.Mapping.Guard.Off {
		g := forcesync.MassGuard{Store: rc.store, Limits: p.Mapping.Guard}
		ok, st, err := g.Allow(ctx, p.Mapping.Name, changes, max(run.Checked, 1), now)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("heal %s: %d changes would pass the mass-change guard's limit of %d in a window; nothing was changed. "+
				"Approve the mapping (forcesync approve %s), then heal again: %w", p.Mapping.Name, changes, st.Limit, p.Mapping.Name, ErrHealPaused)
		}
	}
	rebinds := rc.prepareRebinds(ctx, p, cp, d, fs, plan)
	var requeue, unbind []string
	var enqueue []int // findings whose source records are accepted again
	for _, r := range plan {
		f := &fs[r.finding]
		switch r.kind {
		case repairRepush:
			requeue = append(requeue, f.Key)
			if f.Kind == forcesync.DriftNeverSynced {
				// Only queued: healed once it syncs, which the push
				// decides (it may hold the record again).
				f.Detail += "; " + HealQueued
				run.Queued++
				continue
			}
		case repairRecreate:
			unbind = append(unbind, f.Key)
			requeue = append(requeue, f.Key)
		case repairEnqueue:
			enqueue = append(enqueue, r.finding)
			continue // queued once accepted, below
		case repairConvert:
			if err := rc.rebindConverted(ctx, p, cp, d, f, rebinds[r.finding]); err != nil {
				f.Detail += "; rebinding failed: " + err.Error()
				continue
			}
		case repairTwins:
			if err := rc.deleteTwins(ctx, d.twinsOf[f.Key], f); err != nil {
				return err
			}
			if !f.Healed {
				continue
			}
		}
		f.Healed = true
		run.Healed++
	}
	if err := rc.enqueue(ctx, p, d, fs, enqueue, run); err != nil {
		return err
	}
	if len(unbind) > 0 {
		if err := rc.in.Unbind(ctx, p.Mapping.Name, unbind); err != nil {
			return err
		}
	}
	if len(requeue) > 0 {
		if _, err := rc.store.Requeue(ctx, p.Mapping.Name, requeue); err != nil {
			return err
		}
	}
	return nil
}

// HealQueued ends the detail of a never-synced finding heal queued: it is
// not healed until a push syncs it (a drain after the heal may hold it
// again, and then its status says why).
const HealQueued = "queued"

// enqueue accepts again, for p's mapping alone, the source records of the
// never-synced findings fs[i] (i in idx), a page of them a call, and marks
// each page's findings queued (not healed: see HealQueued) once it is
// accepted.
func (rc *Reconciler) enqueue(ctx context.Context, p *Pipe, d *drift, fs []forcesync.Finding, idx []int, run *forcesync.ReconcileRun) error {
	for lo := 0; lo < len(idx); lo += reconcilePage {
		page := idx[lo:min(lo+reconcilePage, len(idx))]
		cs := make([]forcesync.Change, len(page))
		for j, i := range page {
			src := d.sources[fs[i].Key]
			cs[j] = forcesync.Change{Source: src.Source, Key: src.Key, Fields: src.Fields}
		}
		if _, err := rc.store.Accept(ctx, []string{p.Mapping.Name}, cs); err != nil {
			return err
		}
		for _, i := range page {
			fs[i].Detail += "; " + HealQueued
			run.Queued++
		}
	}
	return nil
}

// contactPipe is the push mapping onto Contact of p's source, when p maps
// Leads; nil otherwise.
func (rc *Reconciler) contactPipe(p *Pipe) *Pipe {
	if !strings.EqualFold(p.Compiled.Object(), "Lead") {
		return nil
	}
	for _, q := range rc.pipes {
		if q.Mapping.Source == p.Mapping.Source && q.Mapping.Pushes() && strings.EqualFold(q.Compiled.Object(), "Contact") {
			return q
		}
	}
	return nil
}

// convertBlock says why a converted Lead cannot be rebound, "" when it can.
func convertBlock(p *Pipe, cp *Pipe, d *drift, key string) string {
	if d.contactOf[key] == "" {
		return "Salesforce names no converted Contact"
	}
	if cp == nil {
		return "no mapping of source " + p.Mapping.Source + " pushes to Contact"
	}
	return ""
}

// healRebind is a converted Lead's record that heal moves to the Contact
// the Lead became: its source record, or why it cannot move.
type healRebind struct {
	rec *forcesync.SourceRecord
	err error
}

// prepareRebinds makes ready the rebinds of plan's converted findings
// (fs[i] by index i): their source records, read in one call when the
// store can, checked against the Contact mapping cp's filter, and, when cp
// upserts by an External ID, its value stamped on each Contact, 200 a
// call. A record that cannot move gets its own error, as if it were the
// only one.
func (rc *Reconciler) prepareRebinds(ctx context.Context, p, cp *Pipe, d *drift, fs []forcesync.Finding, plan []repair) map[int]*healRebind {
	var idx []int
	var keys []string
	for _, r := range plan {
		if r.kind == repairConvert {
			idx = append(idx, r.finding)
			keys = append(keys, fs[r.finding].Key)
		}
	}
	if len(idx) == 0 {
		return nil
	}
	// A failed set-based read leaves each record to a read of its own.
	settled, _ := readSettled(ctx, rc.store, p.Mapping.Source, cp.Mapping.Name, keys)
	recs, errs := sourceRecords(ctx, rc.store, p.Mapping.Source, keys, settled)
	out := make(map[int]*healRebind, len(idx))
	var stamps []*stamp
	var stamped []int
	for _, i := range idx {
		k := fs[i].Key
		rb := &healRebind{rec: recs[k]}
		out[i] = rb
		switch {
		case errs[k] != nil:
			rb.err = errs[k]
			continue
		case rb.rec == nil || rb.rec.Deleted:
			rb.err = fmt.Errorf("the source record is gone")
			continue
		}
		if in, err := cp.Compiled.Filter(rb.rec.Fields); err != nil || !in {
			rb.err = fmt.Errorf("mapping %s's filter does not take the record", cp.Mapping.Name)
			continue
		}
		if cp.Mapping.Match.Kind == forcesync.MatchExternalID {
			stamps = append(stamps, &stamp{rec: rb.rec, id: d.contactOf[k]})
			stamped = append(stamped, i)
		}
	}
	stampExternalIDs(ctx, rc.api, cp, stamps)
	for j, s := range stamps {
		if s.err != nil {
			out[stamped[j]].err = fmt.Errorf("stamping %s on Contact %s: %w", cp.Compiled.ExternalIDField(), s.id, s.err)
		}
	}
	return out
}

// rebindConverted moves a converted Lead's record to the Contact it
// became, as the push does when Salesforce refuses to update a converted
// Lead (sflimits.go), once prepareRebinds made it ready (rb).
func (rc *Reconciler) rebindConverted(ctx context.Context, p, cp *Pipe, d *drift, f *forcesync.Finding, rb *healRebind) error {
	if rb == nil {
		return fmt.Errorf("not prepared")
	}
	if rb.err != nil {
		return rb.err
	}
	contact, rec := d.contactOf[f.Key], rb.rec
	if err := rc.store.Bind(ctx, forcesync.Binding{Mapping: cp.Mapping.Name, Key: f.Key, SalesforceID: contact}); err != nil {
		return err
	}
	n, err := rc.store.Requeue(ctx, cp.Mapping.Name, []string{f.Key})
	if err != nil {
		return err
	}
	if n == 0 {
		if _, err := rc.store.Accept(ctx, []string{cp.Mapping.Name}, []forcesync.Change{{Source: rec.Source, Key: rec.Key, Fields: rec.Fields}}); err != nil {
			return err
		}
	}
	// The Lead mapping settles the record as converted, without a call.
	if err := rc.store.Bind(ctx, forcesync.Binding{Mapping: p.Mapping.Name, Key: f.Key, SalesforceID: d.leadOf[f.Key],
		Fingerprint: forcesync.FingerprintConverted}); err != nil {
		return err
	}
	if _, err := rc.store.Requeue(ctx, p.Mapping.Name, []string{f.Key}); err != nil {
		return err
	}
	f.Detail += fmt.Sprintf("; rebound to Contact %s under mapping %s", contact, cp.Mapping.Name)
	return nil
}

// boundElsewhere returns the Ids (15-character) that bindings of the
// mappings onto p's object point at, when some twins were found.
func (rc *Reconciler) boundElsewhere(ctx context.Context, p *Pipe, d *drift) (map[string]bool, error) {
	out := map[string]bool{}
	if len(d.twinsOf) == 0 {
		return out, nil
	}
	for _, q := range rc.pipes {
		if !strings.EqualFold(q.Compiled.Object(), p.Compiled.Object()) {
			continue
		}
		for after := ""; ; {
			page, err := rc.in.Bindings(ctx, q.Mapping.Name, after, 5000)
			if err != nil {
				return nil, err
			}
			for _, b := range page {
				out[id15(b.SalesforceID)] = true
			}
			if len(page) < 5000 {
				break
			}
			after = page[len(page)-1].Key
		}
	}
	return out, nil
}

// deleteTwins deletes a bound record's unbound twins; f is healed when
// every delete succeeded, and its detail names the failures otherwise.
func (rc *Reconciler) deleteTwins(ctx context.Context, ids []string, f *forcesync.Finding) error {
	var failed []string
	for lo := 0; lo < len(ids); lo += 200 {
		chunk := ids[lo:min(lo+200, len(ids))]
		res, err := rc.api.Delete(ctx, chunk)
		if err != nil {
			return err
		}
		for i, r := range res {
			if r.Err != nil {
				failed = append(failed, chunk[i]+": "+r.Err.Code)
			}
		}
	}
	if len(failed) > 0 {
		f.Detail += "; deleting twins failed: " + strings.Join(failed, ", ")
		return nil
	}
	f.Detail += "; deleted the unbound twins " + strings.Join(ids, ", ")
	f.Healed = true
	return nil
}
