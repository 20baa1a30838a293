package emulator

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// assignment is one validated field value of a DML call.
type assignment struct {
	f *field
	v any // stored representation; nil clears
	// form says what settleLocked must still do with the value.
	form valueForm
	raw  string // the value as a CSV file gave it (form csvRaw)
}

// valueForm is how far an assignment's value has come.
type valueForm uint8

const (
	inputValue   valueForm = iota // v is input for coerceValue
	csvRaw                        // raw is CSV text for coerceCSV; v unset
	coercedValue                  // v is already coerced, not yet validated
)

// fieldSet is a set of an object's fields, indexed by field position; the
// nil set is empty.
type fieldSet []bool

func (s fieldSet) has(f *field) bool { return f != nil && f.pos < len(s) && s[f.pos] }

// newFieldSet returns an empty set for n fields in buf when it is large
// enough (a caller's array stays on its stack), else in new memory.
func newFieldSet(n int, buf *[256]bool) fieldSet {
	if n <= len(buf) {
		return buf[:n]
	}
	return make(fieldSet, n)
}

// nowLocked returns the current time as Salesforce stores it (UTC, ms).
// A frozen stamp (FreezeStamp, replication.go) stands in for the clock;
// otherwise writes never share a millisecond (see monotonicLocked).
func (e *Emulator) nowLocked() time.Time {
	if t := e.frozenStamp(); !t.IsZero() {
		return t
	}
	return e.monotonicLocked(e.now().UTC().Truncate(time.Millisecond))
}

// actorLocked is the user DML is attributed to (CreatedById, OwnerId...):
// the user set with setActorLocked, else the admin user.
func (e *Emulator) actorLocked() string {
	if e.org.actor != "" {
		return e.org.actor
	}
	return e.org.adminID
}

// setActorLocked attributes the following DML to userID ("" = the admin).
// REST handlers call it with the session's user before DML.
func (e *Emulator) setActorLocked(userID string) { e.org.actor = userID }

// actorValueLocked is actorLocked as a stored value, boxed once per actor
// rather than once per write.
func (e *Emulator) actorValueLocked() any {
	o := e.org
	a := e.actorLocked()
	if s, ok := o.actorBox.(string); !ok || s != a {
		o.actorBox = a
	}
	return o.actorBox
}

// prepareLocked resolves, coerces and validates the input fields of a DML
// call in a fixed order: unknown fields (INVALID_FIELD), read-only fields
// (INVALID_FIELD_FOR_INSERT_UPDATE), value types (JSON_PARSER_ERROR /
// INVALID_TYPE_ON_FIELD_IN_RECORD), then each value against its metadata.
// "attributes" is ignored; "Id" is ignored when it equals selfID.
// system skips the createable/updateable checks (the emulator's own writes).
func (e *Emulator) prepareLocked(obj *sobject, in map[string]any, insert bool, selfID string, system bool) ([]assignment, *recordError) {
	keys := make([]string, 0, len(in))
	for k := range in {
		if k == "attributes" {
			continue
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]assignment, 0, len(keys))
	var readOnly []string
	for _, k := range keys {
		f := obj.field(k)
		if f == nil {
			return nil, &recordError{Code: "INVALID_FIELD", Message: fmt.Sprintf("No such column '%s' on sobject of type %s", k, obj.Name)}
		}
		if f.pos == 0 && !insert {
			if s, ok := in[k].(string); ok {
				if id, ok := normalizeID(s); ok && id == selfID {
					continue
				}
			}
		}
		if !system && ((insert && !f.Createable) || (!insert && !f.Updateable)) {
			readOnly = append(readOnly, f.Name)
			continue
		}
		out = append(out, assignment{f: f, v: in[k]})
	}
	if len(readOnly) > 0 {
		return nil, readOnlyError(readOnly)
	}
	if rerr := e.settleLocked(out); rerr != nil {
		return nil, rerr
	}
	return out, nil
}

