package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/mapping"
	"github.com/forcesync/forcesync/salesforce"
)

// work is one claimed item on its way through a batch.
type work struct {
	item      forcesync.WorkItem
	payload   mapping.Payload
	out       forcesync.Outcome
	done      bool
	created   bool   // Salesforce created the record in this batch
	unchanged bool   // settled without a call: nothing changed
	inFlight  string // the External ID value it holds in keysInFlight (collision.go)
	// life marks a disable or a deprovision (lifecycle.go): the upsert
	// paths leave it alone. remove asks for a delete call, writes for an
	// update by Id with those fields; lifeState is the state on success.
	life      bool
	remove    bool
	writes    map[string]any
	lifeState forcesync.State
	// spareState is the state of a disable or deprovision whose Salesforce
	// record another live key shares, so it is left alone (lifecycle.go).
	spareState forcesync.State
	// createDisabled: a disabled record created in its disabled form.
	createDisabled bool
	// demoteCheck: a Lead mapping's create of a record out of the Contact
	// mapping's scope; holdDemoted looks for a live Contact (demote.go).
	demoteCheck bool
	// notDemoted: the record's Lead was converted, and the source's
	// Contact mapping never had the record: a conversion made in
	// Salesforce, not a demotion (convertedOutside, demote.go).
	notDemoted bool
	// contactPending: the record's Lead was converted and the Contact
	// mapping has an earlier version of the record in flight, so whether
	// it had the record is not known yet (convertedOutside).
	contactPending bool
}

// recodeError is err under code: a record error's message without its own
// code (an expression's EXPRESSION_ERROR), which code replaces.
func recodeError(code string, err error) *forcesync.RecordError {
	msg := err.Error()
	if re, ok := errors.AsType[*forcesync.RecordError](err); ok {
		msg = re.Message
	}
	return &forcesync.RecordError{Code: code, Message: msg}
}

func (w *work) finish(state forcesync.State, err *forcesync.RecordError) {
	w.out.State = state
	w.out.Error = err
	w.done = true
}

