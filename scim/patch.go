package scim

// SCIM PATCH (RFC 7644 §3.5.2) applied to resources held as map[string]any.
//
// Paths may name an attribute (title), a sub-attribute (name.givenName), a
// URN-qualified attribute (urn:...:enterprise:2.0:User:department), a whole
// extension (urn:...:enterprise:2.0:User) or elements of a multi-valued
// attribute through a value filter, optionally with a sub-attribute
// (emails[type eq "work"].value). Attribute names match case-insensitively.
//
// Besides the RFC, this accepts what identity providers are known to send:
//   - op names in any case ("Add", "Replace", "Remove" from Microsoft Entra);
//   - "True"/"False" strings, in any case, for the boolean attributes
//     active and primary, stored as booleans;
//   - a plain string for manager, stored as {"value": string} (an empty
//     string unassigns the manager);
//   - add on a value-filter path that matches no element: a new element is
//     built from the filter's `sub eq literal` terms plus the value, so
//     add emails[type eq "work"].value "a@b.c" creates
//     {"type": "work", "value": "a@b.c"};
//   - remove of a multi-valued attribute with a value, which removes only the
//     listed values (Entra removes group members that way);
//   - attribute paths as keys of a pathless add/replace value, such as
//     {"name.givenName": "x"}, {"emails[type eq \"work\"].value": "x"} or
//     a URN-qualified attribute name.
//
// A JSON null value, in a pathless object or with a path, unassigns the
// target (RFC 7643 §2.5) instead of storing null.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"

	filter "github.com/scim2/filter-parser/v2"
)

// PatchOp is one operation of a SCIM PATCH request (RFC 7644 §3.5.2).
type PatchOp struct {
	Op    string          `json:"op"`
	Path  string          `json:"path,omitempty"`
	Value json.RawMessage `json:"value,omitempty"`
}

// ApplyPatch applies ops in order to res, modifying it in place. On error res
// may be partly modified, so callers should patch a copy. It never changes
// "id", "meta" or "schemas": a path naming one of them fails with scimType
// mutability, and those attributes are skipped in a pathless value. Every
// error it returns is an *Error whose detail names the failing operation.
func ApplyPatch(res map[string]any, ops []PatchOp) error {
	if res == nil {
		return errorf("noTarget", "no resource to patch")
	}
	for i, op := range ops {
		if err := applyPatchOp(res, op); err != nil {
			err.Detail = fmt.Sprintf("operation %d: %s", i+1, err.Detail)
			return err
		}
	}
	return nil
}

// patchKind is a PATCH op name in lower case.
type patchKind string

const (
	patchAdd     patchKind = "add"
	patchReplace patchKind = "replace"
	patchRemove  patchKind = "remove"
)

// pathSyntaxHint describes the expected shape of a PATCH path.
const pathSyntaxHint = `expected "attr", "attr.sub", "urn:...:attr" or "attr[filter].sub"`

// patchTarget is a parsed PATCH path.
type patchTarget struct {
	ext    string  // URN of the extension holding the attribute; "" for core attributes
	attr   string  // attribute name; "" when the path names a whole schema (ext, or the resource itself when ext is "")
	filter *Filter // value filter selecting elements of a multi-valued attribute, or nil
	sub    string  // sub-attribute, or ""
	text   string  // the path as written, shortened for messages
}

// readOnly reports whether t names id, meta or schemas, which PATCH must not
// change (or, defensively, reaches into one of them as if it were an
// extension).
func (t patchTarget) readOnly() bool {
	for _, name := range []string{"id", "meta", "schemas"} {
		if strings.EqualFold(t.ext, name) || (t.ext == "" && strings.EqualFold(t.attr, name)) {
			return true
		}
	}
	return false
}