// readOnlyError is the error for fields a DML call may not write, named in
// the order of the input's keys.
func readOnlyError(names []string) *recordError {
	return newRecErr("INVALID_FIELD_FOR_INSERT_UPDATE",
		fmt.Sprintf("Unable to create/update fields: %s. Please check the security settings of this field and verify that it is read/write for your profile or permission set.", strings.Join(names, ", ")),
		names...)
}

// settleLocked puts assignments in field order, then coerces every value
// and validates every non-null one, stopping at the first error in that
// order: prepareLocked's last steps, shared by the Bulk API's path.
func (e *Emulator) settleLocked(out []assignment) *recordError {
	slices.SortFunc(out, func(a, b assignment) int { return a.f.pos - b.f.pos })
	for i := range out {
		a := &out[i]
		var v any
		var rerr *recordError
		switch a.form {
		case csvRaw:
			v, rerr = coerceCSV(a.f, a.raw)
		case coercedValue:
			v = a.v
		default:
			v, rerr = coerceValue(a.f, a.v)
		}
		if rerr != nil {
			return rerr
		}
		a.v, a.form, a.raw = v, coercedValue, ""
	}
	for i := range out {
		if out[i].v == nil {
			continue
		}
		v, rerr := e.validateValue(out[i].f, out[i].v)
		if rerr != nil {
			return rerr
		}
		out[i].v = v
	}
	return nil
}

// checkRequired lists every required field of r that is blank.
func checkRequired(r *record, insert bool, touched fieldSet) *recordError {
	var missing []string
	for _, f := range r.obj.Fields {
		if f.Nillable || f.system || f.Calculated || f.Type == "boolean" {
			continue
		}
		if !insert && !touched.has(f) {
			continue
		}
		if !f.Createable && insert {
			continue
		}
		if isBlank(r.get(f)) {
			missing = append(missing, f.Name)
		}
	}
	if len(missing) > 0 {
		return newRecErr("REQUIRED_FIELD_MISSING", "Required fields are missing: ["+strings.Join(missing, ", ")+"]", missing...)
	}
	return nil
}

// checkUnique reports a clash of r's unique fields with other live records.
func checkUnique(r *record) *recordError {
	o := r.obj
	for _, ix := range o.indexList {
		f := ix.f
		if !f.Unique {
			continue
		}
		v := r.get(f)
		if v == nil {
			continue
		}
		for _, other := range lookupIndex(o, f, v) {
			if other == r {
				continue
			}
			if o.Name == "User" && f.Name == "Username" {
				return newRecErr("DUPLICATE_USERNAME",
					"Duplicate Username.<br>The username already exists in this or another Salesforce organization. Usernames must be unique across all Salesforce organizations. To resolve, use a different username (it doesn't need to match the user's email address). ",
					"Username")
			}
			return newRecErr("DUPLICATE_VALUE",
				fmt.Sprintf("duplicate value found: %s duplicates value on record with id: %s", f.Name, other.ID), f.Name)
		}
	}
	return nil
}

// insertLocked creates a record of objName from input fields (see
// coerceValue for accepted value forms) and returns its 18-character Id.
// Errors: INVALID_TYPE (unknown object), INVALID_FIELD,
// INVALID_FIELD_FOR_INSERT_UPDATE, JSON_PARSER_ERROR, STRING_TOO_LONG,
// INVALID_EMAIL_ADDRESS, INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST,
// NUMBER_OUTSIDE_VALID_RANGE, MALFORMED_ID, INVALID_CROSS_REFERENCE_KEY,
// REQUIRED_FIELD_MISSING, DUPLICATE_VALUE, DUPLICATE_USERNAME.
func (e *Emulator) insertLocked(objName string, fields map[string]any) (string, *recordError) {
	return e.insertRecordLocked(objName, fields, "", false)
}

