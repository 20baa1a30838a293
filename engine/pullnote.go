package engine

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/mapping"
	"github.com/forcesync/forcesync/salesforce"
)

// notePushes records, before the calls, the payloads a two-way mapping is
// about to push, under the fingerprint the binding will hold once
// Salesforce accepts them: when the puller reads them back it knows them
// for forcesync's own echo, not a Salesforce user's edit (package pull).
//
// Before that it trims each update to the fields the app changed
// (sendOnlyChanges) and holds back the ones Salesforce changed too since
// the last poll (holdBackConflicts), so a push never overwrites an edit
// the puller has not seen, unless the field's policy is app_wins.
func (e *Engine) notePushes(ctx context.Context, p *Pipe, ws []*work) error {
	if !p.Mapping.Pulls() {
		return nil
	}
	ps, ok := forcesync.StoreAs[forcesync.PullStore](e.store)
	if !ok {
		return nil
	}
	var ids []string
	for _, w := range ws {
		if w.done || w.item.Op == forcesync.OpDelete || w.payload.Fields == nil {
			continue
		}
		if w.item.Binding != nil && w.item.Binding.SalesforceID != "" {
			ids = append(ids, w.item.Binding.SalesforceID)
		}
	}
	bases, err := ps.PullBindings(ctx, p.Mapping.Name, ids)
	if err != nil {
		return err
	}
	whole := make(map[*work]map[string]any, len(ws))
	for _, w := range ws {
		whole[w] = w.payload.Fields
	}
	e.sendOnlyChanges(p, ws, bases)
	held, err := e.holdBackConflicts(ctx, p, ws, bases)
	if err != nil {
		return err
	}
	var notes []forcesync.PushNote
	for _, w := range ws {
		if w.done || w.item.Op == forcesync.OpDelete || w.payload.Fields == nil {
			continue
		}
		fp := w.payload.UpdateFingerprint
		if fp == "" {
			fp = w.payload.Fingerprint
		}
		fields := whole[w]
		h := held[w]
		if len(h) > 0 {
			// The held-back fields were not sent: the note leaves them out,
			// so the puller compares Salesforce's edit with the last agreed
			// value and settles the conflict by policy (and records it),
			// judging newest_wins by the SystemModstamp read here.
			fields = copyMap(fields)
			for f := range h {
				delete(fields, f)
			}
		}
		notes = append(notes, forcesync.PushNote{Key: w.item.Key, Fingerprint: fp, Fields: fields, Held: h})
	}
	if len(notes) == 0 {
		return nil
	}
	return ps.NotePushed(ctx, p.Mapping.Name, notes)
}

// heldBackPrefix marks the fingerprint of a push that held fields back:
// the binding does not hold the app's whole payload, so the same payload
// is sent again when the puller requeues it (the app won the conflict).
const heldBackPrefix = "held-back:"