// applyPatchOp applies one operation to res.
func applyPatchOp(res map[string]any, op PatchOp) *Error {
	kind := patchKind(strings.ToLower(strings.TrimSpace(op.Op)))
	switch kind {
	case patchAdd, patchReplace, patchRemove:
	default:
		return errorf("invalidSyntax", "unknown op %q: want add, replace or remove", snippet(op.Op))
	}
	value, hasValue, err := decodePatchValue(op.Value)
	if err != nil {
		return err
	}
	path := strings.TrimSpace(op.Path)
	if path == "" {
		if kind == patchRemove {
			return errorf("noTarget", "remove needs a path")
		}
		obj, ok := value.(map[string]any)
		if !ok {
			return errorf("invalidValue", "%s without a path needs an object of attributes as its value", kind)
		}
		return writeResource(res, kind, obj)
	}
	t, err := parsePatchPath(res, path)
	if err != nil {
		return err
	}
	if t.readOnly() {
		return errorf("mutability", "attribute %q cannot be changed", t.text)
	}
	if kind == patchRemove {
		return removeTarget(res, t, value)
	}
	if !hasValue {
		return errorf("invalidValue", "%s of %q needs a value", kind, t.text)
	}
	return writeTarget(res, kind, t, value)
}

// decodePatchValue decodes an operation's value. hasValue is false when the
// operation carries no value at all; a JSON null decodes to nil with
// hasValue true.
func decodePatchValue(raw json.RawMessage) (v any, hasValue bool, err *Error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil, false, nil
	}
	if jerr := json.Unmarshal(raw, &v); jerr != nil {
		return nil, false, errorf("invalidSyntax", "value is not valid JSON: %v", jerr)
	}
	return v, true, nil
}

// parsePatchPath parses a PATCH path (or an attribute name used as a key of
// a pathless value) into a target within res.
func parsePatchPath(res map[string]any, path string) (patchTarget, *Error) {
	if msg := checkFilterText(path); msg != "" {
		return patchTarget{}, errorf("invalidPath", "path %q: %s", snippet(path), msg)
	}
	if isWholeSchemaURN(res, path) {
		if isCoreSchemaURN(path) {
			return patchTarget{text: snippet(path)}, nil
		}
		return patchTarget{ext: path, text: snippet(path)}, nil
	}
	p, err := callParser(func() (filter.Path, error) {
		return filter.ParsePathNumber([]byte(path))
	})
	if err != nil {
		return patchTarget{}, errorf("invalidPath", "path %q: %s", snippet(path), describeParseError(path, err, pathSyntaxHint))
	}
	ap := p.AttributePath
	t := patchTarget{attr: ap.AttributeName, text: snippet(path)}
	if uri := ap.URIPrefix; uri != nil && !isCoreSchemaURN(*uri) {
		if len(*uri) < 4 || !strings.EqualFold((*uri)[:4], "urn:") {
			return patchTarget{}, errorf("invalidPath", "path %q: schema prefix %q is not a URN", snippet(path), snippet(*uri))
		}
		t.ext = *uri
	}
	if p.ValueExpression == nil {
		if ap.SubAttribute != nil {
			t.sub = *ap.SubAttribute
		}
		return t, nil
	}
	if ap.SubAttribute != nil {
		return patchTarget{}, errorf("invalidPath", "path %q: a value filter must follow a top-level attribute name", snippet(path))
	}
	if err := prepareExpr(p.ValueExpression); err != nil {
		return patchTarget{}, errorf("invalidPath", "path %q: %v", snippet(path), err)
	}
	t.filter = &Filter{expr: p.ValueExpression}
	if p.SubAttribute != nil {
		t.sub = *p.SubAttribute
	}
	return t, nil
}

