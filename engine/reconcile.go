package engine

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/salesforce"
	"time"
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
	// Heal queues repairs: records changed in Salesforce are pushed again;
	// records deleted, merged or missing are created again when the
	// mapping may create (merged ones only when a match rule can find
	// their survivor); held never-synced records are retried.
	Heal bool
	// MaxChanges caps the repairs Heal may queue: more and nothing is
	// healed (the run says why). Negative means no cap (--yes); with Heal,
	// zero heals nothing.
	MaxChanges int
	// APIShare is the share of the org's daily API allowance forcesync may
	// spend (as the engine's); a reconcile is refused once the org's usage
	// reaches it. Zero means 0.5.
	APIShare float64
}

// ErrBudgetSpent refuses a reconcile when the API budget is spent.
var ErrBudgetSpent = errors.New("API budget spent")

// ErrTooManyChanges refuses a heal beyond ReconcileOptions.MaxChanges.
var ErrTooManyChanges = errors.New("too many changes")

// Reconciler reconciles compiled mappings.
type Reconciler struct {
	store forcesync.Store
	in    forcesync.Inspector
	api   API
	rd    Reader
	pipes []*Pipe
}

// NewReconciler returns a reconciler for pipes; store must be a
// forcesync.Inspector and api a Reader.
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

// Reconcile compares one mapping and stores the run with its findings.
// With Heal, the repairs are queued (a running engine, or a drain, pushes
// them); a heal refused by MaxChanges is an error wrapping
// ErrTooManyChanges, and the run is stored all the same.
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
	run := &forcesync.ReconcileRun{Mapping: mappingName, Started: time.Now().UTC(), API: "query", Counts: map[forcesync.DriftKind]int{}}
	calls0 := rc.api.Calls()
	share := opt.APIShare
	if share <= 0 || share > 1 {
		share = 0.5
	}
	var findings []forcesync.Finding
	var err error
	if used, max := rc.api.Usage(); max > 0 && float64(used) >= share*float64(max) {
		// Reading 100,000 records is cheap, but pushes come first.
		err = fmt.Errorf("reconcile %s: %w: %d of %d calls used, share %.0f%%", mappingName, ErrBudgetSpent, used, max, share*100)
	} else {
		findings, err = rc.compare(ctx, p, threshold, run)
	}
	if err != nil {
		run.Error = err.Error()
	}
	var healErr error
	if err == nil && opt.Heal {
		healErr = rc.heal(ctx, p, findings, opt.MaxChanges, run)
		if healErr != nil {
			run.Error = healErr.Error()
		}
	}
	for _, f := range findings {
		run.Counts[f.Kind]++
	}
	run.Finished = time.Now().UTC()
	run.APICalls = int(rc.api.Calls() - calls0)
	if serr := rc.in.SaveReconcile(context.WithoutCancel(ctx), run, findings); serr != nil {
		return run, findings, errors.Join(err, healErr, serr)
	}
	return run, findings, errors.Join(err, healErr)
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

// compare reads Salesforce and lists the drift of p's records.
func (rc *Reconciler) compare(ctx context.Context, p *Pipe, threshold int, run *forcesync.ReconcileRun) ([]forcesync.Finding, error) {
	var binds []forcesync.Binding
	for after := ""; ; {
		page, err := rc.in.Bindings(ctx, p.Mapping.Name, after, 5000)
		if err != nil {
			return nil, err
		}
		binds = append(binds, page...)
		if len(page) < 5000 {
			break
		}
		after = page[len(page)-1].Key
	}
	run.Checked = len(binds)
	fields, matchField, err := rc.reconcileFields(ctx, p)
	if err != nil {
		return nil, err
	}
	obj := p.Compiled.Object()
	byID := map[string]salesforce.Record{}
	byMatch := map[string][]string{} // live records by lower-cased match value
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
		err := rc.rd.ReadAll(ctx, obj, fields, nil, true, func(r salesforce.Record) error { keep(r); return nil })
		if err != nil {
			return nil, err
		}
	} else if len(binds) > 0 {
		ids := make([]string, len(binds))
		for i, b := range binds {
			ids[i] = b.SalesforceID
		}
		recs, err := rc.rd.ReadWhere(ctx, obj, "Id", ids, fields, true)
		if err != nil {
			return nil, err
		}
		for _, r := range recs {
			keep(r)
		}
	}
	var findings []forcesync.Finding
	add := func(b forcesync.Binding, kind forcesync.DriftKind, detail string, fs []forcesync.FieldDrift) {
		findings = append(findings, forcesync.Finding{Mapping: p.Mapping.Name, Key: b.Key, SalesforceID: b.SalesforceID,
			Kind: kind, Detail: detail, Fields: fs})
	}
	matchOf := map[string]string{} // key -> lower-cased match value, for twins
	for _, b := range binds {
		r, ok := byID[b.SalesforceID]
		if !ok {
			r, ok = byID[longID(b.SalesforceID, byID)]
		}
		switch {
		case !ok:
			add(b, forcesync.DriftMissing, "not in Salesforce, not even in the recycle bin", nil)
			continue
		case r["IsDeleted"] == true:
			if m := canonical(r["MasterRecordId"]); m != "" {
				add(b, forcesync.DriftMerged, "merged into "+m, nil)
			} else {
				add(b, forcesync.DriftDeleted, "in the recycle bin", nil)
			}
			continue
		case r["IsConverted"] == true:
			detail := "converted"
			if c := canonical(r["ConvertedContactId"]); c != "" {
				detail = "converted to Contact " + c
			}
			add(b, forcesync.DriftConverted, detail, nil)
			continue
		}
		src, err := rc.store.SourceRecord(ctx, p.Mapping.Source, b.Key)
		if err != nil {
			return nil, err
		}
		if src == nil || src.Deleted {
			continue // a delete on its way
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
		if pl.Fingerprint != b.Fingerprint {
			continue // the source changed since: a push is on its way
		}
		if diffs := fieldDrift(pl.Fields, r, p.Compiled.ExternalIDField()); len(diffs) > 0 {
			add(b, forcesync.DriftFieldChanged, "", diffs)
		}
	}
	// Twins: another live record with a bound record's match value.
	if matchField != "" && len(matchOf) > 0 {
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
			recs, err := rc.rd.ReadWhere(ctx, obj, matchField, values, []string{matchField}, false)
			if err != nil {
				return nil, err
			}
			byMatch = map[string][]string{}
			for _, r := range recs {
				v := strings.ToLower(canonical(r[matchField]))
				byMatch[v] = append(byMatch[v], r.ID())
			}
		}
		for _, b := range binds {
			v, ok := matchOf[b.Key]
			if !ok || len(byMatch[v]) < 2 {
				continue
			}
			ids := append([]string(nil), byMatch[v]...)
			sort.Strings(ids)
			add(b, forcesync.DriftTwins, fmt.Sprintf("%d records have %s %q: %s", len(ids), matchField, v, strings.Join(ids, ", ")), nil)
		}
	}
	never, err := rc.neverSynced(ctx, p, binds)
	if err != nil {
		return nil, err
	}
	findings = append(findings, never...)
	sort.SliceStable(findings, func(i, j int) bool { return findings[i].Key < findings[j].Key })
	return findings, nil
}

