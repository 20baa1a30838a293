package emulator

import (
	"fmt"
	"slices"
	"strings"
)

// Applying the records of a Bulk API 2.0 ingest job.
//
// A record's fields go the way a REST call's field map goes through
// prepareLocked (unknown fields, read-only fields, coercion and validation
// in field order, the same errors in the same order) and then through the
// same insert and update steps, but from the CSV fields directly: no map
// per record, no sorting of keys, text values kept as the scanner gave
// them. The upsert, insert and update rules below follow upsertLocked,
// insertLocked and updateLocked step for step.
//
// A text value is stored as the scanner gave it, a piece of its record's
// text, which it keeps alive. Values of indexed fields (External IDs) are
// copied out: upserts by that key never replace them, so they would keep
// the first record's text alive for as long as the record lives.

// ingestApplier applies one record at a time; e.mu is held by the caller.
type ingestApplier struct {
	e      *Emulator
	j      *bulkJob
	cols   []bulkColumn
	errs   []string
	errIdx map[string]uint32

	// From the header. Columns naming one field share its slot (the last
	// non-blank one wins, as it would in a field map).
	slotOf    []int    // column -> slot
	slotNames []string // slot -> the field's name when the job started
	keyCol    int      // upsert: the column of the External ID field; -1 none

	// As the schema stands now (refreshLocked, once per chunk): the schema
	// may change between chunks, as it could between calls.
	obj     *sobject
	fields  []*field // slot -> field; nil when the object no longer has it
	ext     *field   // upsert: the External ID field; nil when unusable
	extSlot int      // the slot of ext; -1 none

	// Per record, reused.
	vals    []assignment // by slot
	present []bool       // by slot
	as      []assignment
	names   []string
}

func newIngestApplier(e *Emulator, j *bulkJob, cols []bulkColumn) *ingestApplier {
	p := &ingestApplier{e: e, j: j, cols: cols, slotOf: make([]int, len(cols)), keyCol: -1}
	slotOfField := map[*field]int{}
	for i, c := range cols {
		if c.isID {
			p.slotOf[i] = -1
			continue
		}
		slot, ok := slotOfField[c.field]
		if !ok {
			slot = len(p.slotNames)
			slotOfField[c.field] = slot
			p.slotNames = append(p.slotNames, c.field.Name)
		}
		p.slotOf[i] = slot
		if j.operation == "upsert" && j.extField != "Id" && c.relObj == nil && c.field.Name == j.extField {
			p.keyCol = i
		}
	}
	n := len(p.slotNames)
	p.fields = make([]*field, n)
	p.vals = make([]assignment, n)
	p.present = make([]bool, n)
	return p
}

// refreshLocked looks the job's object and fields up again.
func (p *ingestApplier) refreshLocked() {
	p.obj = p.e.sobjectLocked(p.j.object)
	p.ext, p.extSlot = nil, -1
	for slot, name := range p.slotNames {
		p.fields[slot] = nil
		if p.obj != nil {
			p.fields[slot] = p.obj.field(name)
		}
	}
	if p.obj == nil || p.j.operation != "upsert" {
		return
	}
	if f := p.obj.field(p.j.extField); f != nil && (f.IDLookup || f.ExternalID) {
		p.ext = f
		for slot, name := range p.slotNames {
			if strings.EqualFold(name, f.Name) {
				p.extSlot = slot
			}
		}
	}
}

// fail records a row failure with Salesforce's sf__Error text.
func (p *ingestApplier) fail(r *bulkRow, rerr *recordError) bool {
	msg := rerr.Code + ":" + rerr.Message + ":"
	if len(rerr.Fields) > 0 {
		msg += strings.Join(rerr.Fields, ",") + " --"
	} else {
		msg += "--"
	}
	if p.errIdx == nil {
		p.errIdx = map[string]uint32{}
	}
	idx, ok := p.errIdx[msg]
	if !ok {
		idx = uint32(len(p.errs))
		p.errs = append(p.errs, msg)
		p.errIdx[msg] = idx
	}
	r.outcome = rowFailed
	r.err = idx
	return false
}