// isWholeSchemaURN reports whether s names a schema rather than an attribute
// in it: a URN that is a key of res, is listed in res's schemas, or ends in
// ":<version>:<Resource>" like "urn:...:enterprise:2.0:User".
func isWholeSchemaURN(res map[string]any, s string) bool {
	if len(s) < 4 || !strings.EqualFold(s[:4], "urn:") {
		return false
	}
	if _, ok := attrKey(res, s); ok {
		return true
	}
	if schemas, ok := getAttr(res, "schemas"); ok {
		for _, v := range flatten(schemas) {
			if str, ok := v.(string); ok && strings.EqualFold(str, s) {
				return true
			}
		}
	}
	segs := strings.Split(s, ":")
	return len(segs) >= 3 && segs[len(segs)-1] != "" && isVersion(segs[len(segs)-2])
}

// isVersion reports whether s looks like a schema version such as "2.0".
func isVersion(s string) bool {
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' {
		return false
	}
	for _, r := range s {
		if (r < '0' || r > '9') && r != '.' {
			return false
		}
	}
	return true
}

// writeResource applies a pathless add or replace: each attribute of obj is
// written as if it were the operation's path. That includes value-filter
// paths: Entra ID (with its aadOptscim062020 flag) sends
// {"op":"replace","value":{"emails[type eq \"work\"].value":"x"}}.
func writeResource(res map[string]any, kind patchKind, obj map[string]any) *Error {
	for _, key := range slices.Sorted(maps.Keys(obj)) {
		t, err := parsePatchPath(res, key)
		if err != nil {
			return errorf("invalidValue", "attribute %q in value: %s", snippet(key), err.Detail)
		}
		if t.readOnly() {
			continue // read-only attributes in a pathless value are ignored
		}
		if err := writeTarget(res, kind, t, obj[key]); err != nil {
			return err
		}
	}
	return nil
}

// writeTarget performs an add or replace of v at t.
func writeTarget(res map[string]any, kind patchKind, t patchTarget, v any) *Error {
	if t.attr == "" {
		if t.ext == "" {
			obj, ok := v.(map[string]any)
			if !ok {
				return errorf("invalidValue", "value for %q must be an object", t.text)
			}
			return writeResource(res, kind, obj)
		}
		return writeExtension(res, kind, t, v)
	}
	c, err := extensionContainer(res, t.ext, v != nil)
	if err != nil {
		return err
	}
	if c == nil { // unassigning in a missing extension
		if t.filter != nil && kind == patchReplace {
			return errorf("noTarget", "no value of %q matches %q", t.attr, t.text)
		}
		return nil
	}
	defer pruneExtension(res, t.ext)
	switch {
	case t.filter != nil:
		return writeFiltered(c, kind, t, v)
	case t.sub != "":
		return writeSub(c, t, v)
	default:
		return writeWhole(c, kind, t.attr, v)
	}
}

// writeExtension adds or replaces attributes of a whole extension object;
// like any complex attribute, attributes not in v are left alone.
func writeExtension(res map[string]any, kind patchKind, t patchTarget, v any) *Error {
	if v == nil {
		deleteAttr(res, t.ext)
		return nil
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return errorf("invalidValue", "value for %q must be an object", t.text)
	}
	c, err := extensionContainer(res, t.ext, true)
	if err != nil {
		return err
	}
	defer pruneExtension(res, t.ext)
	for _, key := range slices.Sorted(maps.Keys(obj)) {
		if err := writeWhole(c, kind, key, obj[key]); err != nil {
			return err
		}
	}
	return nil
}

// extensionContainer returns the object holding the attributes of schema
// ext: res itself for core attributes, else res's extension object, created
// when missing if create is set. It returns nil, nil when the extension is
// missing and create is false.
func extensionContainer(res map[string]any, ext string, create bool) (map[string]any, *Error) {
	if ext == "" {
		return res, nil
	}
	v, ok := getAttr(res, ext)
	if !ok || v == nil {
		if !create {
			return nil, nil
		}
		m := map[string]any{}
		setAttr(res, ext, m)
		return m, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, errorf("invalidPath", "extension %q is not an object", snippet(ext))
	}
	return m, nil
}

