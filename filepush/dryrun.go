package filepush

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/ingest"
)

// Plan is what a push of the file would do (Options.DryRun), worked out
// from the file, the store and the compiled mappings alone: nothing is
// written and nothing is sent to Salesforce.
type Plan struct {
	Lanes []LanePlan
	// Changed is the rows that would be written and pushed (the rest of the
	// good rows are unchanged: Summary.Settled).
	Changed int64
	// Repeated is the changed rows whose key came earlier in the file with
	// a change too: the push sends them through the outbox after the
	// earlier row, so each counts under every mapping's Engine.
	Repeated int64
	// Examples are the first changed rows, with what changes.
	Examples []Example
}

// LanePlan is a plan's share of one mapping.
type LanePlan struct {
	Mapping string
	// Send is the rows sent in the push's own Bulk jobs; New of them are
	// not bound under the mapping (an upsert creates them, or matches a
	// record holding their External ID), the rest are updates.
	Send, New int64
	// Same is the rows bound with the payload their binding holds (their
	// record changed in fields the mapping does not send): recorded, no
	// call. Skipped is the rows out of the mapping's filter and never
	// bound under it: recorded skipped, no call.
	Same, Skipped int64
	// Engine is the changed rows the push leaves to the engine, through
	// the store's outbox: records held, retrying or queued, deletes,
	// records leaving the filter's scope, promotions, repeated keys, and
	// every changed row when the direct path does not apply or a lane's
	// rows are too few for a Bulk job.
	Engine int64
	// Queued is the records already waiting in the store's outbox: the
	// push pushes them too.
	Queued int64
	// BulkJobs and Collections estimate the calls: a Bulk job costs about
	// five (create, upload, close, a poll per wait, results), a
	// Collections call sends up to 200 records. Calls sums them; sign-in
	// and describes come on top.
	BulkJobs, Collections, Calls int
}

// Example is a changed row of a plan.
type Example struct {
	Key string
	// Fates says per mapping what the row comes to: "new", "update",
	// "same", "skipped" or "engine".
	Fates []string
	// Changes lists the fields whose value differs from the stored
	// record's, as "field: old -> new"; nil for a record the store does
	// not hold.
	Changes []string
	New     bool
	// Op is the row's operation when it is not an upsert (a delete or a
	// disable of the key): its fields are not compared.
	Op forcesync.Op
}

// MaxExamples is how many changed rows a plan shows.
const MaxExamples = 10

// collectionsBatch is the most records one sObject Collections call takes.
const collectionsBatch = 200

// bulkCalls is what a Bulk job costs when Salesforce answers on the first
// poll: create, upload, close, poll, successful results.
const bulkCalls = 5

