package engine

import (
	"context"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/mapping"
)

// notePushes records, before the calls, the payloads a two-way mapping is
// about to push, under the fingerprint the binding will hold once
// Salesforce accepts them: when the puller reads them back it knows them
// for forcesync's own echo, not a Salesforce user's edit (package pull).
func (e *Engine) notePushes(ctx context.Context, p *Pipe, ws []*work) error {
	if !p.Mapping.Pulls() {
		return nil
	}
	ps, ok := forcesync.StoreAs[forcesync.PullStore](e.store)
	if !ok {
		return nil
	}
	var notes []forcesync.PushNote
	var ids []string
	for _, w := range ws {
		if w.done || w.item.Op == forcesync.OpDelete || w.payload.Fields == nil {
			continue
		}
		fp := w.payload.UpdateFingerprint
		if fp == "" {
			fp = w.payload.Fingerprint
		}
		notes = append(notes, forcesync.PushNote{Key: w.item.Key, Fingerprint: fp, Fields: w.payload.Fields})
		if w.item.Binding != nil && w.item.Binding.SalesforceID != "" {
			ids = append(ids, w.item.Binding.SalesforceID)
		}
	}
	if len(notes) == 0 {
		return nil
	}
	bases, err := ps.PullBindings(ctx, p.Mapping.Name, ids)
	if err != nil {
		return err
	}
	if err := ps.NotePushed(ctx, p.Mapping.Name, notes); err != nil {
		return err
	}
	e.sendOnlyChanges(p, ws, bases)
	return nil
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