// pruneExtension drops extension ext from res once it holds no attributes.
func pruneExtension(res map[string]any, ext string) {
	if ext == "" {
		return
	}
	if m, ok := getAttr(res, ext); ok {
		if m, ok := m.(map[string]any); ok && len(m) == 0 {
			deleteAttr(res, ext)
		}
	}
}

// writeWhole adds or replaces attribute name of c with v: multi-valued
// attributes gain values (add) or are replaced (replace), complex ones are
// merged sub-attribute by sub-attribute, others are set.
func writeWhole(c map[string]any, kind patchKind, name string, v any) *Error {
	v, err := normalizeValue(name, v)
	if err != nil {
		return err
	}
	if v == nil {
		deleteAttr(c, name)
		return nil
	}
	existing, exists := getAttr(c, name)
	if isMultiValuedTarget(name, existing, exists, v) {
		return writeMulti(c, kind, name, existing, v)
	}
	obj, isObj := v.(map[string]any)
	if !isObj {
		if isComplexAttr(name) {
			return errorf("invalidValue", "%q takes an object, got %s", name, jsonKind(v))
		}
		setAttr(c, name, v)
		return nil
	}
	cur, ok := existing.(map[string]any)
	if !ok {
		cur = map[string]any{}
	}
	mergeAttrs(cur, obj)
	if len(cur) == 0 {
		deleteAttr(c, name)
		return nil
	}
	setAttr(c, name, cur)
	return nil
}

// writeMulti adds values to, or replaces, multi-valued attribute name of c.
// v is one value or an array of them. Adding a value the attribute already
// holds does not duplicate it (RFC 7644 §3.5.2.1): an object whose "value"
// (and "type", when both have one) equals an existing element's is merged
// into that element, and any other value already present is left alone.
func writeMulti(c map[string]any, kind patchKind, name string, existing, v any) *Error {
	var items []any
	for _, item := range flatten(v) {
		switch item := item.(type) {
		case nil:
			continue
		case map[string]any:
			dropNulls(item)
			if len(item) == 0 {
				continue
			}
		default:
			if isComplexMultiValuedAttr(name) {
				return errorf("invalidValue", "values of %q must be objects, got %s", name, jsonKind(item))
			}
		}
		items = append(items, item)
	}
	var arr []any
	var touched []int
	if kind == patchAdd {
		switch e := existing.(type) {
		case []any:
			arr = e
		case nil:
		default:
			arr = []any{e}
		}
		for _, item := range items {
			if i := slices.IndexFunc(arr, func(have any) bool { return sameValue(have, item) }); i >= 0 {
				mergeAttrs(arr[i].(map[string]any), item.(map[string]any))
				touched = append(touched, i)
				continue
			}
			if i := slices.IndexFunc(arr, func(have any) bool { return holdsValue(have, item) }); i >= 0 {
				touched = append(touched, i)
				continue
			}
			arr = append(arr, item)
			touched = append(touched, len(arr)-1)
		}
	} else {
		arr = items
		for i := range arr {
			touched = append(touched, i)
		}
	}
	keepOnePrimary(arr, touched)
	storeMulti(c, name, arr)
	return nil
}

// writeSub adds or replaces sub-attribute t.sub of the complex attribute
// t.attr of c, creating the attribute when missing.
func writeSub(c map[string]any, t patchTarget, v any) *Error {
	v, err := normalizeValue(t.sub, v)
	if err != nil {
		return err
	}
	if err := checkSimple(t.sub, v); err != nil {
		return err
	}
	existing, _ := getAttr(c, t.attr)
	switch e := existing.(type) {
	case map[string]any:
		if v == nil {
			deleteAttr(e, t.sub)
			if len(e) == 0 {
				deleteAttr(c, t.attr)
			}
			return nil
		}
		setAttr(e, t.sub, v)
		return nil
	case []any:
		return needsFilter(t)
	case nil:
		if isMultiValuedAttr(t.attr) {
			return needsFilter(t)
		}
		if v != nil {
			setAttr(c, t.attr, map[string]any{t.sub: v})
		}
		return nil
	default:
		return errorf("invalidPath", "attribute %q has no sub-attributes", t.attr)
	}
}