// insertRecordLocked is insertLocked with a chosen Id (seeding; "" mints
// one) and, with system set, no createable checks (seeding Profiles).
func (e *Emulator) insertRecordLocked(objName string, fields map[string]any, forcedID string, system bool) (string, *recordError) {
	obj := e.sobjectLocked(objName)
	if obj == nil {
		return "", &recordError{Code: "INVALID_TYPE", Message: fmt.Sprintf("sObject type '%s' is not supported.", objName)}
	}
	if rerr := canInsert(obj, system); rerr != nil {
		return "", rerr
	}
	as, rerr := e.prepareLocked(obj, fields, true, "", system)
	if rerr != nil {
		return "", rerr
	}
	return e.insertAssignedLocked(obj, as, forcedID)
}

// canInsert refuses inserts into an object that is not createable, unless
// system (the emulator's own writes).
func canInsert(obj *sobject, system bool) *recordError {
	if !obj.Createable && !system {
		return newRecErr("INVALID_TYPE_FOR_OPERATION", "entity type cannot be inserted")
	}
	return nil
}

// insertAssignedLocked creates a record of obj from prepared assignments
// (see prepareLocked): defaults and audit stamps, derived fields, object
// rules, required and unique checks, then an Id (forcedID, or a new one).
func (e *Emulator) insertAssignedLocked(obj *sobject, as []assignment, forcedID string) (string, *recordError) {
	r := &record{obj: obj, slots: make([]slot, 0, len(as)+obj.stamped+2)}
	given := newFieldSet(len(obj.Fields), &[256]bool{})
	for _, a := range as {
		if a.v != nil {
			r.slots = append(r.slots, slot{uint16(a.f.pos), a.v})
		}
		given[a.f.pos] = true
	}
	now := e.nowLocked()
	// One boxed time shared by the three audit stamps, one boxed actor by
	// the fields naming the user.
	var stamp any = now
	actor := e.actorValueLocked()
	// Fields not given are absent from slots, so appending is safe.
	for _, f := range obj.Fields {
		if given[f.pos] {
			continue
		}
		var v any
		switch {
		case f.system:
			switch f.Name {
			case "CreatedDate", "LastModifiedDate", "SystemModstamp":
				v = stamp
			case "CreatedById", "LastModifiedById":
				v = actor
			}
		case f.Name == "OwnerId" && f.DefaultedOnCreate:
			v = actor
		case f.Default != nil:
			v = f.Default
		}
		if v != nil && f.pos != 0 {
			r.slots = append(r.slots, slot{uint16(f.pos), v})
		}
	}
	if obj.derive != nil {
		obj.derive(e, r)
	}
	if rerr := e.objectRulesLocked(r, given, true); rerr != nil {
		return "", rerr
	}
	if rerr := checkRequired(r, true, nil); rerr != nil {
		return "", rerr
	}
	if rerr := checkUnique(r); rerr != nil {
		return "", rerr
	}
	if forcedID != "" {
		r.ID = forcedID
	} else {
		r.ID = e.newIDLocked(obj.KeyPrefix)
	}
	e.addRecordLocked(r)
	if e.undoing() {
		e.onUndoLocked(func() { e.removeRecordLocked(r) })
	}
	e.changedLocked()
	return r.ID, nil
}

// objectRulesLocked applies per-object rules beyond field metadata.
func (e *Emulator) objectRulesLocked(r *record, set fieldSet, insert bool) *recordError {
	o := r.obj
	switch o.Name {
	case "User":
		if u, ok := r.getName("Username").(string); ok && set.has(o.field("Username")) && !validEmail(u) {
			// UNCONFIRMED: Salesforce's exact code for a username that is not
			// email-shaped; INVALID_EMAIL_ADDRESS is the closest documented one.
			return newRecErr("INVALID_EMAIL_ADDRESS", "Username: invalid email address: "+u, "Username")
		}
		if insert && r.getName("CommunityNickname") == nil {
			// Salesforce fills the nickname from the username when omitted.
			if u, ok := r.getName("Username").(string); ok {
				nick := u
				if i := strings.IndexByte(u, '@'); i > 0 {
					nick = u[:i]
				}
				if len(nick) > 40 {
					nick = nick[:40]
				}
				r.set(o.field("CommunityNickname"), nick)
			}
		}
		if insert && r.getName("UserType") == nil {
			ut := "Standard"
			if pid, ok := r.getName("ProfileId").(string); ok {
				if p := e.org.records[pid]; p != nil {
					if t, ok := p.getName("UserType").(string); ok {
						ut = t
					}
				}
			}
			r.set(o.field("UserType"), ut)
		}
	}
	return nil
}

