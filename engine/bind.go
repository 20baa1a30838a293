package engine

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/forcesync/forcesync"
)

// Bind finds, before a mapping's first run, the Salesforce records its
// source records already have: each unbound source record the mapping
// takes is looked up by the mapping's match rule (its External ID value,
// or its first match field) with the same query a push makes, and is
// either linked to the one record found, created (none found), or left
// ambiguous (several found, or one found that another source record
// matches or is bound to). Without DryRun the links are written as
// bindings with no fingerprint, so the next push updates the record it
// found instead of creating a twin; creates and ambiguous records are
// left to the push (which creates) and to a person (ambiguous).
//
// The lookups spend from the governor's backfill lane, one query per
// chunk of match values that fits Salesforce's URL limit.

// BindOptions tunes Bind.
type BindOptions struct {
	// DryRun lists what would be linked without writing a binding.
	DryRun bool
	// Records caps the records listed (counts are never capped). Zero
	// means 1,000; negative means no cap.
	Records int
}

// Bind actions.
const (
	BindLink      = "link"
	BindCreate    = "create"
	BindAmbiguous = "ambiguous"
	// BindUnreadable: the record's stored fields cannot be read back
	// (forcesync.CodeUnreadableRecord; the reason names the field), so it
	// is neither looked up nor bound. Sending it again repairs it.
	BindUnreadable = "unreadable"
)

// BindReport is what Bind found for one mapping.
type BindReport struct {
	Mapping string `json:"mapping"`
	Object  string `json:"object"`
	// MatchField is the Salesforce field records were looked up by ("" for
	// a binding-only mapping: nothing to look up by, every record creates).
	MatchField string `json:"match_field,omitempty"`
	DryRun     bool   `json:"dry_run"`
	// Counts are the unbound source records by action; Bound counts the
	// links written (zero on a dry run).
	Counts  map[string]int `json:"counts"`
	Bound   int            `json:"bound"`
	Records []BindRecord   `json:"records"`
	// Truncated says Records was capped.
	Truncated bool `json:"records_truncated,omitempty"`
	APICalls  int  `json:"api_calls"`
}

// BindRecord is the fate of one unbound source record.
type BindRecord struct {
	Key    string `json:"key"`
	Action string `json:"action"`
	// Match is the record's match value ("" when it has none).
	Match string `json:"match,omitempty"`
	// SalesforceIDs are the records found: one for a link, several (or
	// one claimed twice) for an ambiguous record.
	SalesforceIDs []string `json:"salesforce_ids,omitempty"`
	// Reason explains an ambiguous or unreadable record.
	Reason string `json:"reason,omitempty"`
}

// Bind runs the binding of pre-existing records for one mapping (see
// BindOptions). It fails with ENotFound for an unknown mapping and
// EInvalid for one that does not push.
func (e *Engine) Bind(ctx context.Context, name string, opt BindOptions) (*BindReport, error) {
	var p *Pipe
	for _, x := range e.livePipes() {
		if x.Mapping.Name == name {
			p = x
		}
	}
	if p == nil {
		return nil, forcesync.Errorf(forcesync.ENotFound, "no mapping %q", name)
	}
	if !p.Mapping.Pushes() {
		return nil, forcesync.Errorf(forcesync.EInvalid, "mapping %s: direction %s does not push; a pulled record binds itself by the key rule", name, p.Mapping.Direction)
	}
	if opt.Records == 0 {
		opt.Records = 1000
	}
	rep := &BindReport{Mapping: name, Object: p.Compiled.Object(), DryRun: opt.DryRun, Counts: map[string]int{BindLink: 0, BindCreate: 0, BindAmbiguous: 0, BindUnreadable: 0}, Records: []BindRecord{}}
	switch p.Mapping.Match.Kind {
	case forcesync.MatchExternalID:
		rep.MatchField = p.Compiled.ExternalIDField()
	case forcesync.MatchFields:
		rep.MatchField = p.Mapping.Match.Fields[0]
	}
	recs, err := e.unboundRecords(ctx, p, rep.MatchField)
	if err != nil {
		return nil, err
	}
	found, err := e.bindLookup(ctx, p, rep, recs)
	if err != nil {
		return nil, err
	}
	// Who claims each Salesforce record: a source record found twice, or
	// one bound to another key already, is for a person to settle.
	claims := map[string][]string{}
	for i := range recs {
		ids := found[strings.ToLower(recs[i].Match)]
		if recs[i].Match != "" && len(ids) == 1 {
			claims[ids[0]] = append(claims[ids[0]], recs[i].Key)
		}
	}
	taken, err := e.boundElsewhere(ctx, p, claims)
	if err != nil {
		return nil, err
	}
	for i := range recs {
		r := &recs[i]
		if r.Action == BindUnreadable {
			rep.Counts[r.Action]++
			continue
		}
		ids := []string(nil)
		if r.Match != "" {
			ids = found[strings.ToLower(r.Match)]
		}
		r.SalesforceIDs = ids
		switch {
		case len(ids) == 0:
			r.Action = BindCreate
		case len(ids) > 1:
			r.Action, r.Reason = BindAmbiguous, fmt.Sprintf("%d %s records have %s %s", len(ids), rep.Object, rep.MatchField, r.Match)
		case taken[ids[0]] != "":
			r.Action, r.Reason = BindAmbiguous, fmt.Sprintf("%s is bound to key %s already", ids[0], taken[ids[0]])
		case len(claims[ids[0]]) > 1:
			r.Action, r.Reason = BindAmbiguous, fmt.Sprintf("%s is matched by keys %s", ids[0], strings.Join(claims[ids[0]], ", "))
		default:
			r.Action = BindLink
		}
		rep.Counts[r.Action]++
	}
	if !opt.DryRun {
		bs, ok := forcesync.StoreAs[forcesync.BindingStore](e.store)
		if !ok && rep.Counts[BindLink] > 0 {
			return nil, forcesync.Errorf(forcesync.EInternal, "the store cannot write bindings")
		}
		for _, r := range recs {
			if r.Action != BindLink {
				continue
			}
			// No fingerprint: the next push sends the record's payload
			// as an update of the record found.
			if err := bs.Bind(ctx, forcesync.Binding{Mapping: name, Key: r.Key, SalesforceID: r.SalesforceIDs[0]}); err != nil {
				return rep, err
			}
			rep.Bound++
		}
	}
	for _, r := range recs {
		if opt.Records >= 0 && len(rep.Records) >= opt.Records {
			rep.Truncated = true
			break
		}
		rep.Records = append(rep.Records, r)
	}
	return rep, nil
}

