package engine

import (
	"context"
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"strings"
	"sync"
	"unicode"

	"github.com/forcesync/forcesync"
)

// Salesforce Users: profiles and roles given by name, generated aliases,
// passwords set through the password resource (never stored).

// PasswordSetter sets a User's password. *SalesforceAPI implements it.
type PasswordSetter interface {
	SetPassword(ctx context.Context, userID, password string) error
}

// SetPassword implements PasswordSetter: POST sobjects/User/{id}/password.
func (a *SalesforceAPI) SetPassword(ctx context.Context, userID, password string) error {
	return a.Client.SetPassword(ctx, userID, password)
}

// nameRefs are the User fields a mapping may give by name, and the object
// whose Name they look up.
var nameRefs = map[string]string{"profileid": "Profile", "userroleid": "UserRole"}

// ResolveNames returns m with the names a User mapping gives for
// ProfileId and UserRoleId replaced by the Ids of the org's records so
// named, as Compile does before compiling: a caller that compiles m
// itself (mapping.Compile, e.g. the console's editor) does this first.
// A name the org lacks is an error naming the mapping, field and name.
func ResolveNames(ctx context.Context, api API, m forcesync.Mapping) (forcesync.Mapping, error) {
	return (&nameIDs{api: api}).resolve(ctx, m)
}

// nameIDs looks Ids up by record name for Compile, caching each answer.
type nameIDs struct {
	api API
	mu  sync.Mutex
	ids map[string]string
}

// resolve replaces the names a User mapping gives for ProfileId and
// UserRoleId (constants, defaults, value-map values that are not Ids) by
// the Ids of the records so named, looked up once per engine.
func (n *nameIDs) resolve(ctx context.Context, m forcesync.Mapping) (forcesync.Mapping, error) {
	if !forcesync.IsUser(m.Object) {
		return m, nil
	}
	fields := append([]forcesync.FieldRow(nil), m.Fields...)
	for i := range fields {
		r := &fields[i]
		obj, ok := nameRefs[strings.ToLower(r.Target)]
		if !ok {
			continue
		}
		res := func(v any) (any, error) {
			s, ok := v.(string)
			if !ok || s == "" || looksLikeID(s) {
				return v, nil
			}
			id, err := n.idByName(ctx, obj, s)
			if err != nil {
				return nil, fmt.Errorf("mapping %s: field %s: %w", m.Name, r.Target, err)
			}
			return id, nil
		}
		var err error
		if r.HasConstant {
			if r.Constant, err = res(r.Constant); err != nil {
				return m, err
			}
		}
		if r.Default != nil {
			if r.Default, err = res(r.Default); err != nil {
				return m, err
			}
		}
		if len(r.ValueMap) > 0 {
			vm := make(map[string]string, len(r.ValueMap))
			for k, v := range r.ValueMap {
				id, err := res(v)
				if err != nil {
					return m, err
				}
				vm[k] = id.(string)
			}
			r.ValueMap = vm
		}
	}
	m.Fields = fields
	return m, nil
}

// idByName returns the Id of obj's record named name (cached).
func (n *nameIDs) idByName(ctx context.Context, obj, name string) (string, error) {
	k := obj + "\x00" + strings.ToLower(name)
	n.mu.Lock()
	id, ok := n.ids[k]
	n.mu.Unlock()
	if ok {
		return id, nil
	}
	lk, ok := n.api.(Lookuper)
	if !ok {
		return "", fmt.Errorf("%s %q: cannot look names up through this API; give the Id", obj, name)
	}
	recs, err := lk.Lookup(ctx, obj, []string{"Name"}, "Name", []string{name})
	if err != nil {
		return "", fmt.Errorf("look up %s %q: %w", obj, name, err)
	}
	for _, r := range recs {
		if n, _ := r["Name"].(string); strings.EqualFold(n, name) {
			id = r.ID()
			break
		}
	}
	if id == "" {
		return "", fmt.Errorf("no %s named %q in the org", obj, name)
	}
	n.mu.Lock()
	if n.ids == nil {
		n.ids = map[string]string{}
	}
	n.ids[k] = id
	n.mu.Unlock()
	return id, nil
}