// updateLocked applies input fields to the record with Id id. objName ""
// takes the object from the Id's key prefix. Errors: those of insertLocked
// plus MALFORMED_ID, NOT_FOUND (no such record), ENTITY_IS_DELETED,
// CANNOT_UPDATE_CONVERTED_LEAD.
func (e *Emulator) updateLocked(objName, id string, fields map[string]any) *recordError {
	r, rerr := e.findForWriteLocked(objName, id)
	if rerr != nil {
		return rerr
	}
	if rerr := canUpdate(r); rerr != nil {
		return rerr
	}
	as, rerr := e.prepareLocked(r.obj, fields, false, r.ID, false)
	if rerr != nil {
		return rerr
	}
	return e.applyUpdateLocked(r, as)
}

// canUpdate refuses updates of a record whose object is not updateable
// and of a converted Lead.
func canUpdate(r *record) *recordError {
	if !r.obj.Updateable {
		return newRecErr("INVALID_TYPE_FOR_OPERATION", "entity type cannot be updated")
	}
	if r.obj.Name == "Lead" && r.getName("IsConverted") == true {
		return newRecErr("CANNOT_UPDATE_CONVERTED_LEAD", "cannot reference converted lead")
	}
	return nil
}

// applyUpdateLocked writes validated assignments to r, re-indexing it and
// stamping LastModified*, undoing everything if a record rule fails.
//
// r stays in its indexes under its old values while the rules run
// (checkUnique skips r itself) and moves once they pass; a failed update
// still moves r to the end of the records sharing its keys, as taking it
// out and putting it back did.
func (e *Emulator) applyUpdateLocked(r *record, as []assignment) *recordError {
	obj := r.obj
	// The values before the update: a copy of its own when a transaction
	// may undo the update later, else one reused buffer (nothing keeps it
	// past this call).
	var oldSlots []slot
	if e.undoing() {
		oldSlots, _, _ = r.snapshot()
	} else {
		e.org.slotScratch = append(e.org.slotScratch[:0], r.slots...)
		oldSlots = e.org.slotScratch
		defer clear(oldSlots) // hold no values past the call
	}
	touched := newFieldSet(len(obj.Fields), &[256]bool{})
	for _, a := range as {
		r.set(a.f, a.v)
		touched[a.f.pos] = true
	}
	if obj.derive != nil {
		obj.derive(e, r)
	}
	fail := func(rerr *recordError) *recordError {
		r.slots = append(r.slots[:0], oldSlots...)
		reindexRecord(r, oldSlots)
		return rerr
	}
	if rerr := e.objectRulesLocked(r, touched, false); rerr != nil {
		return fail(rerr)
	}
	if rerr := checkRequired(r, false, touched); rerr != nil {
		return fail(rerr)
	}
	if rerr := checkUnique(r); rerr != nil {
		return fail(rerr)
	}
	now := e.nowLocked()
	var stamp any = now
	r.set(obj.field("LastModifiedDate"), stamp)
	r.set(obj.field("SystemModstamp"), stamp)
	r.set(obj.field("LastModifiedById"), e.actorValueLocked())
	reindexRecord(r, oldSlots)
	if e.undoing() {
		e.onUndoLocked(func() {
			cur := r.slots
			r.slots = oldSlots
			reindexRecord(r, cur)
		})
	}
	e.changedLocked()
	return nil
}

