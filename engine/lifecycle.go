package engine

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

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

// disable settles or plans disabling w. It reports false when w goes on
// as a create in disabled form (operations.create_disabled).
func (e *Engine) disable(c *mapping.Compiled, w *work, bound bool) bool {
	if !bound {
		if c.Mapping().Operations.CreateDisabled && c.CanCreate() && len(w.item.Fields) > 0 {
			w.createDisabled = true
			return false
		}
		// Nothing in Salesforce to disable; not created while disabled.
		w.finish(forcesync.StateDisabled, nil)
		return true
	}
	writes := c.DisableWrites()
	if c.DisableRemoves() || writes == nil {
		e.removeAction(c, w, forcesync.StateDisabled)
		return true
	}
	w.life = true
	if w.item.Binding.Fingerprint == forcesync.FingerprintDisabled {
		w.writes, w.unchanged = writes, true
		w.out.Fingerprint = forcesync.FingerprintDisabled
		w.finish(forcesync.StateDisabled, nil)
		return true
	}
	w.writes, w.lifeState, w.spareState = writes, forcesync.StateDisabled, forcesync.StateDisabled
	return true
}

// removeAction plans the mapping's remove action for a bound w; state is
// what the record becomes unless it is deleted.
func (e *Engine) removeAction(c *mapping.Compiled, w *work, state forcesync.State) {
	w.life, w.spareState = true, state
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
	if err := e.spareShared(ctx, p, ws); err != nil {
		return err
	}
	if err := e.guard(ctx, p, ws); err != nil {
		return err
	}
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
			if deletedInSalesforce(r.Err) {
				// Deleted in Salesforce: nothing is left there to close or
				// deactivate, so the goal is met. The binding goes with the
				// record: enabling the record later creates it again
				// instead of reporting synced to the deleted Id.
				w.out.Unbind, w.out.Fingerprint = true, ""
				w.out.Warnings = append(w.out.Warnings, fmt.Sprintf("%s %s was deleted in Salesforce: nothing to write; unbound", obj, w.item.Binding.SalesforceID))
				w.finish(w.lifeState, nil)
				continue
			}
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
	if err := e.resendSharers(ctx, p, writes); err != nil {
		return err
	}
	if err := e.pushDeletes(ctx, p, ws); err != nil {
		return err
	}
	if err := e.afterLimits(ctx, p, ws); err != nil {
		return err
	}
	return e.setPasswords(ctx, p, ws)
}

// guard asks the mapping's mass-change guard for the batch's destructive
// changes (disable writes, deactivations, deletes). Refused, they are held
// with CodeMassChangePaused until someone approves the mapping, which
// requeues them; the batch's other records go ahead.
func (e *Engine) guard(ctx context.Context, p *Pipe, ws []*work) error {
	var destructive []*work
	for _, w := range ws {
		if !w.done && w.life && (w.writes != nil || w.remove) {
			destructive = append(destructive, w)
		}
	}
	if len(destructive) == 0 || p.Mapping.Guard.Off {
		return nil
	}
	g := forcesync.MassGuard{Store: e.store, Limits: p.Mapping.Guard}
	population, err := e.population(ctx, p)
	if err != nil {
		return err
	}
	// Records a config change's sweep counted already (removal.go) are
	// not counted again; they still wait while the mapping is paused.
	var ok bool
	var st forcesync.GuardState
	if n := e.uncounted(p.Mapping.Name, destructive); n > 0 {
		ok, st, err = g.Allow(ctx, p.Mapping.Name, n, population, e.cfg.Now())
	} else {
		ok, st, err = g.Counted(ctx, p.Mapping.Name, population, e.cfg.Now())
	}
	if err != nil {
		return err
	}
	if ok {
		e.uncount(p.Mapping.Name, destructive)
		return nil
	}
	e.cfg.Logger.Warn("mass-change guard paused the mapping's removals", "mapping", p.Mapping.Name,
		"pending", st.Pending, "limit", st.Limit)
	re := &forcesync.RecordError{Code: forcesync.CodeMassChangePaused, Message: fmt.Sprintf(
		"mapping %s would disable, deprovision or delete more than %d records in a window; held until approved (forcesync approve %s)",
		p.Mapping.Name, st.Limit, p.Mapping.Name)}
	for _, w := range destructive {
		w.out.Fingerprint = ""
		w.finish(forcesync.StateHeld, re)
	}
	return nil
}

// Approve lets a mapping's held-back destructive changes through: it lifts
// the guard's pause for the mapping's window and requeues the records the
// guard held. It returns how many were requeued.
func Approve(ctx context.Context, store forcesync.Store, m forcesync.Mapping, now time.Time) (int, error) {
	w := m.Guard.Window
	if w == 0 {
		w = forcesync.DefaultGuardWindow
	}
	if _, err := store.GuardApprove(ctx, m.Name, now, now.Add(w)); err != nil {
		return 0, err
	}
	held, err := store.List(ctx, forcesync.StatusFilter{Mapping: m.Name, States: []forcesync.State{forcesync.StateHeld}, Limit: 1 << 30})
	if err != nil {
		return 0, err
	}
	var keys []string
	for _, st := range held {
		if st.Error != nil && st.Error.Code == forcesync.CodeMassChangePaused {
			keys = append(keys, st.Key)
		}
	}
	if len(keys) == 0 {
		return 0, nil
	}
	return store.Requeue(ctx, m.Name, keys)
}