// holdBackConflicts reads, in one query per batch, the two-way fields an
// update is about to send to bound records, and holds back each field
// Salesforce changed since the last sync (its value is neither the last
// agreed one nor forcesync's own last push): that is an edit the puller
// has not read yet, and both sides changed the field. Fields whose policy
// is app_wins are sent anyway (the app wins; no read is made for them).
// It returns the held-back fields per work item, each with the
// SystemModstamp read (Salesforce's edit is no later than it; the push's
// own write of the other fields moves SystemModstamp on).
func (e *Engine) holdBackConflicts(ctx context.Context, p *Pipe, ws []*work, bases map[string]forcesync.PullBinding) (map[*work]map[string]time.Time, error) {
	rd, ok := e.api.(Reader)
	if !ok {
		return nil, nil
	}
	type check struct {
		w      *work
		b      forcesync.PullBinding
		fields []mapping.PullField
	}
	var checks []check
	var ids []string
	read := map[string]bool{}
	names := []string{"SystemModstamp"}
	for _, w := range ws {
		if w.done || w.item.Op == forcesync.OpDelete || w.payload.Fields == nil || w.item.Binding == nil {
			continue
		}
		b, ok := bases[w.item.Binding.SalesforceID]
		if !ok || b.Key != w.item.Key {
			continue
		}
		var fs []mapping.PullField
		for _, f := range p.Compiled.Pulls() {
			if _, in := w.payload.Fields[f.Target]; in && f.Both && f.Policy != forcesync.AppWins {
				fs = append(fs, f)
				if !read[f.Target] {
					read[f.Target] = true
					names = append(names, f.Target)
				}
			}
		}
		if len(fs) > 0 {
			checks = append(checks, check{w, b, fs})
			ids = append(ids, b.SalesforceID)
		}
	}
	if len(checks) == 0 {
		return nil, nil
	}
	recs, err := rd.ReadWhere(ctx, p.Compiled.Object(), "Id", ids, names, false)
	if err != nil {
		return nil, err
	}
	now := make(map[string]salesforce.Record, len(recs))
	for _, r := range recs {
		now[r.ID()] = r
	}
	held := map[*work]map[string]time.Time{}
	for _, c := range checks {
		sf, ok := now[c.b.SalesforceID]
		if !ok {
			continue // deleted or merged: the push's own answer says so
		}
		stamp, _ := sf["SystemModstamp"].(string)
		readAt, err := salesforce.ParseDateTime(stamp)
		if err != nil {
			return nil, fmt.Errorf("hold back conflicts: %s: %w", c.b.SalesforceID, err)
		}
		var send map[string]any
		for _, f := range c.fields {
			known, seen := c.b.Pushed[f.Target]
			if !seen {
				known, seen = c.b.Base[f.Target]
			}
			if !seen || mapping.SameValue(f.Type, sf[f.Target], known) {
				continue // Salesforce holds what was last agreed: not an edit
			}
			if send == nil {
				send = copyMap(c.w.payload.Fields)
			}
			delete(send, f.Target)
			if held[c.w] == nil {
				held[c.w] = map[string]time.Time{}
			}
			held[c.w][f.Target] = readAt
		}
		if send != nil {
			c.w.payload.Fields = send
			if c.w.payload.UpdateFingerprint != "" {
				c.w.payload.UpdateFingerprint = heldBackPrefix + c.w.payload.UpdateFingerprint
			}
			c.w.payload.Fingerprint = heldBackPrefix + c.w.payload.Fingerprint
			c.w.out.Fingerprint = c.w.payload.Fingerprint
			e.cfg.Logger.Info("push held back fields Salesforce changed since the last poll", "event", "push.held_back",
				"mapping", p.Mapping.Name, "key", c.w.item.Key, "fields", slices.Sorted(maps.Keys(held[c.w])))
		}
	}
	return held, nil
}

// sendOnlyChanges leaves out of an update the two-way fields whose value
// is still the one Salesforce was last known to hold: the app did not
// change them, and sending them again would overwrite an edit made in
// Salesforce since, which the next pull brings back instead. The noted
// payload (and the fingerprint) stays whole: the fields left out are
// Salesforce's already.
func (e *Engine) sendOnlyChanges(p *Pipe, ws []*work, bases map[string]forcesync.PullBinding) {
	for _, w := range ws {
		if w.done || w.item.Op == forcesync.OpDelete || w.payload.Fields == nil || w.item.Binding == nil {
			continue
		}
		b, ok := bases[w.item.Binding.SalesforceID]
		if !ok || b.Key != w.item.Key {
			continue
		}
		var send map[string]any
		for _, f := range p.Compiled.Pulls() {
			v, in := w.payload.Fields[f.Target]
			if !f.Both || !in {
				continue
			}
			known, seen := b.Pushed[f.Target]
			if !seen {
				known, seen = b.Base[f.Target]
			}
			if !seen || !mapping.SameValue(f.Type, v, known) {
				continue
			}
			if send == nil {
				send = copyMap(w.payload.Fields)
			}
			delete(send, f.Target)
		}
		if send != nil {
			w.payload.Fields = send
		}
	}
}

// PullBudget says why a poll may not spend an API call now ("" when it
// may), for the pullers: they spend from the same governor as the pushers,
// in the backfill lane, so realtime pushes keep their share.
func (e *Engine) PullBudget(ctx context.Context) string {
	if ok, why := e.gov.Allow(ctx, forcesync.LaneBackfill, 1); !ok {
		return why
	}
	return ""
}

// PullSpent records the calls a poll made.
func (e *Engine) PullSpent(ctx context.Context, calls int) {
	e.gov.Spent(ctx, forcesync.LaneBackfill, calls)
}
