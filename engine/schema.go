package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/mapping"
	"github.com/forcesync/forcesync/salesforce"
)

// The schema drift guard. An administrator shortens a field, deletes one
// or renames a picklist value; without a guard forcesync learns it record
// by record, as errors. The engine asks again for the describe of the
// mapped objects now and then (If-Modified-Since keeps an unchanged
// schema nearly free) and at once after errors that suggest a change.
// When the mapping still compiles against the new describe it is
// recompiled and the held records the change concerns are requeued; when
// it does not, the mapping is paused with a reason naming the field and
// the change, and its records wait in the queue (nothing is dropped) until
// the config is fixed.

// Redescriber asks for a describe again when it changed.
// *SalesforceAPI implements it.
type Redescriber interface {
	Redescribe(ctx context.Context, obj string) (d *salesforce.SObjectDescribe, changed bool, err error)
}

// Redescribe implements Redescriber.
func (a *SalesforceAPI) Redescribe(ctx context.Context, obj string) (*salesforce.SObjectDescribe, bool, error) {
	return a.Client.Redescribe(ctx, obj)
}

// schemaCodes are Salesforce error codes that may mean the describe the
// mapping was compiled against is out of date.
var schemaCodes = map[string]bool{
	"INVALID_FIELD":                           true,
	"INVALID_FIELD_FOR_INSERT_UPDATE":         true,
	"NO_SUCH_COLUMN":                          true,
	"STRING_TOO_LONG":                         true,
	"INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST": true,
	"INVALID_TYPE_ON_FIELD_IN_RECORD":         true,
}

// schemaRecheck is the least time between two checks of one mapping
// prompted by errors.
const schemaRecheck = 10 * time.Second

// pollRecheck is the least time between two checks of one mapping
// prompted by failed polls (SuspectSchema). Longer than schemaRecheck: a
// poll fails the same way every interval until the check pauses the
// mapping, and a replica whose check failed should not describe the
// object every poll.
const pollRecheck = time.Minute

type schemaState struct {
	mu     sync.Mutex
	paused map[string]string    // mapping -> why
	cause  map[string]string    // mapping -> the changes that paused it, in short
	last   map[string]time.Time // mapping -> last check prompted by errors
	pipes  []*Pipe              // replaces Engine.pipes once a pipe was recompiled
	// good is, for a paused mapping, the describe its compiled form was
	// compiled against (Pipe.Describe is the org's current one).
	good map[string]*salesforce.SObjectDescribe
	// polled is, by mapping, the last check prompted by a failed poll;
	// checking holds the mappings whose poll-prompted check runs now.
	polled   map[string]time.Time
	checking map[string]bool
}

// SchemaPause is a mapping paused by a schema change, for /healthz and
// the metrics.
type SchemaPause struct {
	Mapping string
	// Reason is the whole story; Cause the changes alone, in short.
	Reason, Cause string
}

// SchemaPauses lists the mappings paused by a schema change, by mapping.
func (e *Engine) SchemaPauses() []SchemaPause {
	e.schema.mu.Lock()
	defer e.schema.mu.Unlock()
	out := make([]SchemaPause, 0, len(e.schema.paused))
	for k, v := range e.schema.paused {
		out = append(out, SchemaPause{Mapping: k, Reason: v, Cause: e.schema.cause[k]})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Mapping < out[j].Mapping })
	return out
}

// pauseLocked pauses a mapping (schema.mu held); good is the describe its
// compiled form was compiled against.
func (e *Engine) pauseLocked(name, why, cause string, good *salesforce.SObjectDescribe) {
	if e.schema.paused == nil {
		e.schema.paused, e.schema.cause, e.schema.good = map[string]string{}, map[string]string{}, map[string]*salesforce.SObjectDescribe{}
	}
	e.schema.paused[name], e.schema.cause[name] = why, cause
	if e.schema.good[name] == nil {
		e.schema.good[name] = good
	}
}

