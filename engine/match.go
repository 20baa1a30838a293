package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/salesforce"
)

// matchWait is how long a record waits when another worker is matching a
// record with the same match value.
const matchWait = time.Second

// pushMatched serves MatchFields and MatchBinding mappings: update bound
// records by Id; find unbound ones by their match field (one query per
// batch), then update the match or create.
func (e *Engine) pushMatched(ctx context.Context, owner string, p *Pipe, ws []*work) error {
	c := p.Compiled
	obj := c.Object()
	var updates, unbound []*work
	for _, w := range ws {
		if w.done || w.life {
			continue
		}
		if w.item.Binding != nil && w.item.Binding.SalesforceID != "" {
			updates = append(updates, w)
		} else {
			unbound = append(unbound, w)
		}
	}
	var creates []*work
	var held []string // match values this batch holds until it returns
	defer func() {
		if len(held) == 0 {
			return
		}
		if err := e.store.ReleaseMatches(context.WithoutCancel(ctx), p.Mapping.Name, owner, held); err != nil {
			// The holds run out with the lease; until then twins wait.
			e.cfg.Logger.Warn("releasing match holds", "mapping", p.Mapping.Name, "err", err)
		}
	}()
	if p.Mapping.Match.Kind == forcesync.MatchFields && len(unbound) > 0 {
		field := p.Mapping.Match.Fields[0]
		seen := map[string]*work{}
		var cands []*work
		var lvs []string
		for _, w := range unbound {
			v := matchValue(w.payload.Match, field)
			if v == "" {
				if !c.CanCreate() {
					w.finish(forcesync.StateSkipped, nil)
				} else {
					creates = append(creates, w)
				}
				continue
			}
			lv := strings.ToLower(v)
			if first, dup := seen[lv]; dup {
				// Two records share the match value: the first goes now,
				// this one next time, when it will find the first's twin.
				w.finish(forcesync.StateRetrying, &forcesync.RecordError{Code: "MATCH_PENDING", Message: "waiting for record " + first.item.Key + " with the same " + field})
				w.out.NextAttempt = e.cfg.Now()
				continue
			}
			seen[lv] = w
			cands, lvs = append(cands, w), append(lvs, lv)
		}
		// Hold the values in the store, so no other worker of any process
		// sharing it looks them up (and creates) until this batch is done.
		now := e.cfg.Now()
		got, err := e.store.HoldMatches(ctx, p.Mapping.Name, owner, lvs, now, now.Add(e.cfg.Lease))
		if err != nil {
			return err
		}
		held = got
		granted := make(map[string]bool, len(got))
		for _, v := range got {
			granted[v] = true
		}
		var values []string
		for i, w := range cands {
			if !granted[lvs[i]] {
				// Another worker is matching (and maybe creating) a record
				// with this value right now: look again once it is done.
				w.finish(forcesync.StateRetrying, &forcesync.RecordError{Code: "MATCH_PENDING", Message: "another batch is matching a record with the same " + field})
				w.out.NextAttempt = now.Add(matchWait)
				e.deferUntil(w.out.NextAttempt)
				continue
			}
			values = append(values, matchValue(w.payload.Match, field))
		}
		found, err := e.api.FindBy(ctx, obj, field, values)
		if err != nil {
			return err
		}
		for _, w := range unbound {
			if w.done || matchValue(w.payload.Match, field) == "" {
				continue
			}
			ids := found[strings.ToLower(matchValue(w.payload.Match, field))]
			if len(ids) > 0 {
				w.out.SalesforceID = ids[0]
				if !c.CanUpdate() {
					// Bound to the twin found, with no call: not an update.
					w.unchanged = true
					w.finish(forcesync.StateSynced, nil)
					continue
				}
				// Matched: the update payload, not the create one.
				pl, err := c.PayloadFor(w.item.Key, w.item.Fields, false)
				if err != nil {
					var re *forcesync.RecordError
					if !errors.As(err, &re) {
						re = &forcesync.RecordError{Code: "MAPPING_ERROR", Message: err.Error()}
					}
					w.finish(forcesync.StateHeld, re)
					continue
				}
				if c.Reactivates() && !w.createDisabled {
					// Found, not bound: the User may have been deactivated
					// before this record existed (an identity provider
					// deleted the person, then provisions them again under
					// a new SCIM id). The record is enabled, so is its User.
					pl.Fields["IsActive"] = true
				}
				w.payload = pl
				w.out.Fingerprint = pl.Fingerprint
				w.item.Binding = &forcesync.Binding{SalesforceID: ids[0]}
				updates = append(updates, w)
				continue
			}
			if !c.CanCreate() {
				w.finish(forcesync.StateSkipped, nil)
				continue
			}
			creates = append(creates, w)
		}
	} else {
		for _, w := range unbound {
			switch {
			case !c.CanCreate():
				w.finish(forcesync.StateSkipped, nil)
			case w.item.Intent != nil && !w.item.Forced:
				// A create for this key may have reached Salesforce before a
				// crash, and a binding-only mapping has nothing to look it up
				// by: hold it rather than risk a duplicate. A retry (forced)
				// creates it.
				w.finish(forcesync.StateHeld, &forcesync.RecordError{Code: "CREATE_UNCERTAIN",
					Message: "a create may have reached Salesforce before a crash; check for the record, then retry it to create it"})
			default:
				creates = append(creates, w)
			}
		}
	}
	for lo := 0; lo < len(updates); lo += 200 {
		chunk := updates[lo:min(lo+200, len(updates))]
		recs := make([]salesforce.Record, len(chunk))
		for i, w := range chunk {
			r := copyMap(w.payload.Fields)
			r["attributes"] = map[string]any{"type": obj}
			r["Id"] = w.item.Binding.SalesforceID
			recs[i] = r
		}
		res, err := e.api.Update(ctx, obj, recs)
		if err != nil {
			return err
		}
		for i, w := range chunk {
			if res[i].ID == "" {
				res[i].ID = w.item.Binding.SalesforceID
			}
			if r := res[i]; deletedInSalesforce(r.Err) {
				// Someone deleted the bound record in Salesforce (to the
				// recycle bin, or purged): updating that Id can never
				// succeed. The binding goes, so a retry or the record's next
				// change creates it again; the hold keeps this payload from
				// being sent unchanged on its own.
				w.out.Unbind = true
				w.finish(forcesync.StateHeld, &forcesync.RecordError{Code: r.Err.Code,
					Message: fmt.Sprintf("the Salesforce record %s was deleted (%s); forcesync unbound it: retry the record, or its next change, to create it again", w.item.Binding.SalesforceID, r.Err.Message)})
				continue
			}
			e.settle(w, res[i], false)
		}
	}
	if len(creates) > 0 {
		// Note the creates in flight first: after a crash the match query
		// (or, for binding-only mappings, the intent) tells us what landed.
		intents := make([]forcesync.Intent, len(creates))
		for i, w := range creates {
			intents[i] = forcesync.Intent{Key: w.item.Key, Match: w.payload.Match}
		}
		if err := e.store.RecordIntents(ctx, p.Mapping.Name, intents); err != nil {
			return err
		}
	}
	for lo := 0; lo < len(creates); lo += 200 {
		chunk := creates[lo:min(lo+200, len(creates))]
		recs := make([]salesforce.Record, len(chunk))
		for i, w := range chunk {
			r := copyMap(w.payload.Fields)
			r["attributes"] = map[string]any{"type": obj}
			recs[i] = r
		}
		res, err := e.api.Create(ctx, obj, recs)
		if err != nil {
			return err
		}
		for i, w := range chunk {
			e.settle(w, res[i], true)
		}
	}
	return nil
}

func matchValue(m map[string]string, field string) string {
	for k, v := range m {
		if strings.EqualFold(k, field) {
			return v
		}
	}
	return ""
}