// writeFiltered adds or replaces the elements of multi-valued attribute
// t.attr of c that match t.filter, or their sub-attribute t.sub. When none
// matches, replace fails with noTarget and add creates an element from the
// filter's equality terms. Replace does the same when the filter can make
// an element: Entra ID sends Replace on addresses[type eq "work"].formatted
// for a User without a work address, meaning "set it" (a documented
// leniency; RFC 7644 §3.5.2.3 would answer noTarget).
func writeFiltered(c map[string]any, kind patchKind, t patchTarget, v any) *Error {
	existing, _ := getAttr(c, t.attr)
	arr, err := elementsOf(t, existing)
	if err != nil {
		return err
	}
	name := t.attr
	if t.sub != "" {
		name = t.sub
	}
	v, err = normalizeValue(name, v)
	if err != nil {
		return err
	}
	if t.sub != "" {
		if err := checkSimple(t.sub, v); err != nil {
			return err
		}
	} else if err := checkElement(t.attr, v); err != nil {
		return err
	}
	matches := matchingIndexes(arr, t.filter)
	var touched []int
	switch {
	case len(matches) == 0 && kind == patchReplace && v == nil:
		return errorf("noTarget", "no value of %q matches %q", t.attr, t.text)
	case len(matches) == 0:
		if v == nil {
			return nil
		}
		elem, ok := elementFromFilter(t.filter.expr)
		if !ok {
			return errorf("noTarget", "no value of %q matches %q, and a new one can only be made from a filter of eq terms joined by and", t.attr, t.text)
		}
		updated, err := updateElement(elem, t, v)
		if err != nil {
			return err
		}
		arr = append(arr, updated)
		touched = []int{len(arr) - 1}
	case v == nil && t.sub == "":
		arr = removeIndexes(arr, matches)
	default:
		for _, i := range matches {
			updated, err := updateElement(arr[i], t, v)
			if err != nil {
				return err
			}
			arr[i] = updated
		}
		touched = matches
	}
	keepOnePrimary(arr, touched)
	storeMulti(c, t.attr, arr)
	return nil
}

// updateElement writes v to one element of a multi-valued attribute: to its
// sub-attribute t.sub if set, else merged into the element (for objects) or
// replacing it. It returns the updated element.
func updateElement(elem any, t patchTarget, v any) (any, *Error) {
	if t.sub != "" {
		m, ok := elem.(map[string]any)
		if !ok {
			return nil, errorf("invalidPath", "values of %q have no sub-attributes", t.attr)
		}
		if v == nil {
			deleteAttr(m, t.sub)
		} else {
			setAttr(m, t.sub, cloneValue(v))
		}
		return m, nil
	}
	obj, isObj := v.(map[string]any)
	m, elemIsObj := elem.(map[string]any)
	if isObj && elemIsObj {
		mergeAttrs(m, cloneValue(obj).(map[string]any))
		return m, nil
	}
	return cloneValue(v), nil
}