// looksLikeID reports whether s has the shape of a Salesforce Id.
func looksLikeID(s string) bool {
	if len(s) != 15 && len(s) != 18 {
		return false
	}
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

// fillAliases gives the Users a batch creates an Alias (at most 8
// characters) that no User of the org has: the first initial and last
// name, else a shorter stem with a suffix drawn from the record key.
func (e *Engine) fillAliases(ctx context.Context, p *Pipe, ws []*work) error {
	if !forcesync.IsUser(p.Compiled.Object()) || !p.Compiled.AliasFilled() {
		return nil
	}
	var todo []*work
	for _, w := range ws {
		if !w.done && !w.life && w.payload.Fields != nil && (w.item.Binding == nil || w.item.Binding.SalesforceID == "") {
			todo = append(todo, w)
		}
	}
	taken := map[string]bool{}
	for round := 0; len(todo) > 0; round++ {
		want := map[string]*work{}
		var cands []string
		var next []*work
		for _, w := range todo {
			a := aliasCandidate(w.payload.Fields, w.item.Key, round)
			if taken[a] || want[a] != nil {
				next = append(next, w)
				continue
			}
			want[a] = w
			cands = append(cands, a)
		}
		if round >= 4 {
			for _, w := range todo {
				w.finish(forcesync.StateHeld, &forcesync.RecordError{Code: "ALIAS_TAKEN", Message: "no free Alias found; add an Alias row"})
			}
			return nil
		}
		found, err := e.api.FindBy(ctx, "User", "Alias", cands)
		if err != nil {
			return err
		}
		for a, w := range want {
			if len(found[a]) > 0 {
				taken[a] = true
				next = append(next, w)
				continue
			}
			taken[a] = true
			w.payload.Fields["Alias"] = a
		}
		todo = next
	}
	return nil
}

var aliasHash = base32.StdEncoding.WithPadding(base32.NoPadding)

// aliasCandidate is the round-th Alias to try for a User: round 0 the
// initial and last name, later rounds a stem and three characters of a
// hash of the key and round.
func aliasCandidate(f map[string]any, key string, round int) string {
	first, _ := f["FirstName"].(string)
	last, _ := f["LastName"].(string)
	if last == "" {
		u, _ := f["Username"].(string)
		last, _, _ = strings.Cut(u, "@")
	}
	stem := letters(first, 1) + letters(last, 8)
	if stem == "" {
		stem = "user"
	}
	if round == 0 {
		return stem[:min(8, len(stem))]
	}
	sum := sha256.Sum256([]byte(fmt.Sprintf("%s\x00%d", key, round)))
	return stem[:min(5, len(stem))] + strings.ToLower(aliasHash.EncodeToString(sum[:])[:3])
}

// letters returns up to n lower-case ASCII letters and digits of s.
func letters(s string, n int) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if b.Len() >= n {
			break
		}
		if r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// setPasswords sets the passwords waiting for the Users a batch pushed.
// A policy refusal holds the record with Salesforce's error (which never
// contains the password) and forgets the password: the application must
// send another. A User whose record is marked as having a password
// waiting, but whose password is not in memory (accepted before a
// restart), is held with CodePasswordNotSet: the next password sent sets
// it.
func (e *Engine) setPasswords(ctx context.Context, p *Pipe, ws []*work) error {
	if p.Compiled.PasswordSource() == "" {
		return nil
	}
	ps, _ := e.api.(PasswordSetter)
	var lost []*work
	for _, w := range ws {
		if !w.done || w.out.SalesforceID == "" || (w.out.State != forcesync.StateSynced && w.out.State != forcesync.StateDisabled) {
			continue
		}
		pw, mark := e.cfg.Passwords.peek(p.Mapping.Source, w.item.Key)
		if pw == "" || ps == nil {
			lost = append(lost, w)
			continue
		}
		err := ps.SetPassword(ctx, w.out.SalesforceID, pw)
		if err == nil {
			e.cfg.Passwords.done(p.Mapping.Source, w.item.Key, pw)
			if err := e.store.ClearPasswordMark(ctx, p.Mapping.Source, w.item.Key, mark); err != nil {
				return err
			}
			continue
		}
		re, retry := recordError(err)
		re.Message = "setting the password: " + re.Message
		w.out.Error = re
		if retry {
			w.out.State = forcesync.StateRetrying
			continue
		}
		e.cfg.Passwords.done(p.Mapping.Source, w.item.Key, pw)
		if err := e.store.ClearPasswordMark(ctx, p.Mapping.Source, w.item.Key, mark); err != nil {
			return err
		}
		w.out.State, w.out.Fingerprint = forcesync.StateHeld, ""
	}
	return e.passwordsLost(ctx, p, lost)
}

// passwordsLost holds those of ws whose record is marked as having a
// password waiting: it was accepted, and lost before it was set.
func (e *Engine) passwordsLost(ctx context.Context, p *Pipe, ws []*work) error {
	if len(ws) == 0 {
		return nil
	}
	keys := make([]string, len(ws))
	for i, w := range ws {
		keys[i] = w.item.Key
	}
	marked, err := e.store.PasswordMarked(ctx, p.Mapping.Source, keys)
	if err != nil || len(marked) == 0 {
		return err
	}
	for _, w := range ws {
		if _, ok := marked[w.item.Key]; !ok {
			continue
		}
		// Fingerprint "": the next change is pushed whatever its payload,
		// and the password it brings is set.
		w.out.State, w.out.Fingerprint = forcesync.StateHeld, ""
		w.out.Error = &forcesync.RecordError{Code: forcesync.CodePasswordNotSet, Message: fmt.Sprintf(
			"User %s is in Salesforce, but the password sent for it was lost before it was set (forcesync keeps passwords only in memory, and it restarted); "+
				"send the password again (the application or the SCIM client resends it) and the next push sets it", w.out.SalesforceID)}
	}
	return nil
}

// passwordWaiting reports whether a password waits for the record, so an
// unchanged payload is pushed all the same.
func (e *Engine) passwordWaiting(p *Pipe, key string) bool {
	if p.Compiled.PasswordSource() == "" {
		return false
	}
	pw, _ := e.cfg.Passwords.peek(p.Mapping.Source, key)
	return pw != ""
}