// findForWriteLocked resolves id for update or delete.
func (e *Emulator) findForWriteLocked(objName, id string) (*record, *recordError) {
	nid, ok := normalizeID(id)
	if !ok {
		return nil, newRecErr("MALFORMED_ID", "malformed id "+id)
	}
	var obj *sobject
	if objName != "" {
		obj = e.sobjectLocked(objName)
		if obj == nil {
			return nil, &recordError{Code: "INVALID_TYPE", Message: fmt.Sprintf("sObject type '%s' is not supported.", objName)}
		}
		if obj.KeyPrefix != nid[:3] {
			return nil, newRecErr("MALFORMED_ID", fmt.Sprintf("%s ID: id value of incorrect type: %s", obj.Label, id), "Id")
		}
	}
	r := e.org.records[nid]
	if r == nil {
		return nil, newRecErr("NOT_FOUND", "The requested resource does not exist")
	}
	if r.deleted {
		return nil, newRecErr("ENTITY_IS_DELETED", "entity is deleted")
	}
	return r, nil
}

// upsertLocked inserts or updates a record of objName matched on extField
// (an External ID field, an idLookup field, or Id) equal to extValue.
// No match: insert (with extField set to extValue); one match: update;
// several: rerr.Code DUPLICATE_EXTERNAL_ID and matches lists their Ids
// (single-record REST answers 300 with their URLs). An unknown field or one
// that cannot be used as a key answers NOT_FOUND "Provided external ID field
// does not exist or is not accessible: <field>". An empty extValue inserts.
func (e *Emulator) upsertLocked(objName, extField, extValue string, fields map[string]any) (id string, created bool, matches []string, rerr *recordError) {
	obj := e.sobjectLocked(objName)
	if obj == nil {
		return "", false, nil, &recordError{Code: "INVALID_TYPE", Message: fmt.Sprintf("sObject type '%s' is not supported.", objName)}
	}
	f := obj.field(extField)
	if f == nil || !(f.IDLookup || f.ExternalID) {
		return "", false, nil, &recordError{Code: "NOT_FOUND", Message: "Provided external ID field does not exist or is not accessible: " + extField}
	}
	if f.pos == 0 {
		if extValue == "" {
			id, rerr := e.insertLocked(obj.Name, withoutKey(fields, "Id"))
			return id, rerr == nil, nil, rerr
		}
		r, rerr := e.findForWriteLocked(obj.Name, extValue)
		if rerr != nil {
			return "", false, nil, rerr
		}
		return r.ID, false, nil, e.updateLocked(obj.Name, r.ID, withoutKey(fields, "Id"))
	}
	var key any
	if extValue != "" {
		v, rerr := coerceValue(f, extValue)
		if rerr != nil {
			return "", false, nil, rerr
		}
		key = v
	}
	var found []*record
	if key != nil {
		found = e.recordsByKeyLocked(obj, f, key)
	}
	switch len(found) {
	case 0:
		in := make(map[string]any, len(fields)+1)
		for k, v := range fields {
			if !strings.EqualFold(k, f.Name) {
				in[k] = v
			}
		}
		if key != nil {
			in[f.Name] = extValue
		}
		id, rerr := e.insertLocked(obj.Name, in)
		return id, rerr == nil, nil, rerr
	case 1:
		r := found[0]
		return r.ID, false, nil, e.updateLocked(obj.Name, r.ID, withoutKey(fields, f.Name))
	}
	for _, r := range found {
		matches = append(matches, r.ID)
	}
	return "", false, matches, newRecErr("DUPLICATE_EXTERNAL_ID",
		fmt.Sprintf("%s: more than one record found for external id field: %v", f.Label, matches), f.Name)
}

// withoutKey returns fields without key (case-insensitive), copying only if needed.
func withoutKey(fields map[string]any, key string) map[string]any {
	has := false
	for k := range fields {
		if strings.EqualFold(k, key) {
			has = true
		}
	}
	if !has {
		return fields
	}
	out := make(map[string]any, len(fields))
	for k, v := range fields {
		if !strings.EqualFold(k, key) {
			out[k] = v
		}
	}
	return out
}