// spareShared settles, without a call, the batch's disables and
// deprovisions whose Salesforce record another key of the mapping shares
// and still holds live (matching by fields binds both to one record: two
// people with one email, or a person deprovisioned and provisioned again
// under a new key, whose old key's deactivation waited on a retry or the
// guard). Closing, deactivating or deleting the record would undo the
// other key's push while its status says synced. The record keeps its
// binding, marked disabled, so its return is sent to the same record, and
// a warning names the keys that hold it. Keys of the batch that are being
// removed themselves do not count as holding it.
func (e *Engine) spareShared(ctx context.Context, p *Pipe, ws []*work) error {
	sharers, err := e.otherSharers(ctx, p, ws, func(w *work) bool {
		return !w.done && w.life && (w.writes != nil || w.remove) && w.item.Binding != nil && w.item.Binding.SalesforceID != ""
	})
	if err != nil {
		return err
	}
	for _, w := range ws {
		live := sharers[w.item.Key]
		if w.done || len(live) == 0 {
			continue
		}
		id := w.item.Binding.SalesforceID
		w.writes, w.remove = nil, false
		w.unchanged = true
		w.out.SalesforceID = id
		w.out.Fingerprint = forcesync.FingerprintDisabled
		w.out.Warnings = append(w.out.Warnings, fmt.Sprintf(
			"%s %s left as it is in Salesforce: key %s of this mapping is bound to it too and still live",
			p.Compiled.Object(), id, strings.Join(live, ", ")))
		w.finish(w.spareState, nil)
	}
	return nil
}

// resendSharers looks again, after the disable writes went through, for
// live keys bound to the records written meanwhile: a key matched to the
// record while the call was in flight (a person provisioned again under a
// new key as the old key's deactivation was being sent) saw it as it was
// and reports synced, though the writes just closed or deactivated it.
// Each such key is bound again as disabled and queued, so its next push is
// sent whatever its payload and a User is activated again.
func (e *Engine) resendSharers(ctx context.Context, p *Pipe, writes []*work) error {
	bs, ok := forcesync.StoreAs[forcesync.BindingStore](e.store)
	if !ok {
		return nil
	}
	sharers, err := e.otherSharers(ctx, p, writes, func(w *work) bool {
		return w.out.Fingerprint == forcesync.FingerprintDisabled && w.out.Error == nil
	})
	if err != nil {
		return err
	}
	var resend []string
	seen := map[string]bool{}
	for _, w := range writes {
		for _, k := range sharers[w.item.Key] {
			if seen[k] {
				continue
			}
			seen[k] = true
			if err := bs.Bind(ctx, forcesync.Binding{Mapping: p.Mapping.Name, Key: k,
				SalesforceID: w.item.Binding.SalesforceID, Fingerprint: forcesync.FingerprintDisabled}); err != nil {
				return fmt.Errorf("mapping %s: rebind %s: %w", p.Mapping.Name, k, err)
			}
			resend = append(resend, k)
		}
	}
	if len(resend) == 0 {
		return nil
	}
	e.cfg.Logger.Info("records sharing a record just disabled are sent again", "mapping", p.Mapping.Name, "keys", strings.Join(resend, ","))
	_, err = e.store.Requeue(ctx, p.Mapping.Name, resend)
	return err
}

// otherSharers returns, for each work of ws that pick chooses, the other
// live keys of the mapping bound to its Salesforce record, leaving out the
// chosen keys themselves (those are being disabled or removed together);
// nil when the store cannot tell.
func (e *Engine) otherSharers(ctx context.Context, p *Pipe, ws []*work, pick func(*work) bool) (map[string][]string, error) {
	sb, ok := forcesync.StoreAs[forcesync.SharedBindings](e.store)
	if !ok {
		return nil, nil
	}
	chosen := map[string]bool{}
	var keys []string
	for _, w := range ws {
		if pick(w) {
			chosen[w.item.Key] = true
			keys = append(keys, w.item.Key)
		}
	}
	if len(keys) == 0 {
		return nil, nil
	}
	sharers, err := sb.LiveSharers(ctx, p.Mapping.Name, keys)
	if err != nil {
		return nil, fmt.Errorf("mapping %s: keys sharing a Salesforce record: %w", p.Mapping.Name, err)
	}
	for k, ks := range sharers {
		sharers[k] = slices.DeleteFunc(ks, func(o string) bool { return chosen[o] })
	}
	return sharers, nil
}

// deletedInSalesforce reports whether err is Salesforce saying the record
// an update named by Id is deleted (in the recycle bin: ENTITY_IS_DELETED)
// or purged (NOT_FOUND).
func deletedInSalesforce(err *forcesync.RecordError) bool {
	return err != nil && (err.Code == salesforce.CodeEntityIsDeleted || err.Code == salesforce.CodeNotFound)
}