// plan reads the file like run does, through the same reading and judging
// stages, and counts what the push would do with each row instead of doing
// it.
func (p *push) plan(ctx context.Context, rows ingest.Reader, skip int64) error {
	pl := &Plan{}
	var lanes []*lane
	if p.direct != nil {
		lanes = p.direct.lanes
	}
	pl.Lanes = make([]LanePlan, len(p.sum.Mappings))
	for k, m := range p.sum.Mappings {
		pl.Lanes[k].Mapping = m
		n, err := p.st.Backlog(ctx, m)
		if err != nil {
			return err
		}
		pl.Lanes[k].Queued = int64(n)
	}
	p.sum.Plan = pl

	ordered, stopStages := p.startStages(ctx, rows, skip)
	defer stopStages()

	changedKeys := map[string]bool{}
	// The open set's External ID values per lane, as admit checks them:
	// a value twice in one job sends its second row through the outbox.
	exts := make([]map[string]bool, len(lanes))
	for k := range exts {
		exts[k] = map[string]bool{}
	}
	setRows := 0
	for c := range ordered {
		select {
		case <-c.done:
		case <-ctx.Done():
			return ctx.Err()
		}
		if c.err != nil {
			return c.err
		}
		if c.jerr != nil {
			return fmt.Errorf("compare rows up to %d with the store: %w", c.consumed, c.jerr)
		}
		for i := range c.rows {
			r := &c.rows[i]
			if !c.keep[i] && !changedKeys[r.Key] {
				p.settledRows.Add(1)
				continue
			}
			pl.Changed++
			fates := make([]string, len(pl.Lanes))
			if changedKeys[r.Key] {
				pl.Repeated++
				toEngine(pl, fates)
			} else {
				changedKeys[r.Key] = true
				var vs []verdict
				if lanes != nil {
					vs = c.verdicts[i*len(lanes) : (i+1)*len(lanes)]
				}
				if vs == nil || !planAdmit(vs, exts) {
					toEngine(pl, fates)
				} else {
					setRows++
					for k, v := range vs {
						lp := &pl.Lanes[k]
						switch {
						case v.skip:
							lp.Skipped++
							fates[k] = "skipped"
						case v.same:
							lp.Same++
							fates[k] = "same"
						default:
							exts[k][v.fold] = true
							lp.Send++
							fates[k] = "update"
							if !v.row.bound {
								lp.New++
								fates[k] = "new"
							}
						}
					}
				}
			}
			if len(pl.Examples) < MaxExamples {
				pl.Examples = append(pl.Examples, example(r, c.stored, fates))
			}
		}
		// The push closes its job set where the next chunk would not fit.
		if setRows > 0 && setRows+p.o.Chunk > p.jobSize {
			setRows = 0
			for _, m := range exts {
				clear(m)
			}
		}
		if c.last {
			break
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	p.estimate(pl)
	return nil
}

// planAdmit is admit's rule without a set: every lane sends, skips or
// finds the payload the same, and no sending lane's open job holds the
// row's External ID value yet.
func planAdmit(vs []verdict, exts []map[string]bool) bool {
	for k := range vs {
		v := &vs[k]
		if !v.ok && !v.skip && !v.same || v.ok && exts[k][v.fold] {
			return false
		}
	}
	return true
}

// toEngine counts a changed row as left to every mapping's engine.
func toEngine(pl *Plan, fates []string) {
	for k := range pl.Lanes {
		pl.Lanes[k].Engine++
		fates[k] = "engine"
	}
}

// estimate works out each lane's calls: its own Bulk jobs when it has
// enough rows to send for one (else the engine takes them), and the
// engine's share by the engine's own rule, Bulk from its threshold and
// Collections below it.
func (p *push) estimate(pl *Plan) {
	engines := map[string]Engine{}
	for _, e := range p.engines {
		for _, pipe := range e.Pipes() {
			engines[pipe.Mapping.Name] = e
		}
	}
	for k := range pl.Lanes {
		lp := &pl.Lanes[k]
		e := engines[lp.Mapping]
		rest := lp.Engine + lp.Queued
		if p.direct != nil && lp.Send >= int64(p.direct.min) {
			lp.BulkJobs += ceilDiv(lp.Send, int64(p.jobSize))
		} else {
			rest += lp.Send
		}
		if rest > 0 {
			if rest >= int64(e.BulkThreshold()) {
				lp.BulkJobs += ceilDiv(rest, int64(e.BulkBatch()))
			} else {
				lp.Collections += ceilDiv(rest, collectionsBatch)
			}
		}
		lp.Calls = lp.BulkJobs*bulkCalls + lp.Collections
	}
}

func ceilDiv(n, d int64) int {
	if d <= 0 {
		d = 1
	}
	return int((n + d - 1) / d)
}

// maxShown caps a value shown in a plan's example.
const maxShown = 40

// example describes changed row r: what it comes to per mapping, and its
// fields that differ from the stored record.
func example(r *forcesync.Change, stored map[string]forcesync.Settled, fates []string) Example {
	ex := Example{Key: r.Key, Fates: fates}
	if r.Op != "" && r.Op != forcesync.OpUpsert {
		ex.Op = r.Op
		return ex
	}
	s, ok := stored[r.Key]
	if !ok || s.Deleted {
		ex.New = true
		return ex
	}
	var old, now map[string]any
	if err := json.Unmarshal([]byte(s.Fields), &old); err != nil {
		return ex
	}
	if now = r.Fields; now == nil {
		if err := json.Unmarshal(r.FieldsJSON, &now); err != nil {
			return ex
		}
	}
	names := make([]string, 0, len(old)+len(now))
	for n := range now {
		names = append(names, n)
	}
	for n := range old {
		if _, in := now[n]; !in {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	for _, n := range names {
		ov, nv := shown(old[n]), shown(now[n])
		if ov != nv {
			ex.Changes = append(ex.Changes, fmt.Sprintf("%s: %s -> %s", n, ov, nv))
		}
	}
	return ex
}

// shown renders a field value for an example as JSON, cut to maxShown
// characters.
func shown(v any) string {
	if v == nil {
		return "(none)"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	s := []rune(string(b))
	if len(s) > maxShown {
		return string(s[:maxShown-1]) + "…"
	}
	return string(s)
}
