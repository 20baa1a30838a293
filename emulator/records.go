package emulator

import (
	"strconv"
	"strings"
	"time"
)

// record is one row of an sobject.
//
// Values are stored sparsely: slots holds only the fields that have a
// value, keyed by field position, so a million records of a 60-field object
// cost what their set fields cost. Id and IsDeleted are not in slots (ID and
// deleted hold them). See the value representation next to field.
type record struct {
	obj       *sobject
	ID        string // 18-character Id
	slots     []slot
	deleted   bool      // in the recycle bin
	deletedAt time.Time // when it went there
	row       int       // index in obj.rows
}

// slot is one stored value.
type slot struct {
	pos uint16
	v   any
}

// get returns the stored value of f (nil when null). f nil returns nil.
func (r *record) get(f *field) any {
	if f == nil {
		return nil
	}
	if f.pos == 0 {
		return r.ID
	}
	if f.system && f.Name == "IsDeleted" {
		return r.deleted
	}
	return slotValue(r.slots, f)
}

// slotValue returns the value of f held in slots, or nil.
func slotValue(slots []slot, f *field) any {
	p := uint16(f.pos)
	for i := range slots {
		if slots[i].pos == p {
			return slots[i].v
		}
	}
	return nil
}

// getName returns the value of the field named name (case-insensitive).
func (r *record) getName(name string) any { return r.get(r.obj.field(name)) }

// set stores v for f; nil removes the value. It does not touch indexes.
func (r *record) set(f *field, v any) {
	if f == nil || f.pos == 0 || (f.system && f.Name == "IsDeleted") {
		return
	}
	p := uint16(f.pos)
	for i := range r.slots {
		if r.slots[i].pos == p {
			if v == nil {
				r.slots = append(r.slots[:i], r.slots[i+1:]...)
			} else {
				r.slots[i].v = v
			}
			return
		}
	}
	if v != nil {
		r.slots = append(r.slots, slot{p, v})
	}
}

// snapshot copies the record's mutable state for undo.
func (r *record) snapshot() (slots []slot, deleted bool, at time.Time) {
	return append([]slot(nil), r.slots...), r.deleted, r.deletedAt
}

// --- indexes -------------------------------------------------------------------

