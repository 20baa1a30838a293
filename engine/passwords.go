package engine

import (
	"context"
	"encoding/json"
	"strings"
	"sync"

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
	byKey  map[[2]string]string
}

// NewPasswords prepares the passwords of the User mappings among ms.
func NewPasswords(ms []forcesync.Mapping) *Passwords {
	p := &Passwords{fields: map[string][]string{}, byKey: map[[2]string]string{}}
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

// Put keeps pw as the newest password of a source record ("" is ignored).
func (p *Passwords) Put(source, key, pw string) {
	if p == nil || pw == "" {
		return
	}
	p.mu.Lock()
	p.byKey[[2]string{source, key}] = pw
	p.mu.Unlock()
}

// peek returns the record's password waiting to be set, or "".
func (p *Passwords) peek(source, key string) string {
	if p == nil {
		return ""
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.byKey[[2]string{source, key}]
}

// done forgets pw once set, unless a newer password arrived meanwhile.
func (p *Passwords) done(source, key, pw string) {
	p.mu.Lock()
	if p.byKey[[2]string{source, key}] == pw {
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
	return &intake{Store: st, p: p}
}

type intake struct {
	forcesync.Store
	p *Passwords
}

// Unwrap returns the store underneath, so forcesync.StoreAs finds its
// optional capabilities (sessions, reconcile runs, pull state).
func (in *intake) Unwrap() forcesync.Store { return in.Store }

// Accept implements forcesync.Store.
func (in *intake) Accept(ctx context.Context, mappings []string, changes []forcesync.Change) ([]forcesync.AcceptResult, error) {
	var out []forcesync.Change
	for i := range changes {
		fs := in.p.fields[changes[i].Source]
		if len(fs) == 0 {
			continue
		}
		if out == nil {
			out = append([]forcesync.Change(nil), changes...)
		}
		if err := in.p.strip(&out[i], fs); err != nil {
			return nil, err
		}
	}
	if out != nil {
		changes = out
	}
	return in.Store.Accept(ctx, mappings, changes)
}

// strip moves c's password fields into p.
func (p *Passwords) strip(c *forcesync.Change, fields []string) error {
	if len(c.FieldsJSON) > 0 {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(c.FieldsJSON, &m); err != nil {
			return forcesync.Errorf(forcesync.EInvalid, "change %s: fields: not a JSON object", c.Key)
		}
		found := false
		for _, f := range fields {
			if raw, ok := m[f]; ok {
				found = true
				var pw string
				if json.Unmarshal(raw, &pw) == nil {
					p.Put(c.Source, c.Key, pw)
				}
				delete(m, f)
			}
		}
		if found {
			b, err := json.Marshal(m)
			if err != nil {
				return err
			}
			c.FieldsJSON = b
		}
		return nil
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
		if pw, ok := v.(string); ok {
			p.Put(c.Source, c.Key, pw)
		}
		delete(c.Fields, f)
	}
	return nil
}
