package engine

import (
	"context"
	"fmt"
	"strings"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/salesforce"
)

// Salesforce's known limits, handled instead of held with a raw error:
//
//   - CANNOT_UPDATE_CONVERTED_LEAD: the Lead was converted. Its
//     ConvertedContactId is read; when a Contact mapping of the same source
//     takes the record, the record is bound there to that Contact and
//     requeued (the Lead mapping's status becomes converted); otherwise it
//     is held with LEAD_CONVERTED naming the Contact.
//   - DELETE_FAILED on a Contact with a portal User: the mapping's
//     portal_user fallback deactivates the User (the Contact stays,
//     deprovisioned) or holds the record with PORTAL_USER naming the User.
//
// A new record whose match value equals a converted Lead's does not match
// it (FindBy leaves converted Leads out), so it gets a Lead of its own.

// Lookuper reads records by a field's values. *SalesforceAPI implements
// it; an API without it leaves these errors held as Salesforce gave them.
type Lookuper interface {
	// Lookup returns fields (and Id) of obj's records whose field is one
	// of values.
	Lookup(ctx context.Context, obj string, fields []string, field string, values []string) ([]salesforce.Record, error)
}

// Lookup implements Lookuper. Names are checked against the describe and
// values escaped, as in FindBy.
func (a *SalesforceAPI) Lookup(ctx context.Context, obj string, fields []string, field string, values []string) ([]salesforce.Record, error) {
	if len(values) == 0 {
		return nil, nil
	}
	d, err := a.Client.Describe(ctx, obj)
	if err != nil {
		return nil, err
	}
	sel := append([]string{"Id"}, fields...)
	// The query travels in the URL: many values go in several queries.
	var out []salesforce.Record
	for _, chunk := range chunkByURLLen(values, inBudget(sel, d.Name, field)) {
		q, err := salesforce.Select(sel...).From(d.Name).Where(salesforce.In(field, chunk...)).Build(d)
		if err != nil {
			return nil, fmt.Errorf("look up %s by %s: %w", obj, field, err)
		}
		recs, err := a.Client.QueryRecords(ctx, q)
		if err != nil {
			return nil, err
		}
		out = append(out, recs...)
	}
	return out, nil
}

// afterLimits handles the known limits among a batch's held records.
func (e *Engine) afterLimits(ctx context.Context, p *Pipe, ws []*work) error {
	lk, ok := e.api.(Lookuper)
	if !ok {
		return nil
	}
	var converted, portal []*work
	for _, w := range ws {
		if !w.done || w.out.State != forcesync.StateHeld || w.out.Error == nil || w.out.SalesforceID == "" {
			continue
		}
		switch {
		case w.out.Error.Code == "CANNOT_UPDATE_CONVERTED_LEAD" && strings.EqualFold(p.Compiled.Object(), "Lead"):
			converted = append(converted, w)
		case w.out.Error.Code == "DELETE_FAILED" && w.remove && strings.EqualFold(p.Compiled.Object(), "Contact"):
			portal = append(portal, w)
		}
	}
	if err := e.rebindConverted(ctx, lk, p, converted); err != nil {
		return err
	}
	return e.portalFallback(ctx, lk, p, portal)
}

// contactPipe is the source's Contact mapping, or nil.
func (e *Engine) contactPipe(source string) *Pipe {
	for _, q := range e.livePipes() {
		if q.Mapping.Source == source && strings.EqualFold(q.Compiled.Object(), "Contact") {
			return q
		}
	}
	return nil
}

