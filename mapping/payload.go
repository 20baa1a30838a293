package mapping

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/expr-lang/expr"
	forcesync "github.com/forcesync/forcesync"
)

// Payload is one source record translated for Salesforce.
type Payload struct {
	// Fields are the Salesforce field values, JSON-ready: string,
	// json.Number, bool, or nil to clear the field (updates only). For a
	// MatchExternalID mapping it includes the External ID field, as
	// Collections and Bulk upserts need; a single-record REST upsert puts
	// that value in the URL instead.
	Fields map[string]any
	// ExternalID is the External ID value (MatchExternalID), "" otherwise.
	ExternalID string
	// Match holds the values a record is found by: {ExternalIDField: value}
	// or, for MatchFields, each match field that has a value (a match field
	// without a value is absent: the record cannot be looked up by it).
	Match map[string]string
	// Warnings note what forcesync changed to make the record fit, e.g.
	// "Description truncated from 40000 to 32000 characters".
	Warnings []string
	// Fingerprint is a SHA-256 (hex) of Fields as canonical JSON: keys
	// sorted, one fixed encoding per value. Equal payloads, equal prints.
	Fingerprint string
	// UpdateFingerprint is the Fingerprint the update payload of the same
	// record would have (create-only rows and create-time omissions left
	// out). Store it in the binding after a create, so the next unchanged
	// update is skipped rather than sent once for nothing. For an update
	// payload it equals Fingerprint.
	UpdateFingerprint string
}

// Filter reports whether the mapping takes the record: the filter
// expression's result, or true without a filter. An expression that fails
// on this record is a *forcesync.RecordError with code EXPRESSION_ERROR.
func (c *Compiled) Filter(fields map[string]any) (bool, error) {
	if c.filter == nil {
		return true, nil
	}
	out, err := expr.Run(c.filter, env(fields))
	if err != nil {
		return false, &forcesync.RecordError{Code: CodeExpressionError, Message: "filter: " + oneLine(err)}
	}
	b, ok := out.(bool)
	if !ok {
		return false, &forcesync.RecordError{Code: CodeExpressionError, Message: fmt.Sprintf("filter gave %T, not a boolean", out)}
	}
	return b, nil
}

// Payload translates a record for a create (create true: every row) or an
// update (create-only rows left out). The External ID value comes from the
// row that targets the External ID field; mappings that take it from the
// record key use PayloadFor.
func (c *Compiled) Payload(fields map[string]any, create bool) (Payload, error) {
	return c.PayloadFor("", fields, create)
}

// PayloadFor is Payload with the record's key, which fills the External ID
// field of a MatchExternalID mapping that has no row for it.
//
// Errors are *forcesync.RecordError when the record cannot fit (Salesforce
// would refuse it): the engine holds it without an API call. Codes:
// REQUIRED_FIELD_MISSING, STRING_TOO_LONG, INVALID_EMAIL_ADDRESS,
// INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST, NUMBER_OUTSIDE_VALID_RANGE,
// INVALID_TYPE_ON_FIELD_IN_RECORD, MALFORMED_ID, EXPRESSION_ERROR.
func (c *Compiled) PayloadFor(key string, fields map[string]any, create bool) (Payload, error) {
	p := Payload{Fields: make(map[string]any, len(c.rows)+1)}
	// update holds values only an update would send differently: nils
	// (omitted on create) and create-only rows (omitted on update).
	var update map[string]any
	differs := false
	var missing []string
	for _, r := range c.rows {
		if r.onCreate && !create {
			continue
		}
		v, set, warn, rerr := c.value(r, fields)
		if rerr != nil {
			return Payload{}, rerr
		}
		if warn != "" {
			p.Warnings = append(p.Warnings, warn)
		}
		if create && r.required && (!set || v == nil) {
			missing = append(missing, r.t.name)
			continue
		}
		if !set {
			continue
		}
		if create && (r.onCreate || v == nil) {
			differs = true
		}
		if v == nil && create {
			if update == nil {
				update = map[string]any{}
			}
			update[r.t.name] = nil
			continue
		}
		p.Fields[r.t.name] = v
	}
	c.usernameSuffix(p.Fields)
	if len(missing) > 0 {
		return Payload{}, &forcesync.RecordError{Code: CodeRequiredFieldMissing,
			Message: "Required fields are missing: [" + strings.Join(missing, ", ") + "]", Fields: missing}
	}
	if c.extField != nil {
		if err := c.externalID(&p, key); err != nil {
			return Payload{}, err
		}
	}
	for _, name := range c.matchFields {
		if v, ok := p.Fields[name]; ok && v != nil {
			if p.Match == nil {
				p.Match = map[string]string{}
			}
			s, _ := text(v)
			p.Match[name] = s
		}
	}
	p.Fingerprint, p.UpdateFingerprint = c.fingerprints(p.Fields, update, create && differs)
	return p, nil
}

// externalID sets the External ID value of p from its row or from key.
func (c *Compiled) externalID(p *Payload, key string) error {
	name := c.extField.name
	if c.extRow == nil {
		if strings.TrimSpace(key) != "" {
			v, _, rerr := c.extField.coerce(key)
			if rerr != nil {
				return rerr
			}
			p.Fields[name] = v
		}
	}
	v, ok := p.Fields[name]
	s, _ := text(v)
	if !ok || v == nil || strings.TrimSpace(s) == "" {
		return &forcesync.RecordError{Code: CodeRequiredFieldMissing,
			Message: "External ID " + name + " has no value: the record cannot be upserted", Fields: []string{name}}
	}
	p.ExternalID = s
	p.Match = map[string]string{name: s}
	return nil
}

