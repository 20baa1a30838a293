package scim

import (
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
)

// salvage returns a copy of stored, the resource of a record whose stored
// fields cannot be read back, as far as it can be read: the store decodes
// such fields keeping each number a float64 cannot hold as a json.Number
// (every other value as a plain decode has it), and salvage leaves those
// numbers out. dropped names each one left out by its path (attribute
// names joined by dots, an element of a list by its index), never its
// value. It returns nil for a nil stored.
//
// What is left is the record as stored, less values that nothing could
// use (the engine holds a record that carries them): a deactivation or a
// delete of the User, and a change of the Group, write it back readable.
func salvage(stored map[string]any) (res map[string]any, dropped []string) {
	if stored == nil {
		return nil, nil
	}
	v := salvageValue(cloneValue(stored), "", &dropped)
	return v.(map[string]any), dropped
}

func salvageValue(v any, path string, dropped *[]string) any {
	switch x := v.(type) {
	case map[string]any:
		for k, child := range x {
			p := k
			if path != "" {
				p = path + "." + k
			}
			if _, bad := child.(json.Number); bad {
				delete(x, k)
				*dropped = append(*dropped, p)
				continue
			}
			x[k] = salvageValue(child, p, dropped)
		}
		return x
	case []any:
		out := x[:0]
		for i, child := range x {
			p := path + "." + strconv.Itoa(i)
			if _, bad := child.(json.Number); bad {
				*dropped = append(*dropped, p)
				continue
			}
			out = append(out, salvageValue(child, p, dropped))
		}
		return out
	}
	return v
}

// droppedAttr reports whether one of dropped (salvage's paths) is within
// the top-level attribute name, whatever its case.
func droppedAttr(dropped []string, name string) bool {
	for _, p := range dropped {
		top, _, _ := strings.Cut(p, ".")
		if strings.EqualFold(top, name) {
			return true
		}
	}
	return false
}

// deactivates reports whether after is before made inactive and nothing
// else: active false in after, and every other attribute as in before.
// A PATCH of a User whose stored fields cannot be read back is accepted
// when it does only this, in whatever form the identity provider sends
// it (Entra ID's "replace" of path active with "False", Okta's pathless
// "replace" of {"active": false}).
func deactivates(before, after map[string]any) bool {
	if active, ok := attr(after, "active").(bool); !ok || active {
		return false
	}
	b, a := cloneResource(before), cloneResource(after)
	for _, m := range []map[string]any{b, a} {
		if k, ok := attrKey(m, "active"); ok {
			delete(m, k)
		}
	}
	return reflect.DeepEqual(b, a)
}
