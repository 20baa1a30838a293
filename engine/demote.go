package engine

import (
	"context"
	"fmt"
	"strings"

	"github.com/forcesync/forcesync"
)

// Demote: a record leaves the scope of its source's Contact mapping and
// enters the scope of its Lead mapping (a customer back among the
// prospects). Salesforce converts Leads into Contacts but never back, so
// the Contact mapping's operations.demote decides:
//
//	hold (default)   the Contact is kept as it is and no Lead is created;
//	                 the record is held with CANNOT_DEMOTE under both
//	                 mappings, saying what to do. Back in the Contact
//	                 mapping's scope, it carries on as before.
//	recreate_lead    the Contact mapping applies its remove action to the
//	                 Contact (through the mass-change guard) and the Lead
//	                 mapping creates a new Lead, even when the record's
//	                 Lead was converted into that Contact earlier.
//
// Either way only a Contact the Contact mapping carried is demoted: a Lead
// converted in Salesforce whose record that mapping never had follows the
// conversion instead (convertedOutside).

// demoteRecreates reports whether cp, a Contact mapping, lets a demoted
// record get a new Lead.
func demoteRecreates(cp *Pipe) bool {
	return cp.Mapping.Operations.Demote == forcesync.DemoteRecreate
}

// demoteHeld reports whether p, a Contact mapping, keeps a bound record
// with fields that left its scope because the record went to the Lead
// mapping's (demote: hold).
func (e *Engine) demoteHeld(p *Pipe, fields map[string]any) bool {
	if p.Removed || !strings.EqualFold(p.Compiled.Object(), "Contact") || demoteRecreates(p) {
		return false
	}
	lp := e.leadPipe(p.Mapping.Source)
	if lp == nil || !lp.Compiled.CanCreate() {
		return false
	}
	in, err := lp.Compiled.Filter(fields)
	return err == nil && in
}

// demotedFrom returns the source's Contact mapping when p is its Lead
// mapping and fields, in p's scope, are out of the Contact mapping's: a
// demotion. Nil otherwise.
func (e *Engine) demotedFrom(p *Pipe, fields map[string]any) *Pipe {
	if fields == nil || !strings.EqualFold(p.Compiled.Object(), "Lead") {
		return nil
	}
	cp := e.contactPipe(p.Mapping.Source)
	if cp == nil {
		return nil
	}
	if in, err := cp.Compiled.Filter(fields); err != nil || in {
		return nil
	}
	return cp
}

// cannotDemote is the hold of a demoted record.
func cannotDemote(cp *Pipe, lead, contact string) *forcesync.RecordError {
	what := "its Contact"
	if contact != "" {
		what = "Contact " + contact
	}
	return &forcesync.RecordError{Code: forcesync.CodeCannotDemote, Message: fmt.Sprintf(
		"the record left Contact mapping %s's scope for Lead mapping %s's; Salesforce cannot turn %s back into a Lead, so it is kept and no Lead is created. "+
			"Set operations.demote: recreate_lead on mapping %s to apply its remove action and create a Lead, or bring the record back into its scope",
		cp.Mapping.Name, lead, what, cp.Mapping.Name)}
}

// holdDemoted holds the records a Lead mapping would create although
// they are bound to a live Contact of the source's Contact mapping, whose
// demote is hold (prepare flagged them).
func (e *Engine) holdDemoted(ctx context.Context, p *Pipe, ws []*work) error {
	cp := e.contactPipe(p.Mapping.Source)
	if cp == nil {
		return nil
	}
	var cand []*work
	for _, w := range ws {
		if !w.done && w.demoteCheck {
			cand = append(cand, w)
		}
	}
	if len(cand) == 0 {
		return nil
	}
	// The Contact bindings of the batch, read at once when the store can.
	settled, err := e.settledUnder(ctx, cp, cand)
	if err != nil {
		return err
	}
	for _, w := range cand {
		sm, err := e.boundUnder(ctx, cp, settled, w)
		if err != nil {
			return err
		}
		id, fp := sm.SalesforceID, sm.Fingerprint
		if id == "" && sm.Overtaken {
			// The Contact mapping has an earlier version of the record in
			// flight: Salesforce may have its Contact already, the store
			// not yet. A Lead created now would be a twin beside it.
			e.waitFor(w, codeContactPending, fmt.Sprintf(
				"waiting for Contact mapping %s, which is pushing this record, to tell whether a Contact exists", cp.Mapping.Name))
			continue
		}
		if id == "" || fp == forcesync.FingerprintDisabled {
			continue // no live Contact: a Lead of its own is no twin
		}
		w.out.Fingerprint = ""
		w.finish(forcesync.StateHeld, cannotDemote(cp, p.Mapping.Name, id))
	}
	return nil
}

// convertedOutside tells, before prepare, the records of a Lead
// mapping's converted Leads that the source's Contact mapping never had:
// their Lead was converted in Salesforce by someone (a poll saw it), not
// by a promotion, so a change of the record back in the Lead mapping's
// scope is no demotion, whatever the Contact mapping's operations.demote
// says. Such a record follows the conversion as a push Salesforce refused
// for it does (afterLimits): on under the Contact mapping when its filter
// takes the record, else held with LEAD_CONVERTED naming the Contact, and
// never a new Lead. A record the Contact mapping has in flight waits
// (CONTACT_PENDING) until the store tells.
func (e *Engine) convertedOutside(ctx context.Context, p *Pipe, ws []*work) error {
	if !strings.EqualFold(p.Compiled.Object(), "Lead") {
		return nil
	}
	cp := e.contactPipe(p.Mapping.Source)
	if cp == nil {
		return nil
	}
	var conv []*work
	for _, w := range ws {
		b := w.item.Binding
		if b != nil && b.SalesforceID != "" && b.Fingerprint == forcesync.FingerprintConverted && w.item.Op != forcesync.OpDelete {
			conv = append(conv, w)
		}
	}
	if len(conv) == 0 {
		return nil
	}
	settled, err := e.settledUnder(ctx, cp, conv)
	if err != nil {
		return err
	}
	for _, w := range conv {
		sm, err := e.boundUnder(ctx, cp, settled, w)
		if err != nil {
			return err
		}
		if sm.SalesforceID == "" {
			w.contactPending = sm.Overtaken
			w.notDemoted = !sm.Overtaken
		}
	}
	return nil
}

// codeContactPending defers a demoted record's Lead while the source's
// Contact mapping has the record in flight.
const codeContactPending = "CONTACT_PENDING"