// persistPause stores a pause, so a restart starts the mapping paused.
func (e *Engine) persistPause(ctx context.Context, name, why string, good *salesforce.SObjectDescribe) {
	sp, ok := forcesync.StoreAs[forcesync.SchemaPauses](e.store)
	if !ok {
		return
	}
	b, err := json.Marshal(good)
	if err == nil {
		err = sp.SetSchemaPause(context.WithoutCancel(ctx), forcesync.SchemaPause{Mapping: name, Reason: why, Since: e.cfg.Now(), Describe: b})
	}
	if err != nil {
		e.cfg.Logger.Error("storing the schema pause; a restart would not start the mapping paused", "mapping", name, "err", err)
	}
}

// clearPause forgets a stored pause.
func (e *Engine) clearPause(ctx context.Context, name string) {
	if sp, ok := forcesync.StoreAs[forcesync.SchemaPauses](e.store); ok {
		if err := sp.ClearSchemaPause(context.WithoutCancel(ctx), name); err != nil {
			e.cfg.Logger.Error("clearing the stored schema pause", "mapping", name, "err", err)
		}
	}
}

// storedPauses reads the stored schema pauses, by mapping.
func storedPauses(ctx context.Context, store forcesync.Store) (map[string]forcesync.SchemaPause, error) {
	out := map[string]forcesync.SchemaPause{}
	sp, ok := forcesync.StoreAs[forcesync.SchemaPauses](store)
	if !ok {
		return out, nil
	}
	ps, err := sp.SchemaPauses(ctx)
	if err != nil {
		return nil, err
	}
	for _, p := range ps {
		out[p.Mapping] = p
	}
	return out, nil
}

// startPaused compiles m, which no longer compiles against d, against the
// describe stored with its pause, so that the engine starts with the
// mapping paused. It fails (with compileErr) when there is no pause, or
// the mapping does not compile against that describe either (the config
// changed meanwhile: that is the config's error).
func (e *Engine) startPaused(m forcesync.Mapping, d *salesforce.SObjectDescribe, stored forcesync.SchemaPause, ok bool, compileErr error) (*Pipe, error) {
	if !ok || len(stored.Describe) == 0 {
		return nil, compileErr
	}
	var good salesforce.SObjectDescribe
	if err := json.Unmarshal(stored.Describe, &good); err != nil {
		return nil, fmt.Errorf("%w (the describe stored with its schema pause is unreadable: %v)", compileErr, err)
	}
	c, err := mapping.Compile(m, &good)
	if err != nil {
		return nil, fmt.Errorf("%w (and it does not compile against the describe of before its schema pause either: %v)", compileErr, err)
	}
	changes, _ := describeChanges(&good, d, m)
	why := fmt.Sprintf("the schema of %s changed (%s) and mapping %s no longer fits it: %v; its records wait until the config or the schema is fixed",
		c.Object(), strings.Join(changes, "; "), m.Name, compileErr)
	e.schema.mu.Lock()
	e.pauseLocked(m.Name, why, strings.Join(changes, "; "), &good)
	e.schema.mu.Unlock()
	e.cfg.Logger.Error("mapping paused since "+stored.Since.UTC().Format(time.RFC3339), "mapping", m.Name, "reason", why)
	return &Pipe{Mapping: m, Compiled: c, Describe: d}, nil
}

// livePipes returns the pipes in force.
func (e *Engine) livePipes() []*Pipe {
	e.schema.mu.Lock()
	defer e.schema.mu.Unlock()
	if e.schema.pipes != nil {
		return e.schema.pipes
	}
	return e.pipes
}

func (e *Engine) schemaPaused(name string) string {
	e.schema.mu.Lock()
	defer e.schema.mu.Unlock()
	return e.schema.paused[name]
}

// SchemaPaused returns the mappings paused by a schema change, with why.
func (e *Engine) SchemaPaused() map[string]string {
	e.schema.mu.Lock()
	defer e.schema.mu.Unlock()
	out := make(map[string]string, len(e.schema.paused))
	for k, v := range e.schema.paused {
		out[k] = v
	}
	return out
}

// watchSchema checks the schema every SchemaEvery until ctx ends.
func (e *Engine) watchSchema(ctx context.Context) {
	t := time.NewTicker(e.cfg.SchemaEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := e.CheckSchema(ctx); err != nil && ctx.Err() == nil {
				e.cfg.Logger.Warn("schema check failed", "err", err)
			}
		}
	}
}