// removeTarget performs a remove at t. value, when not nil, lists the
// values to take out of a multi-valued attribute.
func removeTarget(res map[string]any, t patchTarget, value any) *Error {
	if t.attr == "" {
		if t.ext == "" {
			return errorf("invalidPath", "remove cannot target the whole resource (%q)", t.text)
		}
		deleteAttr(res, t.ext)
		return nil
	}
	c, err := extensionContainer(res, t.ext, false)
	if err != nil {
		return err
	}
	if c == nil {
		if t.filter != nil {
			return errorf("noTarget", "no value of %q matches %q", t.attr, t.text)
		}
		return nil
	}
	defer pruneExtension(res, t.ext)
	existing, _ := getAttr(c, t.attr)
	switch {
	case t.filter != nil:
		return removeFiltered(c, t, existing)
	case t.sub != "":
		switch e := existing.(type) {
		case map[string]any:
			deleteAttr(e, t.sub)
			if len(e) == 0 {
				deleteAttr(c, t.attr)
			}
		case []any:
			return needsFilter(t)
		case nil:
		default:
			return errorf("invalidPath", "attribute %q has no sub-attributes", t.attr)
		}
		return nil
	case value != nil:
		if arr, ok := existing.([]any); ok {
			wanted := flatten(value)
			arr = slices.DeleteFunc(slices.Clone(arr), func(have any) bool {
				return slices.ContainsFunc(wanted, func(w any) bool { return selectsValue(have, w) })
			})
			storeMulti(c, t.attr, arr)
			return nil
		}
		deleteAttr(c, t.attr)
		return nil
	default:
		deleteAttr(c, t.attr)
		return nil
	}
}

// removeFiltered removes the elements of t.attr matching t.filter, or their
// sub-attribute t.sub; it fails with noTarget when none matches.
func removeFiltered(c map[string]any, t patchTarget, existing any) *Error {
	arr, err := elementsOf(t, existing)
	if err != nil {
		return err
	}
	matches := matchingIndexes(arr, t.filter)
	if len(matches) == 0 {
		return errorf("noTarget", "no value of %q matches %q", t.attr, t.text)
	}
	if t.sub == "" {
		storeMulti(c, t.attr, removeIndexes(arr, matches))
		return nil
	}
	for _, i := range matches {
		if m, ok := arr[i].(map[string]any); ok {
			deleteAttr(m, t.sub)
		}
	}
	return nil
}

// elementsOf returns the values of multi-valued attribute t.attr, failing
// when the attribute holds a single value that a filter cannot select from.
func elementsOf(t patchTarget, existing any) ([]any, *Error) {
	switch e := existing.(type) {
	case []any:
		return e, nil
	case nil:
		return nil, nil
	default:
		return nil, errorf("invalidPath", "attribute %q is not multi-valued, so %q cannot select from it", t.attr, t.text)
	}
}

// matchingIndexes returns the indexes of the elements of arr matching f.
func matchingIndexes(arr []any, f *Filter) []int {
	var out []int
	for i, elem := range arr {
		if matchElement(f.expr, elem) {
			out = append(out, i)
		}
	}
	return out
}

// removeIndexes returns a copy of arr without the elements at idx.
func removeIndexes(arr []any, idx []int) []any {
	out := make([]any, 0, len(arr))
	for i, elem := range arr {
		if !slices.Contains(idx, i) {
			out = append(out, elem)
		}
	}
	return out
}

// storeMulti stores arr as attribute name of c, removing the attribute when
// arr is empty.
func storeMulti(c map[string]any, name string, arr []any) {
	if len(arr) == 0 {
		deleteAttr(c, name)
		return
	}
	setAttr(c, name, arr)
}

// elementFromFilter builds a new element from a value filter made only of
// `sub eq literal` terms joined by and, e.g. {"type": "work"} from
// type eq "work". ok is false for any other filter.
func elementFromFilter(e filter.Expression) (elem map[string]any, ok bool) {
	switch e := e.(type) {
	case *filter.AttributeExpression:
		p := e.AttributePath
		if e.Operator != filter.EQ || e.CompareValue == nil || p.URIPrefix != nil || p.SubAttribute != nil {
			return nil, false
		}
		return map[string]any{p.AttributeName: e.CompareValue}, true
	case *filter.LogicalExpression:
		if e.Operator != filter.AND {
			return nil, false
		}
		left, ok := elementFromFilter(e.Left)
		if !ok {
			return nil, false
		}
		right, ok := elementFromFilter(e.Right)
		if !ok {
			return nil, false
		}
		for k, v := range right {
			if _, clash := attrKey(left, k); clash {
				return nil, false
			}
			left[k] = v
		}
		return left, true
	default:
		return nil, false
	}
}