// unboundRecords lists the live source records the mapping takes (its
// filter) that have no binding under it, with their match values. An
// unbound record whose fields cannot be read back comes as unreadable,
// with the reason, whether the mapping takes it or not.
func (e *Engine) unboundRecords(ctx context.Context, p *Pipe, field string) ([]BindRecord, error) {
	var out []BindRecord
	const page = 1000
	for after := ""; ; {
		srcs, err := e.store.SourceRecords(ctx, forcesync.SourceQuery{Source: p.Mapping.Source, After: after, Limit: page})
		if err != nil {
			return nil, err
		}
		for _, s := range srcs {
			b, err := e.store.Binding(ctx, p.Mapping.Name, s.Key)
			if err != nil {
				return nil, err
			}
			if b != nil && b.SalesforceID != "" {
				continue
			}
			if s.Unreadable != nil {
				out = append(out, BindRecord{Key: s.Key, Action: BindUnreadable, Reason: s.Unreadable.Message})
				continue
			}
			if ok, err := p.Compiled.Filter(s.Fields); err != nil || !ok {
				continue // the push skips or holds it; nothing to bind
			}
			r := BindRecord{Key: s.Key}
			if field != "" {
				pl, err := p.Compiled.PayloadFor(s.Key, s.Fields, true)
				var re *forcesync.RecordError
				if err != nil && !errors.As(err, &re) {
					return nil, err
				}
				if err == nil {
					r.Match = matchValue(pl.Match, field)
				}
			}
			out = append(out, r)
		}
		if len(srcs) < page {
			break
		}
		after = srcs[len(srcs)-1].Key
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

// bindLookup finds the Salesforce records of the match values, with the
// push's own lookup (FindBy), a chunk per query.
func (e *Engine) bindLookup(ctx context.Context, p *Pipe, rep *BindReport, recs []BindRecord) (map[string][]string, error) {
	found := map[string][]string{}
	if rep.MatchField == "" {
		return found, nil
	}
	seen := map[string]bool{}
	var values []string
	for _, r := range recs {
		lv := strings.ToLower(r.Match)
		if r.Match != "" && !seen[lv] {
			seen[lv] = true
			values = append(values, r.Match)
		}
	}
	if len(values) == 0 {
		return found, nil
	}
	for _, chunk := range chunkByURLLen(values, maxInURLBytes) {
		if ok, why := e.gov.Allow(ctx, forcesync.LaneBackfill, 1); !ok {
			return nil, forcesync.Errorf(forcesync.EUnavailable, "bind %s: paused by the API budget: %s", rep.Mapping, why)
		}
		got, err := e.api.FindBy(ctx, rep.Object, rep.MatchField, chunk)
		e.gov.Spent(ctx, forcesync.LaneBackfill, 1)
		rep.APICalls++
		if err != nil {
			return nil, fmt.Errorf("bind %s: look up by %s: %w", rep.Mapping, rep.MatchField, err)
		}
		for k, ids := range got {
			found[k] = append(found[k], ids...)
		}
	}
	return found, nil
}

// boundElsewhere returns, of the Salesforce records found, those bound to
// a key of the mapping already (Id -> key).
func (e *Engine) boundElsewhere(ctx context.Context, p *Pipe, claims map[string][]string) (map[string]string, error) {
	out := map[string]string{}
	in, ok := forcesync.StoreAs[forcesync.Inspector](e.store)
	if !ok || len(claims) == 0 {
		return out, nil
	}
	for after := ""; ; {
		page, err := in.Bindings(ctx, p.Mapping.Name, after, 5000)
		if err != nil {
			return nil, err
		}
		for _, b := range page {
			if _, ok := claims[b.SalesforceID]; ok {
				out[b.SalesforceID] = b.Key
			}
		}
		if len(page) < 5000 {
			return out, nil
		}
		after = page[len(page)-1].Key
	}
}