// indexKey normalises a value for a unique / External ID index: text is
// compared case-insensitively unless the field is case-sensitive.
func indexKey(f *field, v any) string {
	switch x := v.(type) {
	case string:
		if f.CaseSensitive {
			return x
		}
		return strings.ToLower(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	}
	return ""
}

// indexRecord adds the live record r to every index of its object.
func indexRecord(r *record) {
	for _, ix := range r.obj.indexList {
		if v := r.get(ix.f); v != nil {
			k := indexKey(ix.f, v)
			ix.m[k] = append(ix.m[k], r)
		}
	}
}

// unindexRecord removes r from every index of its object.
func unindexRecord(r *record) {
	for _, ix := range r.obj.indexList {
		idx := ix.m
		v := r.get(ix.f)
		if v == nil {
			continue
		}
		k := indexKey(ix.f, v)
		list := idx[k]
		for i, x := range list {
			if x == r {
				list = append(list[:i:i], list[i+1:]...)
				break
			}
		}
		if len(list) == 0 {
			delete(idx, k)
		} else {
			idx[k] = list
		}
	}
}

// reindexRecord moves the live record r in its object's indexes from the
// values of oldSlots to its current ones. The outcome is that of
// unindexRecord with the old values followed by indexRecord, which leaves
// r last among the records sharing a key; an index whose key did not
// change and lists r alone is left untouched.
func reindexRecord(r *record, oldSlots []slot) {
	for _, ix := range r.obj.indexList {
		f, idx := ix.f, ix.m
		oldV, newV := r.get(f), r.get(f)
		if f.pos != 0 && !(f.system && f.Name == "IsDeleted") {
			oldV = slotValue(oldSlots, f)
		}
		var oldK, newK string
		if oldV != nil {
			oldK = indexKey(f, oldV)
		}
		if newV != nil {
			newK = indexKey(f, newV)
		}
		if oldV != nil && newV != nil && oldK == newK {
			if list := idx[oldK]; len(list) == 1 && list[0] == r {
				continue
			}
		}
		if oldV != nil {
			list := idx[oldK]
			for i, x := range list {
				if x == r {
					list = append(list[:i:i], list[i+1:]...)
					break
				}
			}
			if len(list) == 0 {
				delete(idx, oldK)
			} else {
				idx[oldK] = list
			}
		}
		if newV != nil {
			idx[newK] = append(idx[newK], r)
		}
	}
}

// lookupIndexLocked returns the live records whose field f equals v
// (normalised). f must be indexed.
func lookupIndex(o *sobject, f *field, v any) []*record {
	idx := o.indexes[f.pos]
	if idx == nil || v == nil {
		return nil
	}
	return idx[indexKey(f, v)]
}

// lookupIndexText is lookupIndex of a text value, without boxing it.
func lookupIndexText(o *sobject, f *field, s string) []*record {
	idx := o.indexes[f.pos]
	if idx == nil {
		return nil
	}
	if !f.CaseSensitive {
		s = strings.ToLower(s)
	}
	return idx[s]
}

// --- store ---------------------------------------------------------------------

// addRecordLocked puts a new record into the store.
func (e *Emulator) addRecordLocked(r *record) {
	o := r.obj
	r.row = len(o.rows)
	o.rows = append(o.rows, r)
	e.org.records[r.ID] = r
	if !r.deleted {
		o.live++
		indexRecord(r)
	}
}

// removeRecordLocked takes a record out of the store entirely.
func (e *Emulator) removeRecordLocked(r *record) {
	o := r.obj
	if !r.deleted {
		unindexRecord(r)
		o.live--
	}
	delete(e.org.records, r.ID)
	if r.row == len(o.rows)-1 {
		o.rows = o.rows[:r.row]
	} else if r.row < len(o.rows) && o.rows[r.row] == r {
		o.rows[r.row] = nil
		o.nilRows++
		if o.nilRows > 1024 && o.nilRows > len(o.rows)/2 {
			compactRows(o)
		}
	}
}

// compactRows drops hard-deleted slots, keeping insertion order.
func compactRows(o *sobject) {
	out := o.rows[:0]
	for _, r := range o.rows {
		if r != nil {
			r.row = len(out)
			out = append(out, r)
		}
	}
	clear(o.rows[len(out):])
	o.rows = out
	o.nilRows = 0
}

// sobjectLocked returns the object named name (case-insensitive), or nil.
func (e *Emulator) sobjectLocked(name string) *sobject {
	return e.org.byName[strings.ToLower(name)]
}

// sobjectByIDLocked returns the object whose key prefix starts id, or nil.
func (e *Emulator) sobjectByIDLocked(id string) *sobject {
	if len(id) < 3 {
		return nil
	}
	return e.org.byPrefix[id[:3]]
}

// getRecordLocked returns the record with Id id (15 or 18 characters, any
// object, including the recycle bin), or nil.
func (e *Emulator) getRecordLocked(id string) *record {
	if len(id) != 18 {
		n, ok := normalizeID(id)
		if !ok {
			return nil
		}
		id = n
	}
	if r := e.org.records[id]; r != nil {
		return r
	}
	// An 18-character Id in other letter case.
	n, ok := normalizeID(id)
	if !ok || n == id {
		return nil
	}
	return e.org.records[n]
}

// eachRecordLocked calls fn for the records of obj in insertion order until
// fn returns false. Records in the recycle bin are included only with
// includeDeleted (queryAll). fn must not insert or delete records of obj.
func (e *Emulator) eachRecordLocked(obj *sobject, includeDeleted bool, fn func(*record) bool) {
	for _, r := range obj.rows {
		if r == nil || (r.deleted && !includeDeleted) {
			continue
		}
		if !fn(r) {
			return
		}
	}
}

// countLocked returns the number of live records of obj.
func (e *Emulator) countLocked(obj *sobject) int { return obj.live }

// --- transactions ----------------------------------------------------------------

// txn undoes the DML done since beginLocked when rolled back (allOrNone).
// Every beginLocked must be ended, before e.mu is released, by exactly one
// of commit or rollback. Transactions nest: rolling back an inner one undoes
// only its own work. Ids consumed by rolled-back inserts are not reused,
// as in Salesforce.
type txn struct {
	e     *Emulator
	start int
	done  bool
}

// beginLocked starts recording undo information.
func (e *Emulator) beginLocked() *txn {
	o := e.org
	o.openTxns++
	return &txn{e: e, start: len(o.undo)}
}

// rollback undoes everything done since the transaction began.
func (t *txn) rollback() {
	if t.done {
		return
	}
	o := t.e.org
	for i := len(o.undo) - 1; i >= t.start; i-- {
		o.undo[i]()
	}
	clear(o.undo[t.start:])
	o.undo = o.undo[:t.start]
	t.end()
}

// commit keeps the work done since the transaction began.
func (t *txn) commit() {
	if t.done {
		return
	}
	t.end()
}

func (t *txn) end() {
	t.done = true
	o := t.e.org
	o.openTxns--
	if o.openTxns <= 0 {
		o.openTxns = 0
		o.undo = nil
	}
}

// undoing reports whether a transaction is open, so changes must record
// how to undo them (callers skip building the undo closure otherwise).
func (e *Emulator) undoing() bool { return e.org.openTxns > 0 }

// onUndoLocked records how to undo a change when a transaction is open.
func (e *Emulator) onUndoLocked(fn func()) {
	if e.org.openTxns > 0 {
		e.org.undo = append(e.org.undo, fn)
	}
}

// recordsByKeyLocked returns the records of obj whose field f holds v (a
// coerced value): through f's index when it has one, else by a scan.
func (e *Emulator) recordsByKeyLocked(obj *sobject, f *field, v any) []*record {
	if f.indexed() {
		return lookupIndex(obj, f, v)
	}
	var found []*record
	want := indexKey(f, v)
	e.eachRecordLocked(obj, false, func(r *record) bool {
		if rv := r.get(f); rv != nil && indexKey(f, rv) == want {
			found = append(found, r)
		}
		return true
	})
	return found
}