// schemaSuspect checks p's schema when a batch met errors that suggest it
// changed, at most every schemaRecheck.
func (e *Engine) schemaSuspect(ctx context.Context, p *Pipe, outs []forcesync.Outcome, callErr error) {
	suspect := false
	if callErr != nil {
		if re, _ := recordError(callErr); schemaCodes[re.Code] {
			suspect = true
		}
	}
	for i := range outs {
		if outs[i].Error != nil && schemaCodes[outs[i].Error.Code] {
			suspect = true
			break
		}
	}
	if !suspect {
		return
	}
	now := e.cfg.Now()
	e.schema.mu.Lock()
	if e.schema.last == nil {
		e.schema.last = map[string]time.Time{}
	}
	if last, ok := e.schema.last[p.Mapping.Name]; ok && now.Sub(last) < schemaRecheck {
		e.schema.mu.Unlock()
		return
	}
	e.schema.last[p.Mapping.Name] = now
	e.schema.mu.Unlock()
	if err := e.CheckSchema(ctx, p.Mapping.Name); err != nil {
		e.cfg.Logger.Warn("schema check failed", "mapping", p.Mapping.Name, "err", err)
	}
}

// SuspectSchema is told that a read of mapping name's object (a poll of
// its pull) failed with err. When Salesforce refused it with a code that
// suggests the schema changed (INVALID_FIELD: a pulled field was deleted,
// say), it checks the mapping's schema at once, as a push refused that
// way does, and so pauses the mapping (and stores the pause) when it no
// longer fits; a pull-only mapping, which pushes nothing to be refused,
// is paused at its first failed poll instead of at the next periodic
// check. Other errors (an outage, a lost login, a limit) check nothing.
// At most one such check of a mapping runs at a time, and one starts at
// most every minute per mapping; it runs in the caller. It reports
// whether it checked. Safe for concurrent use.
func (e *Engine) SuspectSchema(ctx context.Context, name string, err error) bool {
	if err == nil || ctx.Err() != nil {
		return false
	}
	if re, _ := recordErrorOf(err); !schemaCodes[re.Code] {
		return false
	}
	now := e.cfg.Now()
	e.schema.mu.Lock()
	if e.schema.polled == nil {
		e.schema.polled, e.schema.checking = map[string]time.Time{}, map[string]bool{}
	}
	last, ok := e.schema.polled[name]
	if e.schema.checking[name] || ok && now.Sub(last) < pollRecheck {
		e.schema.mu.Unlock()
		return false
	}
	e.schema.polled[name], e.schema.checking[name] = now, true
	e.schema.mu.Unlock()
	defer func() {
		e.schema.mu.Lock()
		delete(e.schema.checking, name)
		e.schema.mu.Unlock()
	}()
	e.cfg.Logger.Warn("a poll was refused for the schema: checking the mapping's schema", "mapping", name, "err", err)
	if err := e.CheckSchema(ctx, name); err != nil && ctx.Err() == nil {
		e.cfg.Logger.Warn("schema check failed", "mapping", name, "err", err)
	}
	return true
}

