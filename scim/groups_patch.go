package scim

import (
	"encoding/json"
	"errors"
	"strings"
)

func errorsAs(err error, target any) bool { return errors.As(err, target) }

// patchGroup applies one PATCH operation to a Group, in the forms Okta and
// Entra ID send:
//
//	add     members            [{"value": id}, ...]   add those members
//	remove  members            [{"value": id}, ...]   remove those (Entra)
//	remove  members            (no value)             remove every member
//	remove  members[value eq "id"]                    remove that one (Okta)
//	replace members            [...]                  set the members
//	add/replace displayName | externalId   value
//	add/replace (no path)      {"displayName", "externalId", "members"}
func patchGroup(res map[string]any, op PatchOp) error {
	kind := strings.ToLower(op.Op)
	if kind != "add" && kind != "remove" && kind != "replace" {
		return errorf("invalidSyntax", "op %q is not add, remove or replace", op.Op)
	}
	var v any
	if len(op.Value) > 0 {
		if err := json.Unmarshal(op.Value, &v); err != nil {
			return errorf("invalidValue", "value is not valid JSON: %v", err)
		}
	}
	path := strings.TrimSpace(op.Path)
	if strings.HasPrefix(strings.ToLower(path), strings.ToLower(SchemaGroup)+":") {
		path = path[len(SchemaGroup)+1:]
	}
	lower := strings.ToLower(path)
	switch {
	case path == "":
		obj, ok := v.(map[string]any)
		if !ok || kind == "remove" {
			return errorf("noTarget", "%s without a path needs an object value", op.Op)
		}
		for k, val := range obj {
			if strings.EqualFold(k, "members") {
				raw, _ := json.Marshal(val)
				if err := patchGroup(res, PatchOp{Op: kind, Path: "members", Value: raw}); err != nil {
					return err
				}
				continue
			}
			if err := setGroupAttr(res, k, val); err != nil {
				return err
			}
		}
		return nil
	case lower == "members":
		ids, err := valueIDs(v)
		if err != nil {
			return err
		}
		cur := memberIDs(res)
		switch kind {
		case "add":
			for _, id := range ids {
				if !containsStr(cur, id) {
					cur = append(cur, id)
				}
			}
		case "replace":
			cur = ids
		case "remove":
			if v == nil {
				cur = nil
			} else {
				var keep []string
				for _, id := range cur {
					if !containsStr(ids, id) {
						keep = append(keep, id)
					}
				}
				cur = keep
			}
		}
		setMembers(res, cur)
		return nil
	case strings.HasPrefix(lower, "members["):
		if kind != "remove" {
			return errorf("invalidPath", "only remove takes a members filter path")
		}
		end := strings.LastIndex(path, "]")
		if end < 0 || end != len(path)-1 {
			return errorf("invalidPath", "path %q: a filter path ends with ]", path)
		}
		f, err := ParseFilter(path[len("members[") : len(path)-1])
		if err != nil {
			return err
		}
		var keep []string
		for _, id := range memberIDs(res) {
			if !f.Match(map[string]any{"value": id, "type": "User"}) {
				keep = append(keep, id)
			}
		}
		setMembers(res, keep)
		return nil
	default:
		if kind == "remove" {
			if k, ok := attrKey(res, path); ok && !strings.EqualFold(path, "displayName") {
				delete(res, k)
				return nil
			}
			return errorf("mutability", "cannot remove %q", path)
		}
		return setGroupAttr(res, path, v)
	}
}

func setGroupAttr(res map[string]any, name string, v any) error {
	switch strings.ToLower(name) {
	case "displayname", "externalid":
		s, ok := v.(string)
		if !ok {
			return errorf("invalidValue", "%s must be a string", name)
		}
		if k, ok := attrKey(res, name); ok {
			delete(res, k)
		}
		res[map[string]string{"displayname": "displayName", "externalid": "externalId"}[strings.ToLower(name)]] = s
		return nil
	case "id", "meta", "schemas":
		return nil // not the client's to set
	}
	return errorf("invalidPath", "Groups have no attribute %q here (displayName, externalId, members)", name)
}

// valueIDs reads a members value: a list of {"value": id} (or one).
func valueIDs(v any) ([]string, error) {
	var list []any
	switch x := v.(type) {
	case nil:
		return nil, nil
	case []any:
		list = x
	case map[string]any:
		list = []any{x}
	default:
		return nil, errorf("invalidValue", "members must be a list of {\"value\": id}")
	}
	var out []string
	for _, m := range list {
		mm, ok := m.(map[string]any)
		id, _ := attr(mm, "value").(string)
		if !ok || id == "" {
			return nil, errorf("invalidValue", "each member needs a value (the User's id)")
		}
		out = append(out, id)
	}
	return out, nil
}

func setMembers(res map[string]any, ids []string) {
	if k, ok := attrKey(res, "members"); ok {
		delete(res, k)
	}
	if len(ids) == 0 {
		return
	}
	ms := make([]any, len(ids))
	for i, id := range ids {
		ms[i] = map[string]any{"value": id, "type": "User"}
	}
	res["members"] = ms
}

func containsStr(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// PatchGroup applies one PATCH operation to a Group resource (see
// patchGroup); exported for the fuzz test.
func PatchGroup(res map[string]any, op PatchOp) error { return patchGroup(res, op) }