func (e *Engine) rebindConverted(ctx context.Context, lk Lookuper, p *Pipe, ws []*work) error {
	if len(ws) == 0 {
		return nil
	}
	ids := make([]string, len(ws))
	for i, w := range ws {
		ids[i] = w.out.SalesforceID
	}
	recs, err := lk.Lookup(ctx, "Lead", []string{"ConvertedContactId"}, "Id", ids)
	if err != nil {
		return err
	}
	contactOf := map[string]string{}
	for _, r := range recs {
		c, _ := r["ConvertedContactId"].(string)
		contactOf[r.ID()] = c
	}
	cp := e.contactPipe(p.Mapping.Source)
	if cp == nil {
		for _, w := range ws {
			if contact := contactOf[w.out.SalesforceID]; contact != "" {
				heldConverted(w, contact, "no Contact mapping of source "+p.Mapping.Source)
			}
		}
		return nil
	}
	// The records the Contact mapping may take: their state under it and
	// their source records, in one read when the store can.
	var rbs []*rebind
	var keys []string
	for _, w := range ws {
		if contact := contactOf[w.out.SalesforceID]; contact != "" { // else not converted after all: held as Salesforce said
			rbs = append(rbs, &rebind{w: w, contact: contact})
			keys = append(keys, w.item.Key)
		}
	}
	if len(rbs) == 0 {
		return nil
	}
	settled, err := readSettled(ctx, e.store, cp.Mapping.Source, cp.Mapping.Name, keys)
	if err != nil {
		return err
	}
	srcs, err := e.sourceRecordsOf(ctx, p.Mapping.Source, keys, settled)
	if err != nil {
		return err
	}
	var stamps []*stamp
	for _, rb := range rbs {
		rb.rec = srcs[rb.w.item.Key]
		if rb.rec != nil && !rb.rec.Deleted {
			rb.in, _ = cp.Compiled.Filter(rb.rec.Fields)
		}
		// The Contact mapping may have followed the conversion already
		// (its promotion found the converted Lead), or have a change of
		// the record waiting or in flight, which reads the binding when
		// claimed or follows the conversion itself: queued again, it
		// would settle twice for one change.
		sm, seen := settled[rb.w.item.Key].Mappings[cp.Mapping.Name]
		rb.follows = seen && !sm.Queued && sm.State == forcesync.StateSynced && sm.SalesforceID == rb.contact
		rb.waiting = seen && sm.Queued && sm.State == forcesync.StatePending
		if rb.in && !rb.follows && cp.Mapping.Match.Kind == forcesync.MatchExternalID {
			// The Contact mapping upserts by its External ID: stamp it on
			// the converted Contact so the upsert finds that Contact.
			rb.stamp = &stamp{rec: rb.rec, id: rb.contact}
			stamps = append(stamps, rb.stamp)
		}
	}
	stampExternalIDs(ctx, e.api, cp, stamps)
	for _, rb := range rbs {
		w, contact, in := rb.w, rb.contact, rb.in
		why := "mapping " + cp.Mapping.Name + "'s filter does not take the record"
		if rb.stamp != nil && rb.stamp.err != nil {
			in, why = false, "stamping "+cp.Compiled.ExternalIDField()+" on it failed: "+rb.stamp.err.Error()
		}
		if !in {
			heldConverted(w, contact, why)
			continue
		}
		if !rb.follows {
			// Bound only once the stamp succeeded.
			if err := e.store.Bind(ctx, forcesync.Binding{Mapping: cp.Mapping.Name, Key: w.item.Key, SalesforceID: contact}); err != nil {
				return err
			}
		}
		if !rb.follows && !rb.waiting {
			n, err := e.store.Requeue(ctx, cp.Mapping.Name, []string{w.item.Key})
			if err != nil {
				return err
			}
			if n == 0 {
				// The Contact mapping never saw the record: queue it there.
				rec := rb.rec
				if _, err := e.store.Accept(ctx, []string{cp.Mapping.Name}, []forcesync.Change{{Source: rec.Source, Key: rec.Key, Fields: rec.Fields}}); err != nil {
					return err
				}
			}
		}
		w.out.Error = nil
		w.out.Fingerprint = forcesync.FingerprintConverted
		w.out.Warnings = append(w.out.Warnings, fmt.Sprintf("Lead %s was converted to Contact %s; the record continues under mapping %s",
			w.out.SalesforceID, contact, cp.Mapping.Name))
		w.out.State = forcesync.StateConverted
	}
	return nil
}

