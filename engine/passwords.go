package engine

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"time"

	"github.com/forcesync/forcesync"
)

// Passwords carries the passwords of Salesforce Users from the doors to the
// engine in memory only: never in the store (so never in its WAL), a log,
// a status or an export. A User mapping's Password row names the source
// field that carries one; Intake takes that field out of every change
// before the store sees it and keeps the value here until the engine has
// set it through the password resource. A password accepted but not yet
// set when the process stops is gone: the application sends it again.
//
// The zero value is not usable; make one with NewPasswords. Safe for
// concurrent use.
type Passwords struct {
	fields map[string][]string // source -> password fields
	mu     sync.Mutex
	byKey  map[[2]string]waiting
	last   int64 // the last mark handed out (marks only grow)
	// marks is where passwords are marked pending (the store under
	// Intake); nil until Intake is called.
	marks forcesync.PasswordMarks
}

// waiting is a password waiting to be set and the mark the store holds
// for it (forcesync.PasswordMarks).
type waiting struct {
	pw   string
	mark int64
}

// NewPasswords prepares the passwords of the User mappings among ms.
func NewPasswords(ms []forcesync.Mapping) *Passwords {
	p := &Passwords{fields: map[string][]string{}, byKey: map[[2]string]waiting{}}
	for _, m := range ms {
		if !forcesync.IsUser(m.Object) {
			continue
		}
		for _, r := range m.Fields {
			if strings.EqualFold(r.Target, "Password") && r.SourceField != "" {
				p.fields[m.Source] = append(p.fields[m.Source], r.SourceField)
			}
		}
	}
	return p
}

// Keep keeps pw as the newest password of a source record ("" is
// ignored) for a door that accepts the record's change itself (SCIM):
// the store marks the record first (Intake must have been called), then
// the password waits in memory.
func (p *Passwords) Keep(ctx context.Context, source, key, pw string) error {
	if p == nil || pw == "" {
		return nil
	}
	mark := p.nextMark()
	p.mu.Lock()
	marks := p.marks
	p.mu.Unlock()
	if marks != nil {
		if err := marks.MarkPasswords(ctx, source, []string{key}, mark); err != nil {
			return err
		}
	}
	p.put(source, key, pw, mark)
	return nil
}

// put keeps pw as the newest password of a source record under mark.
func (p *Passwords) put(source, key, pw string, mark int64) {
	if p == nil || pw == "" {
		return
	}
	p.mu.Lock()
	p.byKey[[2]string{source, key}] = waiting{pw, mark}
	p.mu.Unlock()
}

// nextMark returns a mark later than every mark handed out before, also
// by an earlier process (it starts from the clock).
func (p *Passwords) nextMark() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.last = max(p.last+1, time.Now().UnixNano())
	return p.last
}

// peek returns the record's password waiting to be set, or "", with its
// mark.
func (p *Passwords) peek(source, key string) (string, int64) {
	if p == nil {
		return "", 0
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	w := p.byKey[[2]string{source, key}]
	return w.pw, w.mark
}

// done forgets pw once set, unless a newer password arrived meanwhile.
func (p *Passwords) done(source, key, pw string) {
	p.mu.Lock()
	if p.byKey[[2]string{source, key}].pw == pw {
		delete(p.byKey, [2]string{source, key})
	}
	p.mu.Unlock()
}

// Intake returns st for the doors: its Accept takes the password fields
// out of each change (Fields or FieldsJSON) and keeps them here first.
func (p *Passwords) Intake(st forcesync.Store) forcesync.Store {
	if p == nil || len(p.fields) == 0 {
		return st
	}
	p.mu.Lock()
	p.marks = st
	p.mu.Unlock()
	return &intake{Store: st, p: p}
}

type intake struct {
	forcesync.Store
	p *Passwords
}

// Unwrap returns the store underneath, so forcesync.StoreAs finds its
// optional capabilities (sessions, reconcile runs, pull state).
func (in *intake) Unwrap() forcesync.Store { return in.Store }

// Accept implements forcesync.Store. The store marks the records whose
// change carried a password before the changes are accepted (the mark, not
// the password: after a restart it tells that a password was lost).
func (in *intake) Accept(ctx context.Context, mappings []string, changes []forcesync.Change) ([]forcesync.AcceptResult, error) {
	var out []forcesync.Change
	type found struct {
		source, key, pw string
	}
	var pws []found
	for i := range changes {
		fs := in.p.fields[changes[i].Source]
		if len(fs) == 0 {
			continue
		}
		if out == nil {
			out = append([]forcesync.Change(nil), changes...)
		}
		pw, ok, err := strip(&out[i], fs)
		if err != nil {
			return nil, err
		}
		if ok && pw != "" {
			pws = append(pws, found{out[i].Source, out[i].Key, pw})
		}
	}
	if len(pws) > 0 {
		mark := in.p.nextMark()
		bySource := map[string][]string{}
		for _, f := range pws {
			bySource[f.source] = append(bySource[f.source], f.key)
		}
		for src, keys := range bySource {
			if err := in.Store.MarkPasswords(ctx, src, keys, mark); err != nil {
				return nil, err
			}
		}
		for _, f := range pws {
			in.p.put(f.source, f.key, f.pw, mark)
		}
	}
	if out != nil {
		changes = out
	}
	return in.Store.Accept(ctx, mappings, changes)
}

// strip takes c's password fields out of it and returns the password
// (the last string one found) and whether one was found.
func strip(c *forcesync.Change, fields []string) (string, bool, error) {
	var pw string
	var found bool
	if len(c.FieldsJSON) > 0 {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(c.FieldsJSON, &m); err != nil {
			return "", false, forcesync.Errorf(forcesync.EInvalid, "change %s: fields: not a JSON object", c.Key)
		}
		removed := false
		for _, f := range fields {
			if raw, ok := m[f]; ok {
				var s string
				if json.Unmarshal(raw, &s) == nil && s != "" {
					pw, found = s, true
				}
				delete(m, f)
				removed = true
			}
		}
		if removed {
			b, err := json.Marshal(m)
			if err != nil {
				return "", false, err
			}
			c.FieldsJSON = b
		}
		return pw, found, nil
	}
	copied := false
	for _, f := range fields {
		v, ok := c.Fields[f]
		if !ok {
			continue
		}
		if !copied {
			m := make(map[string]any, len(c.Fields))
			for k, v := range c.Fields {
				m[k] = v
			}
			c.Fields, copied = m, true
		}
		if s, ok := v.(string); ok && s != "" {
			pw, found = s, true
		}
		delete(c.Fields, f)
	}
	return pw, found, nil
}
