package engine

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/mapping"
)

// Config changes that remove records. The engine remembers in the store
// every mapping it served (forcesync.MappingMemo), so when it starts (a
// restart, or a reload: serve builds new engines) it notices two things
// the records alone would show only one change at a time:
//
//   - A mapping removed from the config. With deprovision_on_removal its
//     bound records are deprovisioned by the remove action it had (kept in
//     the memo): a "removed pipe" serves the mapping with an empty scope.
//     Without it, nothing happens in Salesforce, and a log line says so.
//   - A mapping whose config changed (filter, group, disable_when, the
//     switches): its bound records that the new config deprovisions or
//     disables are counted at once.
//
// Either way the records go through the mass-change guard together, in
// one request; past its limit the mapping pauses at once and they are held
// with MASS_CHANGE_PAUSED until approved (forcesync approve MAPPING), or,
// for a removed mapping, kept (forcesync approve MAPPING --keep). The keys
// the sweep counted are not counted again when their batches run (in this
// process; after a restart the remaining ones are counted again, which can
// only pause sooner).

type removalState struct {
	mu      sync.Mutex
	pipes   []*Pipe                    // removed mappings being deprovisioned
	counted map[string]map[string]bool // mapping -> keys the guard counted already
}

// removedPipes returns the pipes of removed mappings.
func (e *Engine) removedPipes() []*Pipe {
	e.removal.mu.Lock()
	defer e.removal.mu.Unlock()
	return e.removal.pipes
}

// RemovedPipes returns the pipes deprovisioning mappings removed from the
// config.
func (e *Engine) RemovedPipes() []*Pipe { return e.removedPipes() }

func (e *Engine) markCounted(mapping string, keys []string) {
	e.removal.mu.Lock()
	defer e.removal.mu.Unlock()
	if e.removal.counted == nil {
		e.removal.counted = map[string]map[string]bool{}
	}
	m := e.removal.counted[mapping]
	if m == nil {
		m = map[string]bool{}
		e.removal.counted[mapping] = m
	}
	for _, k := range keys {
		m[k] = true
	}
}

// splitCounted returns how many of ws the guard has not counted yet.
func (e *Engine) uncounted(mapping string, ws []*work) int {
	e.removal.mu.Lock()
	defer e.removal.mu.Unlock()
	m := e.removal.counted[mapping]
	n := 0
	for _, w := range ws {
		if !m[w.item.Key] {
			n++
		}
	}
	return n
}

// uncount forgets ws once the guard let them through.
func (e *Engine) uncount(mapping string, ws []*work) {
	e.removal.mu.Lock()
	defer e.removal.mu.Unlock()
	m := e.removal.counted[mapping]
	for _, w := range ws {
		delete(m, w.item.Key)
	}
}

// memoOf is what the store remembers of p.
func (e *Engine) memoOf(p *Pipe) forcesync.MappingMemo {
	c := p.Compiled
	return forcesync.MappingMemo{Name: p.Mapping.Name, Source: p.Mapping.Source, Object: c.Object(), Connection: e.cfg.Connection,
		Version: c.Version(), RemoveAction: c.RemoveAction(), DisableWrites: c.DisableWrites(),
		OnRemoval: p.Mapping.Operations.DeprovisionOnRemoval, Guard: p.Mapping.Guard}
}

// remember sweeps the scopes of changed mappings, stores what the engine
// serves, and retires the mappings of its connection the config lost.
func (e *Engine) remember(ctx context.Context) error {
	memos, err := e.store.MappingMemos(ctx)
	if err != nil {
		return err
	}
	known := map[string]forcesync.MappingMemo{}
	for _, m := range memos {
		known[m.Name] = m
	}
	configured := map[string]bool{}
	for _, n := range e.cfg.Configured {
		configured[n] = true
	}
	for _, p := range e.pipes {
		configured[p.Mapping.Name] = true
		if !p.Mapping.Pushes() {
			continue
		}
		old, seen := known[p.Mapping.Name]
		if seen && old.Removal == forcesync.RemovalNone && old.Version != p.Compiled.Version() {
			keys, err := e.fallingOut(ctx, p)
			if err != nil {
				return fmt.Errorf("mapping %s: sweeping its scope: %w", p.Mapping.Name, err)
			}
			if err := e.sweep(ctx, p, keys, "the mapping's config changed"); err != nil {
				return err
			}
		}
		if err := e.store.RememberMapping(ctx, e.memoOf(p)); err != nil {
			return err
		}
	}
	for _, m := range memos {
		if configured[m.Name] || m.Connection != e.cfg.Connection {
			continue
		}
		if err := e.retire(ctx, m); err != nil {
			return fmt.Errorf("mapping %s (removed from the config): %w", m.Name, err)
		}
	}
	return nil
}

