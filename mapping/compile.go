package mapping

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/expr-lang/expr/vm"
	forcesync "github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/salesforce"
)

// Compiled is a mapping checked against its object's describe, ready to turn
// source records into Salesforce payloads. It is immutable and safe for
// concurrent use; compile it again when the mapping or the describe changes.
type Compiled struct {
	m      forcesync.Mapping
	object string
	filter *vm.Program
	rows   []*row
	// extRow is the row holding the External ID value, or nil when the
	// record key is the value (MatchExternalID only).
	extField *target
	extRow   *row
	// extCaseSensitive is the External ID field's describe caseSensitive.
	extCaseSensitive bool
	required         []*row // rows of fields Salesforce requires on create
	// matchFields are the MatchFields field names as the describe spells them.
	matchFields []string
	hasCreate   bool // some rows apply only on create
	version     string
	// life is the lifecycle part (disable, deprovision), see lifecycle.go.
	life lifecycle
	// password is a User mapping's password source field; fillAlias says
	// the engine generates Alias (users.go).
	password  string
	fillAlias bool
	// pulls are the rows read back from Salesforce (direction pull, both).
	pulls []PullField
	// reads are the source fields the mapping reads, readsAll set when an
	// expression reads the whole record (ReadsField), found once.
	readOnce sync.Once
	reads    map[string]bool
	readsAll bool
}

// PullField is one field a pulled mapping reads from Salesforce and writes
// to the application's record.
type PullField struct {
	// Target is the Salesforce field as the describe spells it.
	Target string
	// Source is the application's field (a dot path reaches into objects).
	Source string
	// Both is set for a row that is pushed too; Policy decides its conflicts.
	Both   bool
	Policy forcesync.ConflictPolicy
	// Type is the describe's field type, for comparing values.
	Type string
}

// rowKind is where a row's value comes from.
type rowKind int

const (
	fromSource rowKind = iota
	fromConstant
	fromExpr
	fromFirstOf
)

// link is one element of a fallback chain: a source field or a constant.
type link struct {
	path     []string
	field    string
	constant any
	isConst  bool
}

type row struct {
	t        *target
	kind     rowKind
	field    string   // source field as written, for the whole-key lookup
	path     []string // the same split on dots, for nested objects
	constant any
	prog     *vm.Program
	chain    []link
	valueMap map[string]string
	// def is the coerced default; hasDef tells a nil default from none.
	def      any
	hasDef   bool
	onCreate bool
	clear    bool
	required bool
	// Constants are coerced once: constOut/constWarn are the result.
	constOut  any
	constWarn string
}

// Problem is one reason a mapping cannot be used.
type Problem struct {
	Field   string // Salesforce field at fault, "" for the mapping itself
	Message string
}

// CompileError lists every problem found compiling one mapping, so a config
// is fixed in one pass rather than one error at a time. It unwraps to a
// *forcesync.Error with code EInvalid.
type CompileError struct {
	Mapping  string
	Object   string
	Problems []Problem
}

func (e *CompileError) Error() string {
	var b strings.Builder
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteString("\n")
		}
		b.WriteString("mapping ")
		b.WriteString(e.Mapping)
		if p.Field != "" {
			b.WriteString(": field ")
			b.WriteString(e.Object + "." + p.Field)
		}
		b.WriteString(": ")
		b.WriteString(p.Message)
	}
	return b.String()
}

// Unwrap lets forcesync.ErrorCode classify a CompileError as EInvalid.
func (e *CompileError) Unwrap() error {
	return &forcesync.Error{Code: forcesync.EInvalid, Message: e.Error()}
}

