package emulator

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"
)

// versionOf returns the API version of a call ("65.0"), or the newest.
func versionOf(c *call) string {
	if c != nil && c.version != "" {
		return c.version
	}
	return strconv.Itoa(MaxVersion) + ".0"
}

// recordURL is the relative REST URL of a record.
func recordURL(c *call, obj *sobject, id string) string {
	return "/services/data/v" + versionOf(c) + "/sobjects/" + obj.Name + "/" + id
}

// jsonValue renders a stored value of f as the REST API does: datetimes as
// 2024-05-01T12:34:56.000+0000, doubles with a decimal point (1000.0), ints
// without, text, dates and booleans as they are.
func jsonValue(f *field, v any) any {
	switch x := v.(type) {
	case nil:
		return nil
	case time.Time:
		return formatDateTime(x)
	case float64:
		if f.Type == "int" {
			return json.Number(strconv.FormatInt(int64(x), 10))
		}
		if math.Trunc(x) == x && math.Abs(x) < 1e15 {
			return json.Number(strconv.FormatFloat(x, 'f', 1, 64))
		}
		return json.Number(strconv.FormatFloat(x, 'f', -1, 64))
	}
	return v
}

// orderedRecord is a record rendered with its keys in Salesforce's order
// (attributes first, then fields in describe or request order).
type orderedRecord struct {
	keys []string
	vals []any
}

// MarshalJSON writes the keys in order.
func (o *orderedRecord) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range o.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteByte(':')
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(o.vals[i]); err != nil {
			return nil, err
		}
		b.Write(bytes.TrimRight(buf.Bytes(), "\n"))
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// renderOrderedLocked renders r with the named fields (nil = every field,
// in describe order). Unknown names are skipped; callers validate them.
func (e *Emulator) renderOrderedLocked(c *call, r *record, fields []string) *orderedRecord {
	obj := r.obj
	n := len(fields)
	if fields == nil {
		n = len(obj.Fields)
	}
	out := &orderedRecord{keys: make([]string, 0, n+1), vals: make([]any, 0, n+1)}
	out.keys = append(out.keys, "attributes")
	out.vals = append(out.vals, map[string]any{"type": obj.Name, "url": recordURL(c, obj, r.ID)})
	add := func(f *field) {
		out.keys = append(out.keys, f.Name)
		out.vals = append(out.vals, jsonValue(f, r.get(f)))
	}
	if fields == nil {
		for _, f := range obj.Fields {
			add(f)
		}
		return out
	}
	seen := make(map[*field]bool, len(fields))
	for _, name := range fields {
		if f := obj.field(strings.TrimSpace(name)); f != nil && !seen[f] {
			seen[f] = true
			add(f)
		}
	}
	return out
}

// renderRecordLocked renders r as Salesforce returns it: "attributes"
// {type, url} plus the named fields (nil = every field) with nulls as nil,
// datetimes as strings and numbers as json.Number.
func (e *Emulator) renderRecordLocked(c *call, r *record, fields []string) map[string]any {
	o := e.renderOrderedLocked(c, r, fields)
	m := make(map[string]any, len(o.keys))
	for i, k := range o.keys {
		m[k] = o.vals[i]
	}
	return m
}