// keepOnePrimary makes sure at most one element of arr has primary true:
// the last element in touched (the ones this operation wrote) that is
// primary wins, and primary is set to false on every other element.
func keepOnePrimary(arr []any, touched []int) {
	winner := -1
	for _, i := range touched {
		if isPrimary(arr[i]) {
			winner = i
		}
	}
	if winner < 0 {
		return
	}
	for i, elem := range arr {
		if i != winner && isPrimary(elem) {
			setAttr(elem.(map[string]any), "primary", false)
		}
	}
}

// isPrimary reports whether elem is an object with primary true.
func isPrimary(elem any) bool {
	m, ok := elem.(map[string]any)
	if !ok {
		return false
	}
	p, _ := getAttr(m, "primary")
	return p == true
}

// sameValue reports whether have and item are objects for the same value:
// item has a "value" equal to have's (strings compared case-insensitively),
// and their "type"s are equal too when both have one.
func sameValue(have, item any) bool {
	hm, ok1 := have.(map[string]any)
	im, ok2 := item.(map[string]any)
	if !ok1 || !ok2 {
		return false
	}
	iv, ok := getAttr(im, "value")
	if !ok || !equalFoldValue(hm, iv, "value") {
		return false
	}
	if it, ok := getAttr(im, "type"); ok {
		if _, ok := getAttr(hm, "type"); ok && !equalFoldValue(hm, it, "type") {
			return false
		}
	}
	return true
}

// equalFoldValue reports whether attribute name of m equals want, comparing
// strings case-insensitively and other values exactly.
func equalFoldValue(m map[string]any, want any, name string) bool {
	got, ok := getAttr(m, name)
	if !ok {
		return false
	}
	gs, ok1 := got.(string)
	ws, ok2 := want.(string)
	if ok1 && ok2 {
		return strings.EqualFold(gs, ws)
	}
	return reflect.DeepEqual(got, want)
}

// holdsValue reports whether an existing element already holds item: equal
// values, or for objects every attribute of item present in have with an
// equal value.
func holdsValue(have, item any) bool {
	hm, ok1 := have.(map[string]any)
	im, ok2 := item.(map[string]any)
	if !ok1 || !ok2 {
		return reflect.DeepEqual(have, item)
	}
	for k, iv := range im {
		hv, ok := getAttr(hm, k)
		if !ok || !reflect.DeepEqual(hv, iv) {
			return false
		}
	}
	return true
}

// selectsValue reports whether want, one of the values listed in a remove
// operation, designates the existing element have. A simple want designates
// an object element through its "value" sub-attribute.
func selectsValue(have, want any) bool {
	if hm, ok := have.(map[string]any); ok {
		if _, wantObj := want.(map[string]any); !wantObj {
			hv, _ := getAttr(hm, "value")
			return want != nil && reflect.DeepEqual(hv, want)
		}
	}
	return holdsValue(have, want)
}

// normalizeValue prepares v for storing as attribute name: it converts the
// string forms of booleans sent for active and primary, turns a string
// manager into {"value": ...}, and does so recursively through objects and
// arrays, returning a fresh copy of them.
func normalizeValue(name string, v any) (any, *Error) {
	switch strings.ToLower(name) {
	case "active", "primary":
		if s, ok := v.(string); ok {
			switch {
			case strings.EqualFold(s, "true"):
				v = true
			case strings.EqualFold(s, "false"):
				v = false
			}
		}
		switch v.(type) {
		case bool, nil:
			return v, nil
		}
		return nil, errorf("invalidValue", "%q must be a boolean, got %s", name, jsonKind(v))
	case "manager":
		if s, ok := v.(string); ok {
			if s == "" {
				return nil, nil
			}
			return map[string]any{"value": s}, nil
		}
	}
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, child := range x {
			nc, err := normalizeValue(k, child)
			if err != nil {
				return nil, err
			}
			out[k] = nc
		}
		return out, nil
	case []any:
		out := make([]any, len(x))
		for i, child := range x {
			nc, err := normalizeValue(name, child)
			if err != nil {
				return nil, err
			}
			out[i] = nc
		}
		return out, nil
	default:
		return v, nil
	}
}