// rebind is a converted Lead's record that the source's Contact mapping
// may take, as rebindConverted decides it.
type rebind struct {
	w       *work
	contact string // the Contact the Lead became
	rec     *forcesync.SourceRecord
	// in: the Contact mapping's filter takes the record; follows: that
	// mapping is bound to the Contact already; waiting: a change of the
	// record waits there for its first claim.
	in, follows, waiting bool
	stamp                *stamp // the External ID to write first, if any
}

// heldConverted leaves w held (as Salesforce refused it) with
// LEAD_CONVERTED, naming the Contact its Lead became and why the record
// does not follow it.
func heldConverted(w *work, contact, why string) {
	w.out.Error = &forcesync.RecordError{Code: forcesync.CodeLeadConverted,
		Message: fmt.Sprintf("Lead %s was converted to Contact %s, and %s; map the record to Contacts or retire it", w.out.SalesforceID, contact, why)}
}

func (e *Engine) portalFallback(ctx context.Context, lk Lookuper, p *Pipe, ws []*work) error {
	if len(ws) == 0 {
		return nil
	}
	ids := make([]string, len(ws))
	for i, w := range ws {
		ids[i] = w.out.SalesforceID
	}
	users, err := lk.Lookup(ctx, "User", []string{"Username", "ContactId", "IsActive"}, "ContactId", ids)
	if err != nil {
		return err
	}
	byContact := map[string][]salesforce.Record{}
	for _, u := range users {
		c, _ := u["ContactId"].(string)
		byContact[c] = append(byContact[c], u)
	}
	deactivate := p.Mapping.Operations.PortalUser == forcesync.PortalDeactivate
	var recs []salesforce.Record
	var owners []*work
	for _, w := range ws {
		us := byContact[w.out.SalesforceID]
		if len(us) == 0 {
			continue // refused for another reason: held as Salesforce said
		}
		var names []string
		for _, u := range us {
			n, _ := u["Username"].(string)
			names = append(names, n+" ("+u.ID()+")")
			if deactivate && u["IsActive"] != false {
				recs = append(recs, salesforce.Record{"attributes": map[string]any{"type": "User"}, "Id": u.ID(), "IsActive": false})
				owners = append(owners, w)
			}
		}
		if !deactivate {
			w.out.Error = &forcesync.RecordError{Code: forcesync.CodePortalUser, Message: fmt.Sprintf(
				"Salesforce cannot delete Contact %s: portal user %s is tied to it; deactivate the user, or set operations.portal_user: deactivate",
				w.out.SalesforceID, strings.Join(names, ", "))}
			continue
		}
		w.out.Error = nil
		w.out.State = forcesync.StateDeprovisioned
		w.out.Unbind = false
		w.out.Fingerprint = forcesync.FingerprintDisabled
		w.out.Warnings = append(w.out.Warnings, fmt.Sprintf("Contact %s kept: portal user %s deactivated instead (Salesforce cannot delete a portal user's Contact)",
			w.out.SalesforceID, strings.Join(names, ", ")))
	}
	for lo := 0; lo < len(recs); lo += 200 {
		res, err := e.api.Update(ctx, "User", recs[lo:min(lo+200, len(recs))])
		if err != nil {
			return err
		}
		for i, r := range res {
			if w := owners[lo+i]; r.Err != nil {
				w.out.State, w.out.Fingerprint, w.out.Warnings = forcesync.StateHeld, "", nil
				w.out.Error = &forcesync.RecordError{Code: forcesync.CodePortalUser,
					Message: "deactivating the portal user of Contact " + w.out.SalesforceID + " failed: " + r.Err.Error()}
			}
		}
	}
	return nil
}
