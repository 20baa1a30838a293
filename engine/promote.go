package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/salesforce"
)

// Promote a Lead to a Contact: when a record of a source leaves the scope
// of the source's Lead mapping and enters the scope of its Contact
// mapping, the Contact mapping converts the bound Lead (SOAP convertLead)
// and binds the Contact it became, instead of creating a twin Contact
// beside the Lead. A Lead already converted in Salesforce (by a person) is
// bound to its ConvertedContactId the same way. The Lead mapping, seeing
// the record leave its scope while the Contact mapping takes it, leaves
// the Lead to the conversion instead of applying its remove action; its
// status becomes converted. A Lead deleted in Salesforce before the
// promotion converts to nothing: the Contact mapping creates the Contact
// through its own match, and the Lead mapping settles the record as
// deleted and unbound (forcesync.FingerprintLeadGone), not converted.

// Converter converts Leads. *SalesforceAPI implements it.
type Converter interface {
	// ConvertLeads converts each Lead into a new Account and Contact and
	// returns one result per Lead, in order (Result.ID is the Contact).
	ConvertLeads(ctx context.Context, leadIDs []string) ([]Result, error)
}

// ConvertLeads implements Converter.
func (a *SalesforceAPI) ConvertLeads(ctx context.Context, leadIDs []string) ([]Result, error) {
	lcs := make([]salesforce.LeadConvert, len(leadIDs))
	for i, id := range leadIDs {
		lcs[i] = salesforce.LeadConvert{LeadID: id}
	}
	rs, err := a.Client.ConvertLeads(ctx, lcs)
	if err != nil {
		return nil, err
	}
	out := make([]Result, len(rs))
	for i, r := range rs {
		out[i] = Result{ID: r.ContactID}
		if r.Err != nil {
			out[i].Err, out[i].Retryable = recordError(r.Err)
		}
	}
	return out, nil
}

// leadGone settles w, bound under the Lead mapping p with
// forcesync.FingerprintLeadGone, and reports true, when the record is out
// of p's scope (or deleted, or p removed): the Lead it was bound to was
// deleted in Salesforce before the promotion, so the record is deleted
// there and unbound, with a warning. Back in p's scope, it reports false
// with w unbound: the record gets a new Lead.
func (e *Engine) leadGone(p *Pipe, w *work) bool {
	lead := w.item.Binding.SalesforceID
	in := false
	if w.item.Op != forcesync.OpDelete && !p.Removed {
		in, _ = p.Compiled.Filter(w.item.Fields) // a filter error is for the push to report
	}
	w.item.Binding, w.out.SalesforceID = nil, ""
	if in {
		w.out.Warnings = append(w.out.Warnings, fmt.Sprintf("Lead %s was deleted in Salesforce: the record gets a new Lead", lead))
		return false
	}
	w.out.Unbind, w.out.Fingerprint = true, ""
	w.out.Warnings = append(w.out.Warnings, fmt.Sprintf(
		"Lead %s was deleted in Salesforce before the promotion: nothing was converted; unbound (the Contact mapping creates the Contact)", lead))
	w.finish(forcesync.StateDeleted, nil)
	return true
}

// leadPipe is the source's Lead mapping, or nil.
func (e *Engine) leadPipe(source string) *Pipe {
	for _, q := range e.livePipes() {
		if q.Mapping.Source == source && strings.EqualFold(q.Compiled.Object(), "Lead") {
			return q
		}
	}
	return nil
}

// settledUnder reads the stored records of ws and their state under q in
// one read, when the store is a forcesync.SettledReader; nil otherwise.
func (e *Engine) settledUnder(ctx context.Context, q *Pipe, ws []*work) (map[string]forcesync.Settled, error) {
	return readSettled(ctx, e.store, q.Mapping.Source, q.Mapping.Name, keysOf(ws))
}

// keysOf returns the record keys of ws, in order.
func keysOf(ws []*work) []string {
	keys := make([]string, len(ws))
	for i, w := range ws {
		keys[i] = w.item.Key
	}
	return keys
}

// promotedAway reports whether the Lead mapping p should leave a record
// that left its scope to the source's Contact mapping: that mapping takes
// the record (and will convert the Lead).
func (e *Engine) promotedAway(p *Pipe, fields map[string]any) bool {
	if !strings.EqualFold(p.Compiled.Object(), "Lead") {
		return false
	}
	cp := e.contactPipe(p.Mapping.Source)
	if cp == nil || !cp.Compiled.CanCreate() {
		return false
	}
	ok, err := cp.Compiled.Filter(fields)
	return err == nil && ok
}

// settlesConverted reports whether a Lead mapping's record, as read
// before a promotion bound its Lead as converted, is settled as converted
// or will be without being queued again: converted already, or a change
// waiting for its first claim or in flight (a retry waits for its time:
// queued again, it settles now).
func settlesConverted(sm forcesync.SettledMapping) bool {
	return sm.State == forcesync.StateConverted || sm.Queued && sm.State == forcesync.StatePending
}