// apply performs one record's operation; it reports success.
func (p *ingestApplier) apply(r *bulkRow, vals []string) bool {
	op := p.j.operation
	if op == "delete" || op == "hardDelete" {
		return p.delete(r, vals)
	}
	e := p.e
	clear(p.present)
	var id string
	for i, c := range p.cols {
		v := vals[i]
		if c.isID {
			id = strings.TrimSpace(v)
			continue
		}
		slot := p.slotOf[i]
		switch {
		case v == "":
			// Blank leaves the field unset on insert, unchanged on update.
			continue
		case v == "#N/A":
			p.vals[slot] = assignment{}
		case c.relObj != nil:
			ref, rerr := e.resolveForeignKeyLocked(c, v)
			if rerr != nil {
				return p.fail(r, rerr)
			}
			p.vals[slot] = assignment{v: ref}
		default:
			p.vals[slot] = assignment{form: csvRaw, raw: v}
		}
		p.present[slot] = true
	}
	if id != "" {
		if nid, ok := normalizeID(id); ok {
			id = nid
		}
	}
	if p.obj == nil {
		return p.applyMissingObject(r, id, vals)
	}
	switch op {
	case "insert":
		if id != "" {
			return p.fail(r, newRecErr("INVALID_FIELD_FOR_INSERT_UPDATE", "cannot specify Id in an insert call", "Id"))
		}
		nid, rerr := p.insert(-1, nil)
		if rerr != nil {
			return p.fail(r, rerr)
		}
		r.setID(nid)
		r.outcome = rowCreated
	case "update":
		if id == "" {
			return p.fail(r, newRecErr("MISSING_ARGUMENT", "Id not specified in an update call"))
		}
		if looksLikeID(id) {
			r.setID(id)
		}
		rec, rerr := e.findForWriteLocked(p.obj.Name, id)
		if rerr == nil {
			rerr = p.update(rec, -1)
		}
		if rerr != nil {
			return p.fail(r, rerr)
		}
		r.outcome = rowUpdated
	case "upsert":
		key := id
		if p.j.extField != "Id" {
			key = ""
			if p.keyCol >= 0 {
				key = strings.TrimSpace(vals[p.keyCol])
			}
		}
		nid, created, rerr := p.upsert(key)
		if rerr != nil {
			return p.fail(r, rerr)
		}
		r.setID(nid)
		r.outcome = rowUpdated
		if created {
			r.outcome = rowCreated
		}
	}
	return true
}

// applyMissingObject answers a record when the job's object is gone
// (a reset of the org meanwhile): the DML functions refuse it before
// reading any field, so they are called with none.
func (p *ingestApplier) applyMissingObject(r *bulkRow, id string, vals []string) bool {
	e, obj := p.e, p.j.object
	var rerr *recordError
	switch p.j.operation {
	case "insert":
		if id != "" {
			return p.fail(r, newRecErr("INVALID_FIELD_FOR_INSERT_UPDATE", "cannot specify Id in an insert call", "Id"))
		}
		_, rerr = e.insertLocked(obj, nil)
	case "update":
		if id == "" {
			return p.fail(r, newRecErr("MISSING_ARGUMENT", "Id not specified in an update call"))
		}
		if looksLikeID(id) {
			r.setID(id)
		}
		rerr = e.updateLocked(obj, id, nil)
	case "upsert":
		key := id
		if p.j.extField != "Id" && p.keyCol >= 0 {
			key = strings.TrimSpace(vals[p.keyCol])
		} else if p.j.extField != "Id" {
			key = ""
		}
		_, _, _, rerr = e.upsertLocked(obj, p.j.extField, key, nil)
	}
	if rerr == nil {
		rerr = newRecErr("INVALID_TYPE", fmt.Sprintf("sObject type '%s' is not supported.", obj))
	}
	return p.fail(r, rerr)
}

// delete applies a delete or hardDelete record: only its Id counts.
func (p *ingestApplier) delete(r *bulkRow, vals []string) bool {
	var id string
	for i, c := range p.cols {
		if c.isID {
			id = strings.TrimSpace(vals[i])
		}
	}
	if id != "" {
		if nid, ok := normalizeID(id); ok {
			id = nid
		}
	}
	if id == "" {
		return p.fail(r, newRecErr("MISSING_ARGUMENT", "Id not specified in a delete call"))
	}
	if looksLikeID(id) {
		r.setID(id)
	}
	var rerr *recordError
	if p.j.operation == "delete" {
		rerr = p.e.deleteLocked(p.j.object, id)
	} else {
		rerr = p.e.hardDeleteLocked(p.j.object, id)
	}
	if rerr != nil {
		return p.fail(r, rerr)
	}
	r.outcome = rowUpdated
	return true
}

// upsert is upsertLocked for the record in p.vals, keyed by key (the
// External ID field's column, or the Id column when upserting on Id).
func (p *ingestApplier) upsert(key string) (id string, created bool, rerr *recordError) {
	e, obj, f := p.e, p.obj, p.ext
	if f == nil {
		return "", false, &recordError{Code: "NOT_FOUND", Message: "Provided external ID field does not exist or is not accessible: " + p.j.extField}
	}
	if f.pos == 0 {
		// On Id. The record's fields never hold Id (the Id column is the key).
		if key == "" {
			id, rerr := p.insert(-1, nil)
			return id, rerr == nil, rerr
		}
		r, rerr := e.findForWriteLocked(obj.Name, key)
		if rerr != nil {
			return "", false, rerr
		}
		return r.ID, false, p.update(r, -1)
	}
	var kv any // the key coerced; nil when blank
	var found []*record
	textKey := key != "" && f.isText() && f.indexed()
	if textKey {
		// coerceValue keeps non-blank text as it is: look it up unboxed.
		found = lookupIndexText(obj, f, key)
	} else if key != "" {
		if kv, rerr = coerceValue(f, key); rerr != nil {
			return "", false, rerr
		}
	}
	if kv != nil {
		found = e.recordsByKeyLocked(obj, f, kv)
	}
	switch len(found) {
	case 0:
		// The key column's value gives way to the trimmed key.
		var keyAs *assignment
		switch s, ok := kv.(string); {
		case textKey:
			keyAs = &assignment{f: f, v: strings.Clone(key), form: coercedValue}
		case ok:
			keyAs = &assignment{f: f, v: strings.Clone(s), form: coercedValue}
		case kv != nil:
			keyAs = &assignment{f: f, v: kv, form: coercedValue}
		}
		id, rerr := p.insert(p.extSlot, keyAs)
		return id, rerr == nil, rerr
	case 1:
		r := found[0]
		return r.ID, false, p.update(r, p.extSlot)
	}
	var matches []string
	for _, r := range found {
		matches = append(matches, r.ID)
	}
	return "", false, newRecErr("DUPLICATE_EXTERNAL_ID",
		fmt.Sprintf("%s: more than one record found for external id field: %v", f.Label, matches), f.Name)
}

