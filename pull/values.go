package pull

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/forcesync/forcesync/mapping"
)

// same compares two values of a field of type typ (mapping.SameValue).
func same(typ string, a, b any) bool { return mapping.SameValue(typ, a, b) }

// empty reports a value the application or Salesforce does not have:
// none, or an empty string.
func empty(v any) bool { return v == nil || v == "" }

// plain turns a pulled value into what the application receives: JSON
// numbers as json.Number, the rest as is.
func plain(v any) any {
	if f, ok := v.(float64); ok {
		return json.Number(fmt.Sprint(f))
	}
	return v
}

// getPath reads a dot path of a record's fields (the key as written
// first, as package mapping reads it).
func getPath(fields map[string]any, path string) any {
	if v, ok := fields[path]; ok {
		return v
	}
	var cur any = fields
	for _, p := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[p]
	}
	return cur
}

// setPath writes a dot path, creating nested objects; a key as written
// that exists already is overwritten in place.
func setPath(fields map[string]any, path string, v any) {
	if _, ok := fields[path]; ok || !strings.Contains(path, ".") {
		fields[path] = v
		return
	}
	parts := strings.Split(path, ".")
	cur := fields
	for _, p := range parts[:len(parts)-1] {
		next, ok := cur[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			cur[p] = next
		}
		cur = next
	}
	cur[parts[len(parts)-1]] = v
}

// clone copies a record's fields deeply enough for setPath.
func clone(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if sub, ok := v.(map[string]any); ok {
			v = clone(sub)
		}
		out[k] = v
	}
	return out
}