// boundUnder returns w's state under q from settled (settledUnder's read),
// or, for a record it lacks, its binding under q read on its own.
func (e *Engine) boundUnder(ctx context.Context, q *Pipe, settled map[string]forcesync.Settled, w *work) (forcesync.SettledMapping, error) {
	if sm, ok := settled[w.item.Key].Mappings[q.Mapping.Name]; ok {
		return sm, nil
	}
	b, err := e.store.Binding(ctx, q.Mapping.Name, w.item.Key)
	if err != nil || b == nil {
		return forcesync.SettledMapping{}, err
	}
	return forcesync.SettledMapping{SalesforceID: b.SalesforceID, Fingerprint: b.Fingerprint}, nil
}

// waitFor puts w off for a second, retrying with code: another mapping's
// batch must end before w can be decided.
func (e *Engine) waitFor(w *work, code, msg string) {
	w.finish(forcesync.StateRetrying, &forcesync.RecordError{Code: code, Message: msg})
	w.out.NextAttempt = e.cfg.Now().Add(matchWait)
	e.deferUntil(w.out.NextAttempt)
}

// codeLeadPending defers a promotion while the source's Lead mapping has
// the record in flight.
const codeLeadPending = "LEAD_PENDING"

// promote binds the unbound records a Contact mapping is about to create
// to the Contacts their Leads became, converting those Leads first.
func (e *Engine) promote(ctx context.Context, p *Pipe, ws []*work) error {
	if !strings.EqualFold(p.Compiled.Object(), "Contact") {
		return nil
	}
	lp := e.leadPipe(p.Mapping.Source)
	if lp == nil {
		return nil
	}
	lk, ok1 := e.api.(Lookuper)
	cv, ok2 := e.api.(Converter)
	if !ok1 || !ok2 {
		return nil
	}
	var cand []*work
	for _, w := range ws {
		if !w.done && !w.life && (w.item.Binding == nil || w.item.Binding.SalesforceID == "") {
			cand = append(cand, w)
		}
	}
	if len(cand) == 0 {
		return nil
	}
	// The Lead bindings and source records of the batch, read at once when
	// the store can (a Bulk claim holds up to 100,000 records: one read
	// each was most of such a batch's time).
	settled, err := e.settledUnder(ctx, lp, cand)
	if err != nil {
		return err
	}
	leadOf := map[*work]string{}
	var leadIDs []string
	for _, w := range cand {
		sm, err := e.boundUnder(ctx, lp, settled, w)
		if err != nil {
			return err
		}
		id := sm.SalesforceID
		if id == "" && sm.Overtaken {
			// The Lead mapping has an earlier version of the record in
			// flight (one in its scope, maybe): Salesforce may have its
			// Lead already, the store not yet. Created now, the Contact
			// would be a twin beside that Lead.
			e.waitFor(w, codeLeadPending, fmt.Sprintf(
				"waiting for Lead mapping %s, which is pushing this record, to tell whether a Lead exists to convert", lp.Mapping.Name))
			continue
		}
		if id == "" || sm.Fingerprint == forcesync.FingerprintLeadGone {
			continue // no Lead, or one a promotion found gone: create the Contact
		}
		leadOf[w] = id
		leadIDs = append(leadIDs, id)
	}
	if len(leadIDs) == 0 {
		return nil
	}
	recs, err := lk.Lookup(ctx, "Lead", []string{"IsConverted", "ConvertedContactId"}, "Id", leadIDs)
	if err != nil {
		return err
	}
	converted := map[string]string{}
	found := map[string]bool{}
	for _, r := range recs {
		found[r.ID()] = true
		if r["IsConverted"] == true {
			converted[r.ID()], _ = r["ConvertedContactId"].(string)
		}
	}
	var toConvert []string
	for w, lead := range leadOf {
		if _, ok := converted[lead]; ok {
			continue
		}
		fields, err := e.fieldsOf(ctx, p, w, settled)
		if err != nil {
			return err
		}
		if in, err := lp.Compiled.Filter(fields); err != nil || in {
			delete(leadOf, w) // still a Lead too (both scopes): the config wants both
			continue
		}
		if !found[lead] {
			delete(leadOf, w) // the Lead is gone: create the Contact
			if err := e.leadDeleted(ctx, lp, w, lead); err != nil {
				return err
			}
			continue
		}
		toConvert = append(toConvert, lead)
	}
	for lo := 0; lo < len(toConvert); lo += 200 {
		chunk := toConvert[lo:min(lo+200, len(toConvert))]
		res, err := cv.ConvertLeads(ctx, chunk)
		if err != nil {
			return err
		}
		for i, r := range res {
			if r.Err != nil {
				for w, lead := range leadOf {
					if lead == chunk[i] {
						delete(leadOf, w)
						r.Err.Message = "converting Lead " + lead + ": " + r.Err.Message
						w.out.Fingerprint = ""
						e.settle(w, r, false)
					}
				}
				continue
			}
			converted[chunk[i]] = r.ID
		}
	}
	// The batch's promoted records, in order, with the Contacts their Leads
	// became.
	var promoted []*work
	for _, w := range cand {
		if lead, ok := leadOf[w]; ok && converted[lead] != "" {
			promoted = append(promoted, w)
		}
	}
	stamps, err := e.stampPromoted(ctx, p, promoted, leadOf, converted, settled)
	if err != nil {
		return err
	}
	for _, w := range promoted {
		lead := leadOf[w]
		contact := converted[lead]
		if s := stamps[w]; s != nil && s.err != nil {
			w.out.Fingerprint = ""
			w.finish(forcesync.StateHeld, &forcesync.RecordError{Code: forcesync.CodeLeadConverted,
				Message: fmt.Sprintf("Lead %s became Contact %s, but stamping %s on it failed: %v", lead, contact, p.Compiled.ExternalIDField(), s.err)})
			continue
		}
		// Bound only once the stamp succeeded: bound without it, the
		// upsert by External ID would create a twin beside the Contact.
		if err := e.store.Bind(ctx, forcesync.Binding{Mapping: lp.Mapping.Name, Key: w.item.Key, SalesforceID: lead, Fingerprint: forcesync.FingerprintConverted}); err != nil {
			return err
		}
		// The Lead mapping settles the record as converted (no call): queued
		// again unless it already did, or a change of it is waiting there or
		// in flight (out of the Lead scope, bound: it settles as converted).
		// Queued again then, it would settle twice for one change, and a
		// file push would count it twice.
		if sm, ok := settled[w.item.Key].Mappings[lp.Mapping.Name]; !ok || !settlesConverted(sm) {
			if _, err := e.store.Requeue(ctx, lp.Mapping.Name, []string{w.item.Key}); err != nil {
				return err
			}
		}
		w.item.Binding = &forcesync.Binding{Mapping: p.Mapping.Name, Key: w.item.Key, SalesforceID: contact}
		w.out.SalesforceID = contact
		w.out.Warnings = append(w.out.Warnings, fmt.Sprintf("promoted: Lead %s converted to Contact %s", lead, contact))
	}
	return nil
}