// Compile checks m against d, the describe of m.Object, once: every target
// field exists and may be written when the row applies; the match fields
// exist and can match; every field Salesforce requires on create has a row;
// every constant, default and value-map entry fits its field; expressions
// and the filter compile. A mapping that can never work is a *CompileError
// naming the mapping, the field and the problem.
func Compile(m forcesync.Mapping, d *salesforce.SObjectDescribe) (*Compiled, error) {
	ce := &CompileError{Mapping: m.Name, Object: m.Object}
	bad := func(field, format string, args ...any) {
		ce.Problems = append(ce.Problems, Problem{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	if err := m.Validate(); err != nil {
		bad("", "%s", strings.TrimPrefix(err.Error(), "mapping "+m.Name+": "))
		return nil, ce
	}
	if d == nil {
		bad("", "no describe of %s", m.Object)
		return nil, ce
	}
	if !strings.EqualFold(d.Name, m.Object) && d.Name != "" {
		bad("", "describe is of %s, not %s", d.Name, m.Object)
		return nil, ce
	}
	if m.Mode == "" {
		m.Mode = forcesync.KeepUpdated
	}
	if m.Mode != forcesync.KeepUpdated && m.Mode != forcesync.Once {
		bad("", "mode %q is not one of keep_updated, once", m.Mode)
	}
	if m.Operations.Delete == "" {
		m.Operations.Delete = forcesync.DeleteIgnore
	}
	c := &Compiled{m: m, object: d.Name}
	if c.object == "" {
		c.object = m.Object
	}
	create, update := c.CanCreate(), c.CanUpdate()
	if !create && !update && m.Operations.Delete != forcesync.DeleteDelete && m.Pushes() {
		bad("", "operations allow neither create, update nor delete")
	}
	if create && !d.Createable {
		bad("", "%s cannot be created (describe: createable false); set operations.create: false", c.object)
	}
	if update && !d.Updateable {
		bad("", "%s cannot be updated (describe: updateable false); set operations.update: false or mode: once", c.object)
	}
	if m.Operations.Delete == forcesync.DeleteDelete && !d.Deletable {
		bad("", "%s cannot be deleted (describe: deletable false); set operations.delete: ignore", c.object)
	}
	if m.Filter != "" {
		p, err := compileFilter(m.Filter)
		if err != nil {
			bad("", "filter %q: %s", m.Filter, oneLine(err))
		} else {
			c.filter = p
		}
	}
	c.compileLifecycle(d, bad)

	// The fields the match reads must exist and be usable for it.
	matchNames := map[string]bool{}
	switch m.Match.Kind {
	case forcesync.MatchExternalID:
		f := d.Field(m.Match.Field)
		switch {
		case f == nil:
			bad(m.Match.Field, "no such field on %s (match external_id)", c.object)
		case !f.ExternalID && !f.IDLookup:
			bad(f.Name, "cannot match by it: not an External ID (externalId or idLookup)")
		default:
			c.extField = newTarget(f)
			c.extField.noTruncate = true
			c.extCaseSensitive = f.CaseSensitive
			matchNames[strings.ToLower(f.Name)] = true
			if !f.Createable && create {
				bad(f.Name, "External ID field is not createable")
			}
		}
	case forcesync.MatchFields:
		for _, name := range m.Match.Fields {
			f := d.Field(name)
			switch {
			case f == nil:
				bad(name, "no such field on %s (match fields)", c.object)
			case !f.Filterable:
				bad(f.Name, "cannot match by it: not filterable in SOQL")
			default:
				matchNames[strings.ToLower(f.Name)] = true
				c.matchFields = append(c.matchFields, f.Name)
			}
		}
	}

	covered := map[string]bool{}
	if forcesync.IsUser(c.object) {
		m.Fields, c.password = userDefaults(m, bad)
		c.m.Fields = m.Fields
		c.fillAlias = true
		for _, fr := range m.Fields {
			c.fillAlias = c.fillAlias && !strings.EqualFold(fr.Target, "Alias")
		}
		if c.fillAlias {
			covered["alias"] = true
		}
	}
	for _, fr := range m.Fields {
		f := d.Field(fr.Target)
		if f == nil {
			bad(fr.Target, "no such field on %s", c.object)
			continue
		}
		if dir := m.RowDirection(&fr); dir != forcesync.Push {
			pol := fr.Conflict
			if pol == "" {
				pol = m.PullSettings().Conflict
			}
			c.pulls = append(c.pulls, PullField{Target: f.Name, Source: fr.SourceField, Both: dir == forcesync.Both, Policy: pol, Type: f.Type})
			if dir == forcesync.Pull {
				continue // read back only: never pushed
			}
		}
		covered[strings.ToLower(f.Name)] = true
		r := &row{t: newTarget(f), onCreate: fr.On == forcesync.OnCreate, clear: fr.ClearWhenEmpty, valueMap: fr.ValueMap}
		if fr.On != "" && fr.On != forcesync.Always && fr.On != forcesync.OnCreate {
			bad(f.Name, "on %q is not one of create, always", fr.On)
		}
		if matchNames[strings.ToLower(f.Name)] {
			r.t.noTruncate = true
		}
		problems := len(ce.Problems)
		if r.t.kind == kindUnsupported {
			bad(f.Name, "type %s cannot be written by forcesync", f.Type)
			continue
		}
		if f.Calculated || f.AutoNumber {
			bad(f.Name, "is calculated by Salesforce (formula, roll-up or auto-number) and cannot be written")
			continue
		}
		// A row is sent on create unless the mapping never creates, and on
		// update unless it is create-only or the mapping never updates.
		if create && !f.Createable {
			bad(f.Name, "is not createable; remove the row or set operations.create: false")
		}
		if !r.onCreate && update && !f.Updateable {
			bad(f.Name, "is not updateable; use on: create, mode: once or operations.update: false")
		}
		if r.onCreate && !create {
			bad(f.Name, "on: create, but the mapping never creates")
		}
		if fr.ClearWhenEmpty && !f.Nillable && f.Type != "boolean" {
			bad(f.Name, "clear_when_empty on a field that cannot be empty")
		}
		switch {
		case fr.SourceField != "":
			r.kind, r.field, r.path = fromSource, fr.SourceField, strings.Split(fr.SourceField, ".")
		case fr.HasConstant:
			r.kind, r.constant = fromConstant, fr.Constant
		case fr.Expr != "":
			p, err := compileExpr(fr.Expr)
			if err != nil {
				bad(f.Name, "expression %q: %s", fr.Expr, oneLine(err))
				continue
			}
			r.kind, r.prog = fromExpr, p
			if st := staticType(p); st != "" && !staticFits(r.t, st, len(fr.ValueMap) > 0) {
				if st == "string" {
					bad(f.Name, "expression gives text, which a %s field cannot take; write a condition instead (e.g. status == 'active')", f.Type)
				} else {
					bad(f.Name, "expression gives a %s, which a %s field cannot take", st, f.Type)
				}
			}
		case len(fr.FirstOf) > 0:
			r.kind = fromFirstOf
			for _, item := range fr.FirstOf {
				if k, ok := quoted(item); ok {
					r.chain = append(r.chain, link{constant: k, isConst: true})
					c.checkConst(r, k, "first_of constant", bad)
					continue
				}
				r.chain = append(r.chain, link{field: item, path: strings.Split(item, ".")})
			}
		}
		for from, to := range fr.ValueMap {
			if _, _, rerr := r.t.coerce(to); rerr != nil && !isEmpty(to) {
				bad(f.Name, "map %q -> %q: %s", from, to, strings.TrimPrefix(rerr.Message, r.t.label+": "))
			}
		}
		if r.kind == fromConstant {
			c.checkConst(r, r.mapped(r.constant), "value", bad)
			if len(ce.Problems) == problems {
				if !isEmpty(r.mapped(r.constant)) {
					r.constOut, r.constWarn, _ = r.t.coerce(r.mapped(r.constant))
				}
			}
		}
		if fr.Default != nil {
			if isEmpty(fr.Default) {
				bad(f.Name, "default is empty")
			} else if v, _, rerr := r.t.coerce(fr.Default); rerr != nil {
				bad(f.Name, "default %s: %s", describeValue(fr.Default), strings.TrimPrefix(rerr.Message, r.t.label+": "))
			} else {
				r.def, r.hasDef = v, true
			}
		}
		if f.RequiredOnCreate() {
			r.required = true
			c.required = append(c.required, r)
		}
		if r.onCreate {
			c.hasCreate = true
		}
		if c.extField != nil && strings.EqualFold(f.Name, c.extField.name) {
			c.extRow = r
		}
		c.rows = append(c.rows, r)
	}

	if m.Match.Kind == forcesync.MatchFields && m.Pushes() {
		for _, name := range m.Match.Fields {
			if f := d.Field(name); f != nil && !covered[strings.ToLower(f.Name)] {
				bad(f.Name, "match field has no field row to take its value from")
			}
		}
	}
	if create {
		var missing []string
		for i := range d.Fields {
			f := &d.Fields[i]
			if !f.RequiredOnCreate() || covered[strings.ToLower(f.Name)] {
				continue
			}
			if c.extField != nil && strings.EqualFold(f.Name, c.extField.name) {
				continue // the record key fills it
			}
			missing = append(missing, f.Name)
		}
		if len(missing) > 0 {
			bad("", "%s requires %s on create: add a field row (with a default if the source may lack it)", c.object, strings.Join(missing, ", "))
		}
	}
	if len(ce.Problems) > 0 {
		return nil, ce
	}
	c.version = c.fingerprintConfig(d)
	return c, nil
}

// checkConst reports a constant that can never fit the row's field.
func (c *Compiled) checkConst(r *row, v any, what string, bad func(string, string, ...any)) {
	if isEmpty(v) {
		if r.required && !r.hasDef {
			return // REQUIRED_FIELD_MISSING at run time names the record
		}
		return
	}
	if _, _, rerr := r.t.coerce(v); rerr != nil {
		bad(r.t.name, "%s %s: %s", what, describeValue(v), strings.TrimPrefix(rerr.Message, r.t.label+": "))
	}
}

// staticFits is the type-compatibility table for values whose type is known
// before any record is seen (typed expressions). Text is read by every
// field and checked per record; numbers and booleans only by fields that
// can hold them. A value map turns any type into text first.
func staticFits(t *target, typ string, mapped bool) bool {
	if mapped {
		typ = "string"
	}
	switch typ {
	case "string":
		// Text fits any field as far as the types go (numbers and dates
		// are often carried as text), except a boolean: only the exact
		// words "true" and "false" would pass, so text there is a mistake
		// that would hold records one by one.
		return t.kind != kindBoolean
	case "list":
		return t.kind == kindMultiPicklist
	case "bool":
		switch t.kind {
		case kindBoolean, kindText, kindStrictText, kindPicklist, kindMultiPicklist:
			return true
		}
		return false
	case "number":
		switch t.kind {
		case kindNumber, kindBoolean, kindText, kindStrictText, kindPicklist, kindMultiPicklist, kindDate, kindDateTime:
			return true
		}
		return false
	}
	return true
}

// quoted reads a first_of constant: text in single or double quotes.
func quoted(s string) (any, bool) {
	s = strings.TrimSpace(s)
	if len(s) >= 2 && (s[0] == '\'' && s[len(s)-1] == '\'' || s[0] == '"' && s[len(s)-1] == '"') {
		return s[1 : len(s)-1], true
	}
	return nil, false
}

func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}

// fingerprintConfig hashes what the compiled mapping depends on: the
// mapping itself and the describe facts of the fields it writes. A changed
// fingerprint is a reason to retry held records.
func (c *Compiled) fingerprintConfig(d *salesforce.SObjectDescribe) string {
	type fieldFacts struct {
		Name, Type                string
		Length, Precision, Scale  int
		Restricted                bool
		Values                    []string
		Createable, Updateable    bool
		Nillable, DefaultedCreate bool
	}
	var facts []fieldFacts
	for i := range d.Fields {
		f := &d.Fields[i]
		ff := fieldFacts{Name: f.Name, Type: f.Type, Length: f.Length, Precision: f.Precision, Scale: f.Scale,
			Restricted: f.RestrictedPicklist, Createable: f.Createable, Updateable: f.Updateable,
			Nillable: f.Nillable, DefaultedCreate: f.DefaultedOnCreate}
		for _, p := range f.PicklistValues {
			if p.Active {
				ff.Values = append(ff.Values, p.Value)
			}
		}
		facts = append(facts, ff)
	}
	slices.SortFunc(facts, func(a, b fieldFacts) int { return strings.Compare(a.Name, b.Name) })
	b, err := json.Marshal(struct {
		M forcesync.Mapping
		F []fieldFacts
	}{c.m, facts})
	if err != nil {
		// Constants are JSON values by construction; fall back to the text form.
		b = []byte(fmt.Sprintf("%#v", c.m))
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Mapping returns the mapping as compiled (mode and delete action with their
// defaults applied).
func (c *Compiled) Mapping() forcesync.Mapping { return c.m }

// Object is the Salesforce object's API name as the describe spells it.
func (c *Compiled) Object() string { return c.object }

// Version is a fingerprint of the mapping and of the describe facts it was
// compiled against, for Store.MappingVersion.
func (c *Compiled) Version() string { return c.version }

// CanCreate reports whether the mapping may create Salesforce records.
func (c *Compiled) CanCreate() bool { return !c.m.Operations.NoCreate && c.m.Pushes() }

// CanUpdate reports whether the mapping may update records it already
// created or matched: not in mode once, not with operations.update false.
func (c *Compiled) CanUpdate() bool {
	return !c.m.Operations.NoUpdate && c.m.Mode != forcesync.Once && c.m.Pushes()
}

// Pulls lists the fields read back from Salesforce (direction pull and
// both rows), in row order; nil for a push mapping.
func (c *Compiled) Pulls() []PullField { return c.pulls }

// DeletesInSalesforce reports whether a source delete deletes the twin.
func (c *Compiled) DeletesInSalesforce() bool {
	return c.m.Operations.Delete == forcesync.DeleteDelete && c.m.Pushes()
}

// ExternalIDField is the External ID field of a MatchExternalID mapping,
// as the describe spells it, or "".
func (c *Compiled) ExternalIDField() string {
	if c.extField == nil {
		return ""
	}
	return c.extField.name
}