// retire applies a removed mapping's deprovision_on_removal.
func (e *Engine) retire(ctx context.Context, m forcesync.MappingMemo) error {
	switch m.Removal {
	case forcesync.RemovalLeft, forcesync.RemovalKept, forcesync.RemovalDone:
		return nil
	}
	log := e.cfg.Logger.With("mapping", m.Name, "object", m.Object)
	if !m.OnRemoval {
		log.Warn("mapping removed from the config: its Salesforce records are left as they are (operations.deprovision_on_removal is off)")
		m.Removal = forcesync.RemovalLeft
		return e.store.RememberMapping(ctx, m)
	}
	p, err := e.removedPipe(ctx, m)
	if err != nil {
		// Salesforce unreachable, say: the next start tries again.
		log.Error("mapping removed from the config: cannot deprovision its records now; the next start tries again", "err", err)
		return nil
	}
	keys, err := e.fallingOut(ctx, p)
	if err != nil {
		return err
	}
	if len(keys) == 0 {
		log.Info("mapping removed from the config: every bound record is deprovisioned")
		m.Removal = forcesync.RemovalDone
		return e.store.RememberMapping(ctx, m)
	}
	e.removal.mu.Lock()
	e.removal.pipes = append(e.removal.pipes, p)
	e.removal.mu.Unlock()
	if err := e.sweep(ctx, p, keys, "the mapping was removed from the config (deprovision_on_removal)"); err != nil {
		return err
	}
	m.Removal = forcesync.RemovalDeprovisioning
	return e.store.RememberMapping(ctx, m)
}

// removedPipe compiles a removed mapping from its memo: no fields, an
// empty scope, and the remove action and writes it had. Prepare sends
// every record of a removed pipe to deprovision, never to an upsert.
func (e *Engine) removedPipe(ctx context.Context, m forcesync.MappingMemo) (*Pipe, error) {
	fm := forcesync.Mapping{Name: m.Name, Source: m.Source, Object: m.Object, Filter: "false",
		Match: forcesync.MatchRule{Kind: forcesync.MatchBinding}, Guard: m.Guard,
		Operations: forcesync.Operations{NoCreate: true, NoUpdate: true, NoDisable: true,
			Delete: m.RemoveAction, DisableWrites: m.DisableWrites}}
	d, err := e.api.Describe(ctx, m.Object)
	if err != nil {
		return nil, err
	}
	// The compiler refuses a mapping that may do nothing, and one that
	// may create without its create rows: it compiles the one that may
	// update (an empty payload), and the pipe keeps the one that may not.
	cm := fm
	cm.Operations.NoUpdate = false
	c, err := mapping.Compile(cm, d)
	if err != nil {
		return nil, err
	}
	return &Pipe{Mapping: fm, Compiled: c, Describe: d, Removed: true}, nil
}

// fallingOut lists the keys of p's bound records whose next push under
// p's config would deprovision or disable them in Salesforce (a call, not
// a no-op): for a removed mapping every bound record its remove action
// changes.
func (e *Engine) fallingOut(ctx context.Context, p *Pipe) ([]string, error) {
	ins, ok := forcesync.StoreAs[forcesync.Inspector](e.store)
	if !ok {
		return nil, nil
	}
	const page = 1000
	bound := map[string]string{} // key -> binding fingerprint
	var keys []string
	for after := ""; ; {
		bs, err := ins.Bindings(ctx, p.Mapping.Name, after, page)
		if err != nil {
			return nil, err
		}
		for _, b := range bs {
			if b.SalesforceID == "" || b.Fingerprint == forcesync.FingerprintConverted {
				continue
			}
			if p.Removed {
				if removeCalls(p.Compiled, b.Fingerprint) {
					keys = append(keys, b.Key)
				}
				continue
			}
			bound[b.Key] = b.Fingerprint
		}
		if len(bs) < page {
			break
		}
		after = bs[len(bs)-1].Key
	}
	if p.Removed || len(bound) == 0 {
		return keys, nil
	}
	// Paged by key: each page costs its own rows, and a record written
	// meanwhile neither shifts a page nor is read twice.
	var unreadable []string
	for after := ""; ; {
		recs, err := e.store.SourceRecords(ctx, forcesync.SourceQuery{Source: p.Mapping.Source, After: after, Limit: page})
		if err != nil {
			return nil, err
		}
		for _, r := range recs {
			fp, ok := bound[r.Key]
			switch {
			case !ok:
			case r.Unreadable != nil:
				// Whether the new config still takes it cannot be told:
				// it is never removed for that, nor counted.
				unreadable = append(unreadable, r.Key)
			case e.removes(p, r.Fields, fp):
				keys = append(keys, r.Key)
			}
		}
		if len(recs) < page {
			break
		}
		after = recs[len(recs)-1].Key
	}
	if len(unreadable) > 0 {
		e.cfg.Logger.Warn("config change: bound records whose stored fields cannot be read are left as they are in Salesforce (UNREADABLE_RECORD); send them again to have the new config apply to them",
			"event", "sweep.unreadable", "connection", e.cfg.Connection, "mapping", p.Mapping.Name, "records", len(unreadable), "keys", firstKeys(unreadable, 10))
	}
	return keys, nil
}

