package engine

import (
	"context"

	"github.com/forcesync/forcesync"
)

// notePushes records, before the calls, the payloads a two-way mapping is
// about to push, under the fingerprint the binding will hold once
// Salesforce accepts them: when the puller reads them back it knows them
// for forcesync's own echo, not a Salesforce user's edit (package pull).
func (e *Engine) notePushes(ctx context.Context, p *Pipe, ws []*work) error {
	if !p.Mapping.Pulls() {
		return nil
	}
	ps, ok := e.store.(forcesync.PullStore)
	if !ok {
		return nil
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
		notes = append(notes, forcesync.PushNote{Key: w.item.Key, Fingerprint: fp, Fields: w.payload.Fields})
	}
	return ps.NotePushed(ctx, p.Mapping.Name, notes)
}

// PullBudget says why API calls are paused now ("" when they are not), for
// the pullers: they spend from the same budget as the pushers.
func (e *Engine) PullBudget() string { return e.governor() }
