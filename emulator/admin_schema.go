package emulator

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Admin endpoints that change an org's schema the way an administrator
// does in Setup, for tests of integrations that must notice: a field's
// length changed, a custom field deleted or created, a picklist value
// renamed. Each
// moves the object's describe Last-Modified forward, so If-Modified-Since
// sees the change.

// schemaRoutes registers the endpoints; adminRoutes calls it.
func (e *Emulator) schemaRoutes() {
	post := func(h handlerFunc) map[string]handlerFunc { return map[string]handlerFunc{"POST": h} }
	e.handle("/__emulator/schema/field-length", KindNone, false, post(e.adminFieldLength))
	e.handle("/__emulator/schema/delete-field", KindNone, false, post(e.adminDeleteField))
	e.handle("/__emulator/schema/add-field", KindNone, false, post(e.adminAddField))
	e.handle("/__emulator/schema/rename-picklist-value", KindNone, false, post(e.adminRenamePicklistValue))
}

// schemaField finds object.field for a schema change.
func (e *Emulator) schemaField(object, name string) (*sobject, *field, error) {
	obj := e.sobjectLocked(object)
	if obj == nil {
		return nil, nil, fmt.Errorf("no object %q", object)
	}
	f := obj.field(name)
	if f == nil {
		return nil, nil, fmt.Errorf("no field %s.%s", obj.Name, name)
	}
	return obj, f, nil
}

// touchSchemaLocked moves obj's Last-Modified forward, by at least a
// second (If-Modified-Since has whole seconds), so a client that described
// it a moment ago sees the change.
func (e *Emulator) touchSchemaLocked(obj *sobject) {
	now := e.now().UTC().Truncate(time.Second)
	if !now.After(obj.Modified) {
		now = obj.Modified.Truncate(time.Second).Add(time.Second)
	}
	obj.Modified = now
	e.changedLocked()
}

// SetFieldLength changes the length of a text field. Values already
// stored are kept as they are.
func (e *Emulator) SetFieldLength(object, name string, length int) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	obj, f, err := e.schemaField(object, name)
	if err != nil {
		return err
	}
	if !f.isText() || f.Type == "id" || f.Type == "reference" || f.Type == "picklist" || f.system {
		return fmt.Errorf("field %s.%s (%s) has no length to change", obj.Name, f.Name, f.Type)
	}
	if length < 1 || length > 131072 {
		return fmt.Errorf("length %d: want 1 to 131072", length)
	}
	f.Length = length
	e.touchSchemaLocked(obj)
	return nil
}

// DeleteField deletes a custom field and its values from every record, as
// deleting it in Setup (and emptying its recycle bin) does.
func (e *Emulator) DeleteField(object, name string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	obj, f, err := e.schemaField(object, name)
	if err != nil {
		return err
	}
	if !f.Custom || !strings.HasSuffix(f.Name, "__c") {
		return fmt.Errorf("field %s.%s is standard; only custom fields can be deleted", obj.Name, f.Name)
	}
	pos := f.pos
	for _, r := range obj.rows {
		if r == nil {
			continue
		}
		slots := r.slots[:0]
		for _, s := range r.slots {
			switch {
			case int(s.pos) == pos:
				continue
			case int(s.pos) > pos:
				s.pos--
			}
			slots = append(slots, s)
		}
		r.slots = slots
	}
	obj.Fields = append(obj.Fields[:pos:pos], obj.Fields[pos+1:]...)
	for i := pos; i < len(obj.Fields); i++ {
		obj.Fields[i].pos = i
	}
	delete(obj.byName, strings.ToLower(f.Name))
	delete(obj.exact, f.Name)
	if obj.indexes != nil {
		idx := make(map[int]map[string][]*record, len(obj.indexes))
		for p, m := range obj.indexes {
			switch {
			case p == pos:
			case p > pos:
				idx[p-1] = m
			default:
				idx[p] = m
			}
		}
		obj.indexes = idx
		obj.listIndexes()
	}
	e.touchSchemaLocked(obj)
	return nil
}

// AddField creates a custom field on an object, as creating it in Setup
// does: existing records hold no value in it. Re-creating a field that
// DeleteField removed brings the field back, not its old values.
func (e *Emulator) AddField(object string, fc FieldConfig) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	obj := e.sobjectLocked(object)
	if obj == nil {
		return fmt.Errorf("no object %q", object)
	}
	if f := obj.field(fc.Name); f != nil {
		return fmt.Errorf("field %s.%s already exists", obj.Name, f.Name)
	}
	f, err := customField(fc)
	if err != nil {
		return fmt.Errorf("object %s: %w", obj.Name, err)
	}
	for _, t := range f.ReferenceTo {
		if e.sobjectLocked(t) == nil {
			return fmt.Errorf("object %s: field %s references unknown object %s", obj.Name, f.Name, t)
		}
	}
	obj.addField(f)
	e.touchSchemaLocked(obj)
	return nil
}

// RenamePicklistValue renames a value of a picklist field, in the field's
// values and in every record holding it.
func (e *Emulator) RenamePicklistValue(object, name, from, to string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	obj, f, err := e.schemaField(object, name)
	if err != nil {
		return err
	}
	if f.Type != "picklist" {
		return fmt.Errorf("field %s.%s is a %s, not a picklist", obj.Name, f.Name, f.Type)
	}
	if to == "" {
		return fmt.Errorf("the new value is empty")
	}
	found := false
	for i := range f.Picklist {
		if f.Picklist[i].Value == to {
			return fmt.Errorf("picklist %s.%s already has the value %q", obj.Name, f.Name, to)
		}
		if f.Picklist[i].Value == from {
			found = true
		}
	}
	if !found {
		return fmt.Errorf("picklist %s.%s has no value %q", obj.Name, f.Name, from)
	}
	for i := range f.Picklist {
		if f.Picklist[i].Value == from {
			f.Picklist[i].Value = to
			if f.Picklist[i].Label == from {
				f.Picklist[i].Label = to
			}
		}
	}
	for _, r := range obj.rows {
		if r != nil && r.get(f) == from {
			r.set(f, to)
		}
	}
	e.touchSchemaLocked(obj)
	return nil
}

func (e *Emulator) adminFieldLength(c *call) {
	var req struct {
		Object, Field string
		Length        int
	}
	if c.readJSON(&req) {
		c.schemaAnswer(e.SetFieldLength(req.Object, req.Field, req.Length))
	}
}

func (e *Emulator) adminDeleteField(c *call) {
	var req struct{ Object, Field string }
	if c.readJSON(&req) {
		c.schemaAnswer(e.DeleteField(req.Object, req.Field))
	}
}

func (e *Emulator) adminAddField(c *call) {
	var req struct {
		Object string
		Field  FieldConfig
	}
	if c.readJSON(&req) {
		c.schemaAnswer(e.AddField(req.Object, req.Field))
	}
}

func (e *Emulator) adminRenamePicklistValue(c *call) {
	var req struct{ Object, Field, From, To string }
	if c.readJSON(&req) {
		c.schemaAnswer(e.RenamePicklistValue(req.Object, req.Field, req.From, req.To))
	}
}

// schemaAnswer answers a schema change: 204, or 400 INVALID_OPERATION.
func (c *call) schemaAnswer(err error) {
	if err != nil {
		c.writeError(http.StatusBadRequest, "INVALID_OPERATION", err.Error(), nil)
		return
	}
	c.writeNoContent()
}