// firstKeys is keys for a log line: at most n of them, then how many more.
func firstKeys(keys []string, n int) string {
	if len(keys) <= n {
		return strings.Join(keys, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(keys[:n], ", "), len(keys)-n)
}

// removes reports whether pushing a bound record with fields under p
// would deprovision or disable its twin with a call (prepare's decision,
// without the batch).
func (e *Engine) removes(p *Pipe, fields map[string]any, fp string) bool {
	c := p.Compiled
	in, err := c.Filter(fields)
	if err != nil {
		return false
	}
	if !in {
		if !c.Deprovisions() || e.promotedAway(p, fields) || e.demoteHeld(p, fields) {
			return false
		}
		return removeCalls(c, fp)
	}
	if !c.Disables() || fp == forcesync.FingerprintDisabled {
		return false
	}
	if off, err := c.DisabledBy(fields); err != nil || !off {
		return false
	}
	if c.DisableRemoves() || c.DisableWrites() == nil {
		return removeCalls(c, fp)
	}
	return true
}

// removeCalls reports whether c's remove action makes a call for a
// record bound with fingerprint fp.
func removeCalls(c *mapping.Compiled, fp string) bool {
	switch c.RemoveAction() {
	case forcesync.DeleteDelete:
		return true
	case forcesync.DeleteDeactivate:
		return fp != forcesync.FingerprintDisabled
	}
	return false
}

// sweep puts keys, the records a config change removes from p, through
// the mass-change guard in one request and queues them; past the limit
// the mapping pauses now and their batches hold them until approved.
func (e *Engine) sweep(ctx context.Context, p *Pipe, keys []string, why string) error {
	if len(keys) == 0 {
		return nil
	}
	name := p.Mapping.Name
	ok := true
	var st forcesync.GuardState
	if !p.Mapping.Guard.Off {
		pop, err := e.population(ctx, p)
		if err != nil {
			return err
		}
		g := forcesync.MassGuard{Store: e.store, Limits: p.Mapping.Guard}
		if ok, st, err = g.Allow(ctx, name, len(keys), pop, e.cfg.Now()); err != nil {
			return err
		}
		e.markCounted(name, keys)
	}
	n, err := e.store.Requeue(ctx, name, keys)
	if err != nil {
		return fmt.Errorf("mapping %s: queueing the records a config change removes: %w", name, err)
	}
	log := e.cfg.Logger.With("mapping", name, "records", n, "why", why)
	if ok {
		log.Warn("config change: bound records leave the mapping; its remove action or disable applies to them now")
		return nil
	}
	log.Warn("config change: bound records leave the mapping, past the mass-change guard's limit; the mapping's removals are paused until approved (forcesync approve "+name+", or --keep for a removed mapping)",
		"limit", st.Limit)
	return nil
}

// population is the number of p's records the guard's percentage is of.
func (e *Engine) population(ctx context.Context, p *Pipe) (int, error) {
	if p.Mapping.Guard.MaxPercent <= 0 {
		return 0, nil
	}
	counts, err := e.store.Counts(ctx, p.Mapping.Name)
	if err != nil {
		return 0, err
	}
	n := 0
	for st, c := range counts {
		if st != forcesync.StateSkipped && st != forcesync.StateDeleted {
			n += c
		}
	}
	return n, nil
}

// RemovedMapping returns a mapping removed from the config whose records
// are being deprovisioned, as far as approving it needs (name, guard), or
// nil when there is none by that name.
func RemovedMapping(ctx context.Context, store forcesync.Store, name string) (*forcesync.Mapping, error) {
	memos, err := store.MappingMemos(ctx)
	if err != nil {
		return nil, err
	}
	for _, m := range memos {
		if m.Name == name && m.Removal == forcesync.RemovalDeprovisioning {
			return &forcesync.Mapping{Name: m.Name, Source: m.Source, Object: m.Object, Connection: m.Connection, Guard: m.Guard}, nil
		}
	}
	return nil, nil
}

// KeepRemoved keeps the Salesforce records and bindings of a mapping
// removed from the config instead of deprovisioning them: what it had
// queued is dropped and its held records are marked skipped
// (forcesync.CodeMappingRemoved). ENotFound when name is not a removed
// mapping being deprovisioned.
func KeepRemoved(ctx context.Context, store forcesync.Store, name string) error {
	m, err := RemovedMapping(ctx, store, name)
	if err != nil {
		return err
	}
	if m == nil {
		return forcesync.Errorf(forcesync.ENotFound, "no mapping %q removed from the config is waiting to deprovision its records", name)
	}
	return store.KeepMapping(ctx, name)
}