// pushBatch claims one batch of a mapping and pushes it.
func (e *Engine) pushBatch(ctx context.Context, owner string, p *Pipe, b batchBudget) (int, error) {
	size := p.Mapping.BatchSize
	if size <= 0 || size > 200 {
		size = 200
	}
	// An External ID mapping claims up to a Bulk job's worth; when the claim
	// reaches the threshold it goes through Bulk API 2.0, otherwise through
	// Collections in calls of size. Deciding on what was claimed (rather
	// than on a count of the backlog) costs no extra query and ignores work
	// that is waiting for a retry.
	limit := size
	bulkOK := e.cfg.BulkThreshold > 0 && p.Mapping.Match.Kind == forcesync.MatchExternalID && b.bulk
	if bulkOK {
		limit = max(e.cfg.BulkBatch, e.cfg.BulkThreshold)
	}
	now := e.cfg.Now()
	// A claim of a large backlog can take longer than a short lease (tens
	// of thousands of rows read with their records): its lease covers its
	// own time, and is cut to the usual length as soon as it returns.
	lease, long := e.cfg.Lease, limit > size
	if long {
		lease += time.Duration(limit) * time.Millisecond
	}
	items, err := e.store.Claim(ctx, forcesync.ClaimRequest{Mapping: p.Mapping.Name, Owner: owner, Lease: lease, Limit: limit, Now: now,
		Priority: b.priority})
	if err != nil || len(items) == 0 {
		return 0, err
	}
	stopLeases := e.keepLeases(ctx, p, owner, now, long)
	defer stopLeases()
	useBulk := bulkOK && len(items) >= e.cfg.BulkThreshold
	run := &forcesync.Run{Mapping: p.Mapping.Name, API: "collections", Started: now, Records: len(items)}
	if useBulk {
		run.API = "bulk"
	}
	// Count this batch's calls on its own context: other workers' batches
	// run at the same time on the same client.
	var counter salesforce.CallCounter
	ctx = salesforce.WithCallCounter(ctx, &counter)
	ws := make([]*work, len(items))
	for i, it := range items {
		ws[i] = &work{item: it, out: forcesync.Outcome{Item: it}}
	}
	defer e.releaseInFlight(ws) // after Complete: see collision.go
	// Which converted Leads were converted in Salesforce rather than
	// demoted is read first: prepare decides on it (demote.go).
	callErr := e.convertedOutside(ctx, p, ws)
	if callErr == nil {
		e.prepare(p, ws)
		callErr = e.holdDemoted(ctx, p, ws)
	}
	if callErr == nil {
		callErr = e.promote(ctx, p, ws)
	}
	if callErr == nil {
		callErr = e.fillAliases(ctx, p, ws)
	}
	if callErr == nil {
		callErr = e.notePushes(ctx, p, ws) // two-way mappings: know the echo
	}
	wctx := ctx
	if p.Mapping.Pulls() && !useBulk {
		// A two-way mapping's write follows its read of Salesforce's values
		// (notePushes): retried in the client, the write would land seconds
		// after the read, over any edit made meanwhile. A failed call is
		// retried by the engine instead, which reads again first.
		wctx = salesforce.WithoutRetries(ctx)
	}
	switch {
	case callErr != nil:
	case p.Mapping.Match.Kind == forcesync.MatchExternalID:
		callErr = e.pushUpserts(wctx, p, ws, useBulk, size)
	default:
		callErr = e.pushMatched(wctx, owner, p, ws)
	}
	if callErr == nil {
		callErr = e.pushLifecycle(ctx, owner, p, ws)
	}
	outs := make([]forcesync.Outcome, 0, len(ws))
	for _, w := range ws {
		if !w.done {
			// Not reached because a whole call failed: try again later.
			re, _ := recordError(callErr)
			if callErr == nil {
				re = &forcesync.RecordError{Code: "NOT_ATTEMPTED", Message: "not attempted"}
			}
			w.out.State, w.out.Error = forcesync.StateRetrying, re
		}
		if w.out.State == forcesync.StateRetrying && w.out.NextAttempt.IsZero() {
			if w.out.Error != nil && w.out.Error.Code == codeInterrupted {
				w.out.NextAttempt = e.cfg.Now() // not Salesforce's doing: no backoff
			} else {
				w.out.NextAttempt = e.cfg.Now().Add(e.backoff(w.item.Attempts))
			}
		}
		countRun(run, w)
		outs = append(outs, w.out)
	}
	run.Finished = e.cfg.Now()
	run.APICalls = counter.Calls()
	e.observeUsage()
	e.gov.Spent(ctx, laneOf(items), run.APICalls)
	// The renewals stop before Complete (which would wait on the rows a
	// renewal locks, and the renewal on Complete's), leaving it a lease of
	// its own.
	stopLeases()
	// Commit even when the context ended: Salesforce already has the data.
	if err := e.store.Complete(context.WithoutCancel(ctx), owner, outs, run); err != nil {
		return len(items), err
	}
	e.reportSettled(p, ws)
	e.schemaSuspect(ctx, p, outs, callErr) // schema.go: errors that suggest a schema change
	if used, max := e.api.Usage(); max > 0 {
		_ = e.store.RecordAPIUsage(context.WithoutCancel(ctx), forcesync.APIUsage{Connection: e.cfg.Connection,
			Used: used, Max: max, Calls: map[string]int{run.API: run.APICalls}, At: run.Finished})
	}
	e.report(p, run, outs, callErr)
	if callErr != nil && !salesforce.Retryable(callErr) {
		return len(items), callErr
	}
	return len(items), nil
}

func countRun(run *forcesync.Run, w *work) {
	switch w.fate() {
	case FateCreated:
		run.Created++
	case FateUnchanged:
		run.Unchanged++
	case FateUpdated:
		run.Updated++
	case FateDeleted:
		run.Deleted++
	case FateSkipped:
		run.Skipped++
	case FateHeld, FateRetrying:
		run.Failed++
	}
}