// checkSimple rejects objects and arrays as the value of a sub-attribute.
func checkSimple(name string, v any) *Error {
	switch v.(type) {
	case map[string]any, []any:
		return errorf("invalidValue", "sub-attribute %q takes a single simple value, got %s", name, jsonKind(v))
	}
	return nil
}

// checkElement checks v as a replacement for one element of multi-valued
// attribute name.
func checkElement(name string, v any) *Error {
	switch v.(type) {
	case nil, map[string]any:
		return nil
	case []any:
		return errorf("invalidValue", "value for selected %q values must be a single value, got an array", name)
	}
	if isComplexMultiValuedAttr(name) {
		return errorf("invalidValue", "values of %q must be objects, got %s", name, jsonKind(v))
	}
	return nil
}

// needsFilter is the error for a sub-attribute path on a multi-valued
// attribute without a value filter.
func needsFilter(t patchTarget) *Error {
	return errorf("invalidPath", "%q is multi-valued: select values with a filter, as in %s[type eq \"work\"].%s", t.attr, t.attr, t.sub)
}

// mergeAttrs writes the attributes of src into dst; null values unassign.
func mergeAttrs(dst, src map[string]any) {
	for _, k := range slices.Sorted(maps.Keys(src)) {
		if v := src[k]; v == nil {
			deleteAttr(dst, k)
		} else {
			setAttr(dst, k, v)
		}
	}
}

// dropNulls removes null-valued attributes from m.
func dropNulls(m map[string]any) {
	for k, v := range m {
		if v == nil {
			delete(m, k)
		}
	}
}

// cloneValue deep-copies JSON objects and arrays so one decoded value can be
// stored in several places.
func cloneValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, child := range x {
			out[k] = cloneValue(child)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, child := range x {
			out[i] = cloneValue(child)
		}
		return out
	default:
		return v
	}
}

// jsonKind names the JSON type of v for error messages.
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case string:
		return "a string"
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	default:
		return "a number"
	}
}

// Schema knowledge. ApplyPatch works without a schema registry; these lists
// cover the core User, Group and enterprise User attributes whose shape
// matters when the resource does not hold them yet.

// complexMultiValuedAttrs are multi-valued attributes whose values are
// objects.
var complexMultiValuedAttrs = []string{
	"emails", "phoneNumbers", "ims", "photos", "addresses", "groups",
	"entitlements", "roles", "x509Certificates", "members",
}

// isComplexMultiValuedAttr reports whether name is in complexMultiValuedAttrs.
func isComplexMultiValuedAttr(name string) bool {
	return slices.ContainsFunc(complexMultiValuedAttrs, func(a string) bool { return strings.EqualFold(a, name) })
}

// isMultiValuedAttr reports whether name is a known multi-valued attribute.
func isMultiValuedAttr(name string) bool {
	return isComplexMultiValuedAttr(name) || strings.EqualFold(name, "schemas")
}

// isComplexAttr reports whether name is a known single-valued complex
// attribute.
func isComplexAttr(name string) bool {
	return strings.EqualFold(name, "name") || strings.EqualFold(name, "manager")
}

// isMultiValuedTarget reports whether writing v to attribute name, currently
// holding existing, is a write to a multi-valued attribute.
func isMultiValuedTarget(name string, existing any, exists bool, v any) bool {
	if _, ok := existing.([]any); ok || isMultiValuedAttr(name) {
		return true
	}
	_, vIsArray := v.([]any)
	return vIsArray && (!exists || existing == nil)
}