// deleteLocked moves a record to the recycle bin. Errors: MALFORMED_ID,
// NOT_FOUND, ENTITY_IS_DELETED, INVALID_TYPE_FOR_OPERATION (User, Profile:
// not deletable), DELETE_FAILED (a Contact of a portal user).
func (e *Emulator) deleteLocked(objName, id string) *recordError {
	r, rerr := e.findForWriteLocked(objName, id)
	if rerr != nil {
		return rerr
	}
	if rerr := e.checkDeletableLocked(r); rerr != nil {
		return rerr
	}
	now := e.nowLocked()
	o := r.obj
	oldSlots, _, _ := r.snapshot()
	unindexRecord(r)
	o.live--
	r.deleted = true
	r.deletedAt = now
	var stamp any = now
	r.set(o.field("SystemModstamp"), stamp)
	r.set(o.field("LastModifiedDate"), stamp)
	r.set(o.field("LastModifiedById"), e.actorLocked())
	o.deleteLog = append(o.deleteLog, deletion{ID: r.ID, At: now})
	logLen := len(o.deleteLog) - 1
	e.onUndoLocked(func() {
		r.deleted = false
		r.deletedAt = time.Time{}
		r.slots = oldSlots
		o.live++
		indexRecord(r)
		if len(o.deleteLog) > logLen {
			o.deleteLog = o.deleteLog[:logLen]
		}
	})
	e.changedLocked()
	return nil
}

func (e *Emulator) checkDeletableLocked(r *record) *recordError {
	o := r.obj
	if !o.Deletable {
		return newRecErr("INVALID_TYPE_FOR_OPERATION", "entity type cannot be deleted")
	}
	if o.Name == "Contact" {
		users := e.sobjectLocked("User")
		cf := users.field("ContactId")
		var names []string
		e.eachRecordLocked(users, false, func(u *record) bool {
			if u.get(cf) == r.ID {
				n, _ := u.getName("Username").(string)
				names = append(names, n)
			}
			return true
		})
		if len(names) > 0 {
			name, _ := r.getName("Name").(string)
			return newRecErr("DELETE_FAILED",
				fmt.Sprintf("Your attempt to delete %s could not be completed because it is associated with the following portal users.: %s", name, strings.Join(names, ", ")))
		}
	}
	return nil
}

// hardDeleteLocked removes a record for good (Bulk hardDelete, or emptying
// the recycle bin when the record is already deleted).
func (e *Emulator) hardDeleteLocked(objName, id string) *recordError {
	nid, ok := normalizeID(id)
	if !ok {
		return newRecErr("MALFORMED_ID", "malformed id "+id)
	}
	if objName != "" {
		obj := e.sobjectLocked(objName)
		if obj == nil {
			return &recordError{Code: "INVALID_TYPE", Message: fmt.Sprintf("sObject type '%s' is not supported.", objName)}
		}
		if obj.KeyPrefix != nid[:3] {
			return newRecErr("MALFORMED_ID", fmt.Sprintf("%s ID: id value of incorrect type: %s", obj.Label, id), "Id")
		}
	}
	r := e.org.records[nid]
	if r == nil {
		return newRecErr("NOT_FOUND", "The requested resource does not exist")
	}
	if rerr := e.checkDeletableLocked(r); rerr != nil {
		return rerr
	}
	o := r.obj
	wasDeleted := r.deleted
	if !wasDeleted {
		o.deleteLog = append(o.deleteLog, deletion{ID: r.ID, At: e.nowLocked()})
	}
	logLen := len(o.deleteLog)
	row := r.row
	e.removeRecordLocked(r)
	e.onUndoLocked(func() {
		// Put the record back in its slot if still free, else at the end.
		e.org.records[r.ID] = r
		if row < len(o.rows) && o.rows[row] == nil {
			o.rows[row] = r
			o.nilRows--
		} else {
			r.row = len(o.rows)
			o.rows = append(o.rows, r)
		}
		if !r.deleted {
			o.live++
			indexRecord(r)
		}
		if !wasDeleted && len(o.deleteLog) >= logLen {
			o.deleteLog = append(o.deleteLog[:logLen-1], o.deleteLog[logLen:]...)
		}
	})
	e.changedLocked()
	return nil
}