// prepare applies the filter, compiles payloads and settles every item that
// needs no API call: skipped, unchanged, still held, not allowed.
func (e *Engine) prepare(p *Pipe, ws []*work) {
	c := p.Compiled
	for _, w := range ws {
		it := w.item
		bound := it.Binding != nil && it.Binding.SalesforceID != ""
		if bound {
			w.out.SalesforceID = it.Binding.SalesforceID
		}
		if it.Unreadable != nil {
			// The store cannot read the record's fields back (old data
			// the doors now refuse): hold this record, with the field
			// named, and let the batch's others go on. A new change of
			// the record replaces the fields.
			w.finish(forcesync.StateHeld, it.Unreadable)
			continue
		}
		if bound && it.Binding.Fingerprint == forcesync.FingerprintLeadGone {
			// A promotion found the Lead deleted in Salesforce
			// (promote.go): nothing was converted.
			if e.leadGone(p, w) {
				continue
			}
			bound = false
		}
		if bound && it.Binding.Fingerprint == forcesync.FingerprintConverted {
			cp := (*Pipe)(nil)
			in := false
			if it.Op != forcesync.OpDelete {
				if ok, err := c.Filter(it.Fields); err == nil && ok {
					in = true
					cp = e.demotedFrom(p, it.Fields)
				}
			}
			if cp != nil && w.notDemoted {
				// Converted in Salesforce (a poll saw it) while the Contact
				// mapping never had the record: no demotion, whatever
				// operations.demote says; the Lead follows the conversion.
				cp = nil
			}
			switch {
			case cp != nil && w.contactPending:
				e.waitFor(w, codeContactPending, fmt.Sprintf(
					"waiting for Contact mapping %s, which is pushing this record, to tell whether the converted Lead's record was demoted", cp.Mapping.Name))
				continue
			case cp == nil && in:
				// The Lead was converted (a poll saw it, or a promotion
				// converted it) and the app changed the record: it goes
				// where a push refused with CANNOT_UPDATE_CONVERTED_LEAD
				// goes (afterLimits): on under the source's Contact
				// mapping, bound to the Contact the Lead became (settled
				// without a write when that mapping follows it already),
				// else held with LEAD_CONVERTED naming the Contact, rather
				// than the change going nowhere.
				w.out.Fingerprint = forcesync.FingerprintConverted
				w.finish(forcesync.StateHeld, &forcesync.RecordError{Code: "CANNOT_UPDATE_CONVERTED_LEAD",
					Message: fmt.Sprintf("Lead %s was converted", it.Binding.SalesforceID)})
				continue
			case cp == nil:
				// Deleted, or out of the Lead mapping's scope: the Lead
				// takes no more writes.
				w.out.Fingerprint = forcesync.FingerprintConverted
				w.finish(forcesync.StateConverted, nil)
				continue
			case !demoteRecreates(cp):
				// Demoted, and the Contact it became is kept (demote.go).
				w.out.Fingerprint = forcesync.FingerprintConverted
				w.finish(forcesync.StateHeld, cannotDemote(cp, p.Mapping.Name, ""))
				continue
			}
			// Demoted with demote: recreate_lead: a Lead of its own.
			bound = false
			w.item.Binding, w.out.SalesforceID = nil, ""
			w.out.Warnings = append(w.out.Warnings, fmt.Sprintf("demoted: Lead %s was converted; the record gets a new Lead (mapping %s: demote recreate_lead)",
				it.Binding.SalesforceID, cp.Mapping.Name))
		}
		if it.Op == forcesync.OpDelete || p.Removed {
			// Deleted in the application, or its mapping left the config.
			e.deprovision(c, w, bound)
			continue
		}
		if it.Op == forcesync.OpDisable && len(it.Fields) == 0 {
			// A bare disable (ingest op disable without fields).
			if c.Disables() {
				e.disable(c, w, bound) // no fields: never a create
			} else {
				w.finish(forcesync.StateSkipped, nil)
			}
			continue
		}
		ok, err := c.Filter(it.Fields)
		if err != nil {
			w.finish(forcesync.StateHeld, recodeError("FILTER_ERROR", err))
			continue
		}
		if !ok {
			if bound && e.promotedAway(p, it.Fields) {
				// Promoted: the Contact mapping converts the Lead, and
				// binds it as converted once it did; the binding is its
				// to write (it may find the Lead gone instead).
				w.out.Fingerprint = forcesync.FingerprintConverted
				w.out.KeepBinding = true
				w.out.Warnings = append(w.out.Warnings, "promoted: the source's Contact mapping takes the record and converts the Lead")
				w.finish(forcesync.StateConverted, nil)
			} else if bound && e.demoteHeld(p, it.Fields) {
				// Demoted: the Contact is kept (demote: hold).
				w.out.Fingerprint = ""
				w.finish(forcesync.StateHeld, cannotDemote(p, e.leadPipe(p.Mapping.Source).Mapping.Name, it.Binding.SalesforceID))
			} else if bound && c.Deprovisions() {
				// Out of scope now: deprovisioned, not left behind.
				e.deprovision(c, w, bound)
			} else {
				w.finish(forcesync.StateSkipped, nil)
			}
			continue
		}
		if !bound {
			if cp := e.demotedFrom(p, it.Fields); cp != nil && !demoteRecreates(cp) {
				w.demoteCheck = true // holdDemoted: is there a live Contact?
			}
		}
		if c.Disables() {
			disabled := it.Op == forcesync.OpDisable
			if !disabled {
				if disabled, err = c.DisabledBy(it.Fields); err != nil {
					w.finish(forcesync.StateHeld, recodeError("DISABLE_WHEN_ERROR", err))
					continue
				}
			}
			if disabled && e.disable(c, w, bound) {
				continue
			}
		}
		if bound && !c.CanUpdate() {
			w.out.Fingerprint = it.Binding.Fingerprint
			w.out.Warnings = createWarnings(c, it)
			w.unchanged = true
			w.finish(forcesync.StateSynced, nil)
			continue
		}
		pl, err := c.PayloadFor(it.Key, it.Fields, !bound)
		if err != nil {
			var re *forcesync.RecordError
			if !errors.As(err, &re) {
				re = &forcesync.RecordError{Code: "MAPPING_ERROR", Message: err.Error()}
			}
			w.out.Fingerprint = ""
			w.finish(forcesync.StateHeld, re)
			continue
		}
		if bound && it.Binding.Fingerprint == forcesync.FingerprintDisabled && c.Reactivates() {
			// Back from disabled or deprovisioned: a User is active again.
			pl.Fields["IsActive"] = true
		}
		if w.createDisabled {
			for k, v := range c.DisableWrites() {
				pl.Fields[k] = v
			}
		}
		w.payload = pl
		if p.Mapping.Match.Kind == forcesync.MatchExternalID {
			// Only the payload is sent from here on (a match by fields
			// builds payloads again): let a big batch's source fields go.
			w.item.Fields, w.out.Item.Fields = nil, nil
		}
		w.out.Warnings = pl.Warnings
		w.out.Fingerprint = pl.Fingerprint
		if bound && !it.Forced && it.Binding.Fingerprint == pl.Fingerprint && !e.passwordWaiting(p, it.Key) {
			w.unchanged = true
			w.finish(forcesync.StateSynced, nil) // no change: no call
			continue
		}
		if !it.Forced && it.HeldFingerprint != "" && it.HeldFingerprint == pl.Fingerprint {
			w.finish(forcesync.StateHeld, &forcesync.RecordError{Code: "HELD", Message: "unchanged since Salesforce refused it; change the record or the mapping, or retry it"})
			continue
		}
		if !bound && !c.CanCreate() && p.Mapping.Match.Kind == forcesync.MatchBinding {
			w.finish(forcesync.StateSkipped, nil)
		}
	}
}

// settle records a call's result for a work item.
func (e *Engine) settle(w *work, r Result, created bool) {
	switch {
	case r.Err == nil:
		w.out.SalesforceID = r.ID
		w.created = created
		if w.payload.UpdateFingerprint != "" {
			// The record is bound from now on, so its next change is
			// compared as an update: store the update-time fingerprint,
			// also when an upsert built for a create found the record
			// (say, created by a call whose answer was lost).
			w.out.Fingerprint = w.payload.UpdateFingerprint
		}
		w.finish(forcesync.StateSynced, nil)
		if w.createDisabled {
			w.out.Fingerprint = forcesync.FingerprintDisabled
			w.out.State = forcesync.StateDisabled
		}
	case r.Retryable:
		w.finish(forcesync.StateRetrying, r.Err)
	default:
		w.finish(forcesync.StateHeld, r.Err)
	}
}