// CheckSchema asks Salesforce whether the objects of the named mappings
// (all when none) changed, and recompiles or pauses those whose object
// did. Each object is described once.
func (e *Engine) CheckSchema(ctx context.Context, names ...string) error {
	rd, ok := e.api.(Redescriber)
	if !ok {
		return nil
	}
	described := map[string]*salesforce.SObjectDescribe{}
	var errs []error
	for _, p := range e.livePipes() {
		if len(names) > 0 && !slices.Contains(names, p.Mapping.Name) {
			continue
		}
		obj := strings.ToLower(p.Compiled.Object())
		d, ok := described[obj]
		if !ok {
			nd, _, err := rd.Redescribe(ctx, p.Compiled.Object())
			if err != nil {
				errs = append(errs, fmt.Errorf("mapping %s: %w", p.Mapping.Name, err))
				continue
			}
			d, described[obj] = nd, nd
		}
		if d == p.Describe {
			continue
		}
		if err := e.applyDescribe(ctx, p, d); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// applyDescribe recompiles p against a new describe of its object: the
// new pipe replaces p, or the mapping is paused when it no longer compiles.
func (e *Engine) applyDescribe(ctx context.Context, p *Pipe, d *salesforce.SObjectDescribe) error {
	name := p.Mapping.Name
	changes, fields := describeChanges(p.Describe, d, p.Mapping)
	c, err := mapping.Compile(p.Mapping, d)
	np := &Pipe{Mapping: p.Mapping, Compiled: c, Describe: d}
	if err != nil {
		// Keep the old compiled mapping (it is not used while paused).
		np.Compiled = p.Compiled
	}
	e.schema.mu.Lock()
	cur := e.schema.pipes
	if cur == nil {
		cur = e.pipes
	}
	next := make([]*Pipe, len(cur))
	for i, x := range cur {
		next[i] = x
		if x.Mapping.Name == name {
			next[i] = np
		}
	}
	e.schema.pipes = next
	if err != nil {
		if _, already := e.schema.paused[name]; already && len(fields) == 0 {
			// Paused for an earlier change; nothing it uses changed since.
			e.schema.mu.Unlock()
			return nil
		}
		why := fmt.Sprintf("the schema of %s changed (%s) and mapping %s no longer fits it: %v; its records wait until the config or the schema is fixed",
			p.Compiled.Object(), strings.Join(changes, "; "), name, err)
		e.pauseLocked(name, why, strings.Join(changes, "; "), p.Describe)
		good := e.schema.good[name]
		e.schema.mu.Unlock()
		e.persistPause(ctx, name, why, good)
		e.cfg.Logger.Error("mapping paused", "event", "schema.pause", "mapping", name, "reason", why)
		return nil
	}
	_, wasPaused := e.schema.paused[name]
	delete(e.schema.paused, name)
	delete(e.schema.cause, name)
	delete(e.schema.good, name)
	e.schema.mu.Unlock()
	if wasPaused {
		e.clearPause(ctx, name)
		e.cfg.Logger.Info("mapping resumed: it fits the schema again", "event", "schema.resume", "mapping", name)
		if err := e.requeueRefused(ctx, name); err != nil {
			return err
		}
		if err := e.refill(ctx, np, recreated(p.Describe, d, p.Mapping)); err != nil {
			return err
		}
	}
	if c.Version() == p.Compiled.Version() {
		return nil
	}
	if len(fields) == 0 {
		// Another field of the object changed in a way the compiled form
		// records: store the new version, requeue nothing.
		_, err := e.store.MappingVersion(ctx, name, c.Version())
		return err
	}
	if _, err := e.store.MappingVersion(ctx, name, c.Version()); err != nil {
		return fmt.Errorf("mapping %s: %w", name, err)
	}
	keys, err := e.heldOn(ctx, name, fields)
	if err != nil {
		return err
	}
	n := 0
	if len(keys) > 0 {
		if n, err = e.store.Requeue(ctx, name, keys); err != nil {
			return fmt.Errorf("mapping %s: requeue: %w", name, err)
		}
		e.Notify()
	}
	e.cfg.Logger.Info("mapping recompiled after a schema change", "mapping", name, "changes", strings.Join(changes, "; "), "requeued", n)
	return nil
}

// heldOn lists the held records of a mapping whose error concerns one of
// fields, or is a schema error naming no field.
func (e *Engine) heldOn(ctx context.Context, name string, fields []string) ([]string, error) {
	sts, err := e.store.List(ctx, forcesync.StatusFilter{Mapping: name, States: []forcesync.State{forcesync.StateHeld}, Limit: 100_000})
	if err != nil {
		return nil, fmt.Errorf("mapping %s: held records: %w", name, err)
	}
	var keys []string
	for _, st := range sts {
		if st.Error == nil {
			continue
		}
		hit := len(st.Error.Fields) == 0 && schemaCodes[st.Error.Code]
		for _, f := range st.Error.Fields {
			if slices.ContainsFunc(fields, func(x string) bool { return strings.EqualFold(x, f) }) {
				hit = true
			}
		}
		if !hit && schemaCodes[st.Error.Code] {
			// Salesforce's message may name the field without Fields.
			for _, f := range fields {
				if strings.Contains(st.Error.Message, f) {
					hit = true
				}
			}
		}
		if hit {
			keys = append(keys, st.Key)
		}
	}
	return keys, nil
}

// describeChanges lists how the fields m uses changed between two
// describes, in words, and names the fields that changed.
func describeChanges(old, cur *salesforce.SObjectDescribe, m forcesync.Mapping) ([]string, []string) {
	names := map[string]bool{}
	for _, r := range m.Fields {
		names[r.Target] = true
	}
	if m.Match.Field != "" {
		names[m.Match.Field] = true
	}
	for _, f := range m.Match.Fields {
		names[f] = true
	}
	sorted := make([]string, 0, len(names))
	for n := range names {
		sorted = append(sorted, n)
	}
	sort.Strings(sorted)
	var changes, fields []string
	for _, n := range sorted {
		var of, nf *salesforce.Field
		if old != nil {
			of = old.Field(n)
		}
		nf = cur.Field(n)
		var cs []string
		switch {
		case of == nil && nf == nil:
			continue
		case of == nil:
			cs = append(cs, fmt.Sprintf("field %s added", nf.Name))
		case nf == nil:
			cs = append(cs, fieldDeleted(of.Name))
		default:
			if of.Type != nf.Type {
				cs = append(cs, fmt.Sprintf("field %s type %s -> %s", nf.Name, of.Type, nf.Type))
			}
			if of.Length != nf.Length {
				cs = append(cs, fmt.Sprintf("field %s length %d -> %d", nf.Name, of.Length, nf.Length))
			}
			if of.Createable != nf.Createable || of.Updateable != nf.Updateable {
				cs = append(cs, fmt.Sprintf("field %s writable (create %v, update %v) -> (create %v, update %v)",
					nf.Name, of.Createable, of.Updateable, nf.Createable, nf.Updateable))
			}
			if of.RestrictedPicklist != nf.RestrictedPicklist {
				cs = append(cs, fmt.Sprintf("field %s restricted picklist %v -> %v", nf.Name, of.RestrictedPicklist, nf.RestrictedPicklist))
			}
			gone, added := picklistDiff(of.PicklistValues, nf.PicklistValues)
			if len(gone) > 0 || len(added) > 0 {
				cs = append(cs, fmt.Sprintf("picklist %s values removed %q, added %q", nf.Name, gone, added))
			}
		}
		if len(cs) > 0 {
			changes = append(changes, cs...)
			fields = append(fields, n)
		}
	}
	if len(changes) == 0 {
		changes = []string{"no field the mapping uses changed"}
	}
	return changes, fields
}

func picklistDiff(old, cur []salesforce.PicklistValue) (gone, added []string) {
	has := func(vs []salesforce.PicklistValue, v string) bool {
		return slices.ContainsFunc(vs, func(p salesforce.PicklistValue) bool { return p.Value == v && p.Active })
	}
	for _, p := range old {
		if p.Active && !has(cur, p.Value) {
			gone = append(gone, p.Value)
		}
	}
	for _, p := range cur {
		if p.Active && !has(old, p.Value) {
			added = append(added, p.Value)
		}
	}
	return gone, added
}

// compileResuming compiles the engine's mappings at start. A mapping a
// stored schema pause names starts paused when it still does not fit the
// org's describe, and its pause is forgotten when it fits again (the
// schema or the config was fixed while forcesync was stopped).
func (e *Engine) compileResuming(ctx context.Context, mappings []forcesync.Mapping) ([]*Pipe, error) {
	stored, err := storedPauses(ctx, e.store)
	if err != nil {
		return nil, err
	}
	pipes, err := compileEach(ctx, e.api, mappings, func(m forcesync.Mapping, d *salesforce.SObjectDescribe, err error) (*Pipe, error) {
		p, ok := stored[m.Name]
		return e.startPaused(m, d, p, ok, err)
	})
	if err != nil {
		return nil, err
	}
	for _, p := range pipes {
		if sp, was := stored[p.Mapping.Name]; was && e.schemaPaused(p.Mapping.Name) == "" {
			e.clearPause(ctx, p.Mapping.Name)
			e.cfg.Logger.Info("mapping resumed: it fits the schema again", "event", "schema.resume", "mapping", p.Mapping.Name)
			if err := e.requeueRefused(ctx, p.Mapping.Name); err != nil {
				return nil, err
			}
			if err := e.refill(ctx, p, deletedIn(sp.Reason, p)); err != nil {
				return nil, err
			}
		}
	}
	return pipes, nil
}

// recreated names the fields p pushes that paused lacks and cur has: a
// field deleted in Salesforce (which paused the mapping) and created
// again, empty.
func recreated(paused, cur *salesforce.SObjectDescribe, m forcesync.Mapping) []string {
	var out []string
	for _, r := range m.Fields {
		if m.RowDirection(&r) == forcesync.Pull || paused == nil {
			continue
		}
		if paused.Field(r.Target) == nil && cur.Field(r.Target) != nil {
			out = append(out, r.Target)
		}
	}
	return out
}

// fieldDeleted is how describeChanges words a deleted field, which
// deletedIn finds again in a stored pause's reason.
func fieldDeleted(name string) string { return "field " + name + " deleted" }

// deletedIn names the fields p pushes that a stored pause's reason says
// were deleted (fieldDeleted) and that p's describe
// has again: what recreated finds when the resume comes with a restart,
// which has only the pause's words for the describe of the pause.
func deletedIn(reason string, p *Pipe) []string {
	var out []string
	for _, r := range p.Mapping.Fields {
		if p.Mapping.RowDirection(&r) == forcesync.Pull || p.Describe == nil {
			continue
		}
		if f := p.Describe.Field(r.Target); f != nil && strings.Contains(reason, fieldDeleted(f.Name)) {
			out = append(out, r.Target)
		}
	}
	return out
}

// refill queues again, forced, every record p has bound, when fields (the
// fields p pushes that were deleted in Salesforce and created again while
// it was paused) is not empty: Salesforce emptied those fields on every
// record, and nothing else would send their values again while the
// records and the mapping stay as they were. A Bulk job's worth of
// records costs a few calls.
func (e *Engine) refill(ctx context.Context, p *Pipe, fields []string) error {
	if len(fields) == 0 || !p.Mapping.Pushes() {
		return nil
	}
	in, ok := forcesync.StoreAs[forcesync.Inspector](e.store)
	if !ok {
		return nil
	}
	name, n := p.Mapping.Name, 0
	for after := ""; ; {
		page, err := in.Bindings(ctx, name, after, 5000)
		if err != nil {
			return fmt.Errorf("mapping %s: bindings: %w", name, err)
		}
		keys := make([]string, 0, len(page))
		for _, b := range page {
			if b.SalesforceID != "" && b.Fingerprint != forcesync.FingerprintConverted {
				keys = append(keys, b.Key)
			}
		}
		if len(keys) > 0 {
			k, err := e.store.Requeue(ctx, name, keys)
			if err != nil {
				return fmt.Errorf("mapping %s: requeue: %w", name, err)
			}
			n += k
		}
		if len(page) < 5000 {
			break
		}
		after = page[len(page)-1].Key
	}
	e.Notify()
	e.cfg.Logger.Info("fields created again in Salesforce, empty: the mapping's records are pushed again to fill them",
		"event", "schema.refill", "mapping", name, "fields", strings.Join(fields, ", "), "requeued", n)
	return nil
}

// requeueRefused queues again, as a paused mapping resumes, its held
// records that Salesforce refused with a schema error: the change that
// paused the mapping refused them (the push that revealed it, and any in
// flight with it), and nothing else would send them again while their
// data and the mapping's version stay as they were (a deleted field
// created again compiles to the same version). One still refused is held
// again, at the cost of its call.
func (e *Engine) requeueRefused(ctx context.Context, name string) error {
	sts, err := e.store.List(ctx, forcesync.StatusFilter{Mapping: name, States: []forcesync.State{forcesync.StateHeld}, Limit: 100_000})
	if err != nil {
		return fmt.Errorf("mapping %s: held records: %w", name, err)
	}
	var keys []string
	for _, st := range sts {
		if st.Error != nil && schemaCodes[st.Error.Code] {
			keys = append(keys, st.Key)
		}
	}
	if len(keys) == 0 {
		return nil
	}
	n, err := e.store.Requeue(ctx, name, keys)
	if err != nil {
		return fmt.Errorf("mapping %s: requeue: %w", name, err)
	}
	e.Notify()
	e.cfg.Logger.Info("records refused by the schema change queued again", "mapping", name, "requeued", n)
	return nil
}
