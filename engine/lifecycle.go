package engine

import (
	"context"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/mapping"
	"github.com/forcesync/forcesync/salesforce"
)

// Lifecycle: a record is disabled (SCIM active=false, ingest op disable,
// the mapping's disable_when) or deprovisioned (deleted in the application,
// or out of the mapping's scope while bound). prepare decides what that
// means for each item; pushLifecycle makes the calls.
//
//	deprovision, remove action delete      -> delete the twin, unbind (deleted)
//	deprovision, remove action deactivate  -> disable writes (deprovisioned)
//	deprovision, remove action ignore      -> no call (deprovisioned)
//	disable, disable writes                -> the writes (disabled)
//	disable, disable_with remove_action    -> the remove action (disabled / deleted)
//
// A record disabled or deprovisioned keeps its binding with the fingerprint
// forcesync.FingerprintDisabled, so doing it again costs no call and its
// next upsert is always sent (a User's then carries IsActive=true).

// deprovision settles or plans the remove action for w.
func (e *Engine) deprovision(c *mapping.Compiled, w *work, bound bool) {
	if !bound || !c.Deprovisions() {
		w.finish(forcesync.StateSkipped, nil)
		return
	}
	e.removeAction(c, w, forcesync.StateDeprovisioned)
}

// disable settles or plans disabling w.
func (e *Engine) disable(c *mapping.Compiled, w *work, bound bool) {
	if !bound {
		// Nothing in Salesforce to disable; not created while disabled.
		w.finish(forcesync.StateDisabled, nil)
		return
	}
	writes := c.DisableWrites()
	if c.DisableRemoves() || writes == nil {
		e.removeAction(c, w, forcesync.StateDisabled)
		return
	}
	w.life = true
	if w.item.Binding.Fingerprint == forcesync.FingerprintDisabled {
		w.writes, w.unchanged = writes, true
		w.out.Fingerprint = forcesync.FingerprintDisabled
		w.finish(forcesync.StateDisabled, nil)
		return
	}
	w.writes, w.lifeState = writes, forcesync.StateDisabled
}

// removeAction plans the mapping's remove action for a bound w; state is
// what the record becomes unless it is deleted.
func (e *Engine) removeAction(c *mapping.Compiled, w *work, state forcesync.State) {
	w.life = true
	already := w.item.Binding.Fingerprint == forcesync.FingerprintDisabled
	switch c.RemoveAction() {
	case forcesync.DeleteDelete:
		w.remove, w.lifeState = true, forcesync.StateDeleted
	case forcesync.DeleteDeactivate:
		w.writes = c.DisableWrites()
		if already {
			w.unchanged = true
			w.out.Fingerprint = forcesync.FingerprintDisabled
			w.finish(state, nil)
			return
		}
		w.lifeState = state
	default: // ignore: nothing changes in Salesforce
		w.out.Fingerprint = forcesync.FingerprintDisabled
		w.finish(state, nil)
	}
}

// pushLifecycle makes the calls prepare planned: disable writes by Id, then
// deletes.
func (e *Engine) pushLifecycle(ctx context.Context, owner string, p *Pipe, ws []*work) error {
	var writes []*work
	for _, w := range ws {
		if !w.done && w.life && w.writes != nil {
			writes = append(writes, w)
		}
	}
	obj := p.Compiled.Object()
	for lo := 0; lo < len(writes); lo += 200 {
		chunk := writes[lo:min(lo+200, len(writes))]
		recs := make([]salesforce.Record, len(chunk))
		for i, w := range chunk {
			r := copyMap(w.writes)
			r["attributes"] = map[string]any{"type": obj}
			r["Id"] = w.item.Binding.SalesforceID
			recs[i] = r
		}
		res, err := e.api.Update(ctx, obj, recs)
		if err != nil {
			return err
		}
		for i, w := range chunk {
			r := res[i]
			if r.Err != nil {
				w.out.Fingerprint = ""
				e.settle(w, r, false)
				continue
			}
			w.out.SalesforceID = w.item.Binding.SalesforceID
			w.out.Fingerprint = forcesync.FingerprintDisabled
			w.finish(w.lifeState, nil)
		}
	}
	return e.pushDeletes(ctx, p, ws)
}