// value computes one row: the coerced value, whether the row sends
// anything (an empty value without default or clear sends nothing), a
// warning, or the record error.
func (c *Compiled) value(r *row, fields map[string]any) (any, bool, string, *forcesync.RecordError) {
	var raw any
	switch r.kind {
	case fromConstant:
		if r.constOut != nil {
			return r.constOut, true, r.constWarn, nil
		}
		raw = r.mapped(r.constant)
	case fromSource:
		raw = r.mapped(lookup(fields, r.field, r.path))
	case fromExpr:
		out, err := expr.Run(r.prog, env(fields))
		if err != nil {
			return nil, false, "", &forcesync.RecordError{Code: CodeExpressionError,
				Message: r.t.name + ": expression failed: " + oneLine(err), Fields: []string{r.t.name}}
		}
		raw = r.mapped(out)
	case fromFirstOf:
		for _, l := range r.chain {
			v := l.constant
			if !l.isConst {
				v = lookup(fields, l.field, l.path)
			}
			if v = r.mapped(v); !isEmpty(v) {
				raw = v
				break
			}
		}
	}
	if isEmpty(raw) {
		switch {
		case r.hasDef:
			return r.def, true, "", nil
		case r.clear:
			return nil, true, "", nil
		}
		return nil, false, "", nil
	}
	v, warn, rerr := r.t.coerce(raw)
	if rerr != nil {
		return nil, false, "", rerr
	}
	return v, true, warn, nil
}

// mapped applies the row's value map: a scalar whose text is a key becomes
// the mapped value; a list is mapped element by element; anything else is
// left as is (a restricted picklist still refuses it later).
func (r *row) mapped(v any) any {
	if len(r.valueMap) == 0 || v == nil {
		return v
	}
	if list, ok := v.([]any); ok {
		out := make([]any, len(list))
		for i, e := range list {
			out[i] = r.mapped(e)
		}
		return out
	}
	s, ok := text(v)
	if !ok {
		return v
	}
	if to, ok := r.valueMap[s]; ok {
		return to
	}
	if to, ok := r.valueMap[strings.TrimSpace(s)]; ok {
		return to
	}
	return v
}

// lookup reads a source field: the key as written first (keys may contain
// dots), then the dot path through nested objects.
func lookup(fields map[string]any, key string, path []string) any {
	if v, ok := fields[key]; ok || len(path) < 2 {
		return v
	}
	var cur any = fields
	for _, p := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[p]
	}
	return cur
}

func env(fields map[string]any) map[string]any {
	if fields == nil {
		return map[string]any{}
	}
	return fields
}

// fingerprints hashes fields as canonical JSON, and, when split is set,
// also the update form of the same record: fields without create-only rows,
// plus the clears in update. One sort, one pass, no intermediate JSON.
func (c *Compiled) fingerprints(fields, update map[string]any, split bool) (string, string) {
	keys := make([]string, 0, len(fields)+len(update))
	for k := range fields {
		keys = append(keys, k)
	}
	for k := range update {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	full := canonical{h: sha256.New()}
	var up canonical
	if split {
		up = canonical{h: sha256.New()}
	}
	full.open()
	up.open()
	for _, k := range keys {
		v, inFull := fields[k]
		if inFull {
			full.pair(k, v)
		}
		if split && !c.createOnly(k) {
			up.pair(k, v) // v is nil for the clears only an update sends
		}
	}
	a := full.sum()
	if !split {
		return a, a
	}
	return a, up.sum()
}

func (c *Compiled) createOnly(name string) bool {
	for _, r := range c.rows {
		if r.onCreate && r.t.name == name {
			return true
		}
	}
	return false
}

// canonical writes a JSON object with sorted keys into a hash, byte for
// byte what encoding/json would write for the map (same string escapes,
// invalid UTF-8 as U+FFFD), without its reflection and sorting cost. A nil
// hash writes nothing.
type canonical struct {
	h   hash.Hash
	n   int
	buf []byte
}

func (w *canonical) open() {
	if w.h != nil {
		w.buf = append(w.buf[:0], '{')
	}
}

func (w *canonical) pair(k string, v any) {
	if w.h == nil {
		return
	}
	if w.n > 0 {
		w.buf = append(w.buf, ',')
	}
	w.n++
	w.buf = appendJSONString(w.buf, k)
	w.buf = append(w.buf, ':')
	switch x := v.(type) {
	case nil:
		w.buf = append(w.buf, "null"...)
	case bool:
		w.buf = strconv.AppendBool(w.buf, x)
	case json.Number:
		w.buf = append(w.buf, x...)
	case string:
		w.buf = appendJSONString(w.buf, x)
	default:
		// Coercion yields only the types above; anything else is hashed by
		// its Go form rather than silently dropped.
		w.buf = appendJSONString(w.buf, fmt.Sprintf("%T:%v", v, v))
	}
	if len(w.buf) > 4096 {
		w.h.Write(w.buf)
		w.buf = w.buf[:0]
	}
}

func (w *canonical) sum() string {
	w.buf = append(w.buf, '}')
	w.h.Write(w.buf)
	var out [sha256.Size]byte
	return hex.EncodeToString(w.h.Sum(out[:0]))
}

func appendJSONString(b []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20 || c == '<' || c == '>' || c == '&':
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, "\\ufffd"...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
		default:
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}
