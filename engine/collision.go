package engine

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/forcesync/forcesync"
)

// codeKeyCollision holds a record whose External ID value Salesforce would
// match to another key's record: two keys that differ only in case, when the
// External ID field is not case-sensitive (Salesforce's default for unique
// External ID text fields). Sending both would make the second overwrite the
// first and report both synced.
const codeKeyCollision = "KEY_COLLISION"

// holdCollisions holds, with KEY_COLLISION naming the other key, each
// upsert of todo whose External ID value the target field cannot tell from
// another's: another record of the same batch (the bound one, else the
// first, goes ahead), or a key already bound under the mapping (when the
// value is the key and the store can find bindings by folded key). It
// returns the records still to send.
func (e *Engine) holdCollisions(ctx context.Context, p *Pipe, todo []*work) ([]*work, error) {
	c := p.Compiled
	sensitive := c.ExternalIDCaseSensitive()
	same := func(v string) string {
		if sensitive {
			return v
		}
		return strings.ToLower(v)
	}
	field := c.ExternalIDField()
	winner := map[string]*work{}
	// Bound records first (they already own their Salesforce record), then
	// the one accepted first, then key order.
	order := append([]*work(nil), todo...)
	sort.SliceStable(order, func(i, j int) bool {
		a, b := order[i], order[j]
		if isBound(a) != isBound(b) {
			return isBound(a)
		}
		if !a.item.Enqueued.Equal(b.item.Enqueued) {
			return a.item.Enqueued.Before(b.item.Enqueued)
		}
		return a.item.Key < b.item.Key
	})
	for _, w := range order {
		v := same(w.payload.ExternalID)
		if other, ok := winner[v]; ok {
			w.finish(forcesync.StateHeld, collision(field, w, other.item.Key, sensitive, "in the same batch"))
			continue
		}
		winner[v] = w
	}
	if sensitive {
		return pending(todo), nil
	}
	// Another batch of this process may be pushing an equal value right
	// now: wait for it to be committed, then look at the bindings.
	now := e.cfg.Now()
	for _, w := range todo {
		if w.done || isBound(w) {
			continue
		}
		v := p.Mapping.Name + "\x00" + same(w.payload.ExternalID)
		if other, ok := e.keysInFlight.take(v, w.item.Key); !ok {
			w.finish(forcesync.StateRetrying, &forcesync.RecordError{Code: codeKeyPending, Fields: []string{field},
				Message: "waiting for record " + other + ", whose External ID equals this one's ignoring case, to be pushed"})
			w.out.NextAttempt = now.Add(matchWait)
			e.deferUntil(w.out.NextAttempt)
			continue
		}
		w.inFlight = v
	}
	fb, ok := forcesync.StoreAs[forcesync.BindingsByFoldedKey](e.store)
	if !ok || !c.ExternalIDIsKey() {
		return pending(todo), nil
	}
	var keys []string
	for _, w := range todo {
		if !w.done && !isBound(w) {
			keys = append(keys, w.item.Key)
		}
	}
	if len(keys) == 0 {
		return pending(todo), nil
	}
	others, err := fb.FoldedBindings(ctx, p.Mapping.Name, keys)
	if err != nil {
		return nil, err
	}
	for _, w := range todo {
		if o := others[w.item.Key]; !w.done && !isBound(w) && len(o) > 0 {
			w.finish(forcesync.StateHeld, collision(field, w, o[0], false, "already synced"))
		}
	}
	return pending(todo), nil
}

// codeKeyPending defers a record while another batch of this process
// pushes a record whose External ID value equals its own ignoring case.
const codeKeyPending = "KEY_PENDING"

// valuesInFlight is the External ID values (per mapping, as the field
// compares them) of unbound records this process is upserting, from before
// the call until the batch is committed. Two workers pushing "abc" and
// "ABC" at once would both find no binding and write one record.
type valuesInFlight struct {
	mu sync.Mutex
	m  map[string]string // value -> key holding it
}

// take claims v for key; when another key holds it, ok is false and
// other names that key.
func (f *valuesInFlight) take(v, key string) (other string, ok bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.m == nil {
		f.m = map[string]string{}
	}
	if k, held := f.m[v]; held && k != key {
		return k, false
	}
	f.m[v] = key
	return "", true
}

// releaseInFlight gives up the values the batch's items took. pushBatch
// calls it after the batch is committed, so the next taker sees the
// binding.
func (e *Engine) releaseInFlight(ws []*work) {
	e.keysInFlight.mu.Lock()
	defer e.keysInFlight.mu.Unlock()
	for _, w := range ws {
		if w.inFlight != "" {
			delete(e.keysInFlight.m, w.inFlight)
		}
	}
}

func collision(field string, w *work, other string, sensitive bool, where string) *forcesync.RecordError {
	msg := fmt.Sprintf("External ID %s value %q equals the value of key %s (%s): Salesforce would write both to one record. "+
		"Give the records distinct External ID values", field, w.payload.ExternalID, other, where)
	if !sensitive {
		msg = fmt.Sprintf("External ID %s value %q equals, ignoring case, the value of key %s (%s): %s is not case-sensitive, "+
			"so Salesforce would write both to one record. Give the records keys that differ by more than case, "+
			"or make %s unique and case-sensitive in Salesforce", field, w.payload.ExternalID, other, where, field, field)
	}
	return &forcesync.RecordError{Code: codeKeyCollision, Fields: []string{field}, Message: msg}
}

func isBound(w *work) bool { return w.item.Binding != nil && w.item.Binding.SalesforceID != "" }

func pending(ws []*work) []*work {
	out := ws[:0:0]
	for _, w := range ws {
		if !w.done {
			out = append(out, w)
		}
	}
	return out
}