// undeleteLocked restores a record from the recycle bin.
func (e *Emulator) undeleteLocked(id string) *recordError {
	r := e.getRecordLocked(id)
	if r == nil {
		return newRecErr("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id")
	}
	if !r.deleted {
		return newRecErr("UNDELETE_FAILED", "Entity is not in the recycle bin")
	}
	r.deleted = false
	if rerr := checkUnique(r); rerr != nil {
		r.deleted = true
		return rerr
	}
	o := r.obj
	at := r.deletedAt
	r.deletedAt = time.Time{}
	o.live++
	indexRecord(r)
	var stamp any = e.nowLocked()
	r.set(o.field("SystemModstamp"), stamp)
	e.onUndoLocked(func() {
		unindexRecord(r)
		o.live--
		r.deleted = true
		r.deletedAt = at
	})
	e.changedLocked()
	return nil
}

// convertLeadLocked converts a Lead as Database.convertLead does without an
// opportunity: it creates an Account (Name = Company) and a Contact (name,
// email, phone, title, address of the lead, AccountId = the new account),
// then marks the lead IsConverted with Status "Closed - Converted",
// ConvertedDate, ConvertedAccountId and ConvertedContactId. A converted lead
// refuses further updates (CANNOT_UPDATE_CONVERTED_LEAD).
func (e *Emulator) convertLeadLocked(id string) (accountID, contactID string, rerr *recordError) {
	lead, rerr := e.findForWriteLocked("Lead", id)
	if rerr != nil {
		return "", "", rerr
	}
	if lead.getName("IsConverted") == true {
		return "", "", newRecErr("CANNOT_UPDATE_CONVERTED_LEAD", "cannot reference converted lead")
	}
	t := e.beginLocked()
	defer t.commit()
	company, _ := lead.getName("Company").(string)
	accountID, rerr = e.insertLocked("Account", map[string]any{"Name": company, "OwnerId": lead.getName("OwnerId")})
	if rerr != nil {
		t.rollback()
		return "", "", rerr
	}
	ct := map[string]any{"AccountId": accountID, "OwnerId": lead.getName("OwnerId")}
	for _, p := range [][2]string{{"FirstName", "FirstName"}, {"LastName", "LastName"}, {"Salutation", "Salutation"},
		{"Email", "Email"}, {"Phone", "Phone"}, {"MobilePhone", "MobilePhone"}, {"Title", "Title"},
		{"Street", "MailingStreet"}, {"City", "MailingCity"}, {"State", "MailingState"},
		{"PostalCode", "MailingPostalCode"}, {"Country", "MailingCountry"}, {"LeadSource", "LeadSource"}} {
		if v := lead.getName(p[0]); v != nil {
			ct[p[1]] = v
		}
	}
	contactID, rerr = e.insertLocked("Contact", ct)
	if rerr != nil {
		t.rollback()
		return "", "", rerr
	}
	o := lead.obj
	now := e.nowLocked()
	rerr = e.applyUpdateLocked(lead, []assignment{
		{f: o.field("IsConverted"), v: true},
		{f: o.field("Status"), v: "Closed - Converted"},
		{f: o.field("ConvertedDate"), v: now.Format("2006-01-02")},
		{f: o.field("ConvertedAccountId"), v: accountID},
		{f: o.field("ConvertedContactId"), v: contactID},
	})
	if rerr != nil {
		t.rollback()
		return "", "", rerr
	}
	return accountID, contactID, nil
}