// insert is insertLocked for the record in p.vals, without the slot skip
// (-1 none) and with extra (nil none) added.
func (p *ingestApplier) insert(skip int, extra *assignment) (string, *recordError) {
	if rerr := canInsert(p.obj, false); rerr != nil {
		return "", rerr
	}
	as, rerr := p.prepareLocked(true, skip, extra)
	if rerr != nil {
		return "", rerr
	}
	return p.e.insertAssignedLocked(p.obj, as, "")
}

// update is updateLocked of r (found and live) for the record in p.vals,
// without the slot skip (-1 none).
func (p *ingestApplier) update(r *record, skip int) *recordError {
	if rerr := canUpdate(r); rerr != nil {
		return rerr
	}
	as, rerr := p.prepareLocked(false, skip, nil)
	if rerr != nil {
		return rerr
	}
	return p.e.applyUpdateLocked(r, as)
}

// prepareLocked is the Emulator's prepareLocked for the record in p.vals:
// a field the object no longer has fails first (the least name), then the
// fields that may not be written (by name), then settleLocked.
func (p *ingestApplier) prepareLocked(insert bool, skip int, extra *assignment) ([]assignment, *recordError) {
	as := p.as[:0]
	names := p.names[:0]
	unknown := ""
	for slot, ok := range p.present {
		if !ok || slot == skip {
			continue
		}
		f := p.fields[slot]
		if f == nil {
			if name := p.slotNames[slot]; unknown == "" || name < unknown {
				unknown = name
			}
			continue
		}
		if (insert && !f.Createable) || (!insert && !f.Updateable) {
			names = append(names, f.Name)
			continue
		}
		a := p.vals[slot]
		a.f = f
		if a.form == csvRaw && f.indexed() {
			a.raw = strings.Clone(a.raw)
		}
		as = append(as, a)
	}
	if extra != nil {
		if (insert && !extra.f.Createable) || (!insert && !extra.f.Updateable) {
			names = append(names, extra.f.Name)
		} else {
			as = append(as, *extra)
		}
	}
	p.as, p.names = as, names
	if unknown != "" {
		return nil, &recordError{Code: "INVALID_FIELD", Message: fmt.Sprintf("No such column '%s' on sobject of type %s", unknown, p.obj.Name)}
	}
	if len(names) > 0 {
		slices.Sort(names)
		return nil, readOnlyError(slices.Clone(names))
	}
	if rerr := p.e.settleLocked(as); rerr != nil {
		return nil, rerr
	}
	return as, nil
}

// resolveForeignKeyLocked finds the Id of the record a relationship column
// (Account.Ext__c) names by its external id value.
func (e *Emulator) resolveForeignKeyLocked(c bulkColumn, v string) (any, *recordError) {
	notFound := newRecErr("INVALID_FIELD",
		fmt.Sprintf("Foreign key external ID: %s not found for field %s in entity %s", v, c.relField.Name, c.relObj.Name))
	if c.relField.Name == "Id" {
		nid, ok := normalizeID(v)
		if !ok {
			return nil, notFound
		}
		r := e.getRecordLocked(nid)
		if r == nil || r.deleted || r.obj != c.relObj {
			return nil, notFound
		}
		return nid, nil
	}
	key, rerr := coerceValue(c.relField, csvString(v))
	if rerr != nil || key == nil {
		return nil, notFound
	}
	var found []*record
	if c.relField.indexed() {
		found = lookupIndex(c.relObj, c.relField, key)
	} else {
		want := indexKey(c.relField, key)
		e.eachRecordLocked(c.relObj, false, func(r *record) bool {
			if x := r.get(c.relField); x != nil && indexKey(c.relField, x) == want {
				found = append(found, r)
			}
			return len(found) < 2
		})
	}
	switch len(found) {
	case 0:
		return nil, notFound
	case 1:
		return found[0].ID, nil
	}
	return nil, newRecErr("INVALID_FIELD",
		fmt.Sprintf("Foreign key external ID: %s matched more than one record for field %s in entity %s", v, c.relField.Name, c.relObj.Name))
}