// fieldsOf returns the source record of w, from its claim, from settled
// (the batch's read), or read on its own.
func (e *Engine) fieldsOf(ctx context.Context, p *Pipe, w *work, settled map[string]forcesync.Settled) (map[string]any, error) {
	fields := w.item.Fields
	if s, ok := settled[w.item.Key]; fields == nil && ok && !s.Deleted && s.Fields != "" {
		if err := json.Unmarshal([]byte(s.Fields), &fields); err != nil {
			return nil, fmt.Errorf("source record %s/%s: %w", p.Mapping.Source, w.item.Key, err)
		}
	}
	if fields == nil {
		rec, err := e.store.SourceRecord(ctx, p.Mapping.Source, w.item.Key)
		if err != nil {
			return nil, err
		}
		if rec != nil {
			fields = rec.Fields
		}
	}
	return fields, nil
}

// leadDeleted tells the Lead mapping lp that the Lead of w's promotion
// was deleted in Salesforce: nothing is converted. It binds the record
// there with forcesync.FingerprintLeadGone and queues it, so the Lead
// mapping settles it as deleted and unbound instead of converted (queued
// whatever its state: a batch of it in flight read the binding before).
// The Contact mapping creates the Contact through its own match.
func (e *Engine) leadDeleted(ctx context.Context, lp *Pipe, w *work, lead string) error {
	if err := e.store.Bind(ctx, forcesync.Binding{Mapping: lp.Mapping.Name, Key: w.item.Key, SalesforceID: lead,
		Fingerprint: forcesync.FingerprintLeadGone}); err != nil {
		return err
	}
	if _, err := e.store.Requeue(ctx, lp.Mapping.Name, []string{w.item.Key}); err != nil {
		return err
	}
	w.out.Warnings = append(w.out.Warnings, fmt.Sprintf("Lead %s was deleted in Salesforce before the promotion: nothing to convert; the Contact is created", lead))
	return nil
}

// stampPromoted stamps the External ID of the Contact mapping p, when it
// upserts by one, on the Contacts the Leads of ws became, an Update call
// per 200. Their source records come from settled, the batch's read that
// decided the promotion (read one by one where it holds none). It returns
// each record's stamp; none when p matches otherwise.
func (e *Engine) stampPromoted(ctx context.Context, p *Pipe, ws []*work, leadOf map[*work]string, converted map[string]string,
	settled map[string]forcesync.Settled) (map[*work]*stamp, error) {
	if p.Mapping.Match.Kind != forcesync.MatchExternalID || len(ws) == 0 {
		return nil, nil
	}
	recs, err := e.sourceRecordsOf(ctx, p.Mapping.Source, keysOf(ws), settled)
	if err != nil {
		return nil, err
	}
	out := make(map[*work]*stamp, len(ws))
	list := make([]*stamp, len(ws))
	for i, w := range ws {
		list[i] = &stamp{rec: recs[w.item.Key], id: converted[leadOf[w]]}
		out[w] = list[i]
	}
	stampExternalIDs(ctx, e.api, p, list)
	return out, nil
}