// longID finds the 18-character form of a 15-character Id among the read
// records.
func longID(id string, byID map[string]salesforce.Record) string {
	if len(id) != 15 {
		return id
	}
	for k := range byID {
		if strings.HasPrefix(k, id) {
			return k
		}
	}
	return id
}

// fieldDrift lists the payload fields whose value Salesforce no longer holds.
func fieldDrift(fields map[string]any, r salesforce.Record, ext string) []forcesync.FieldDrift {
	var out []forcesync.FieldDrift
	for k, v := range fields {
		if strings.EqualFold(k, ext) {
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
// twin and are not on their way (pending or retrying).
func (rc *Reconciler) neverSynced(ctx context.Context, p *Pipe, binds []forcesync.Binding) ([]forcesync.Finding, error) {
	bound := make(map[string]bool, len(binds))
	for _, b := range binds {
		bound[b.Key] = true
	}
	var out []forcesync.Finding
	for off := 0; ; {
		recs, err := rc.store.SourceRecords(ctx, forcesync.SourceQuery{Source: p.Mapping.Source, Offset: off, Limit: 1000})
		if err != nil {
			return nil, err
		}
		off += len(recs)
		for _, r := range recs {
			if bound[r.Key] {
				continue
			}
			if ok, err := p.Compiled.Filter(r.Fields); err != nil || !ok {
				continue
			}
			detail := "never queued for this mapping"
			sts, err := rc.store.Statuses(ctx, p.Mapping.Source, r.Key)
			if err != nil {
				return nil, err
			}
			inFlight := false
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
			if inFlight {
				continue
			}
			out = append(out, forcesync.Finding{Mapping: p.Mapping.Name, Key: r.Key, Kind: forcesync.DriftNeverSynced, Detail: detail})
		}
		if len(recs) < 1000 {
			return out, nil
		}
	}
}

// heal queues the repairs the findings call for, within maxChanges.
func (rc *Reconciler) heal(ctx context.Context, p *Pipe, findings []forcesync.Finding, maxChanges int, run *forcesync.ReconcileRun) error {
	if p.Mapping.Direction == forcesync.Pull {
		return fmt.Errorf("heal: mapping %s pulls from Salesforce; healing re-pushes and is for push mappings", p.Mapping.Name)
	}
	c := p.Compiled
	canFind := p.Mapping.Match.Kind != forcesync.MatchBinding
	var repush, recreate []int
	for i, f := range findings {
		switch f.Kind {
		case forcesync.DriftFieldChanged:
			if c.CanUpdate() {
				repush = append(repush, i)
			}
		case forcesync.DriftDeleted, forcesync.DriftMissing:
			if c.CanCreate() {
				recreate = append(recreate, i)
			}
		case forcesync.DriftMerged:
			if c.CanCreate() && canFind {
				recreate = append(recreate, i)
			}
		case forcesync.DriftNeverSynced:
			if strings.HasPrefix(f.Detail, "held") {
				repush = append(repush, i)
			}
		}
	}
	n := len(repush) + len(recreate)
	if maxChanges >= 0 && n > maxChanges {
		return fmt.Errorf("heal %s: %d changes exceed the limit of %d; nothing was changed (raise --max-changes, or --yes): %w",
			p.Mapping.Name, n, maxChanges, ErrTooManyChanges)
	}
	keysOf := func(idx []int) []string {
		ks := make([]string, len(idx))
		for i, j := range idx {
			ks[i] = findings[j].Key
		}
		return ks
	}
	if len(recreate) > 0 {
		if err := rc.in.Unbind(ctx, p.Mapping.Name, keysOf(recreate)); err != nil {
			return err
		}
	}
	all := append(append([]int(nil), repush...), recreate...)
	if len(all) > 0 {
		if _, err := rc.store.Requeue(ctx, p.Mapping.Name, keysOf(all)); err != nil {
			return err
		}
	}
	for _, j := range all {
		findings[j].Healed = true
	}
	run.Healed = len(all)
	return nil
}
