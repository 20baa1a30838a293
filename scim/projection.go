package scim

import (
	"net/http"
	"strings"
)

// Attribute projection (RFC 7644 §3.4.2.5, §3.9): attributes=a,b returns
// only those attributes (plus id and schemas, which are always returned);
// excludedAttributes=a,b returns all but those. Paths may name a
// sub-attribute ("name.givenName", "emails.value") and may be qualified
// with their schema URN ("urn:...:enterprise:2.0:User:department").
// attributes wins when both are given.

// project applies r's attributes / excludedAttributes query parameters.
func project(r *http.Request, res map[string]any) map[string]any {
	q := r.URL.Query()
	return projectWith(res, splitList(q.Get("attributes")), splitList(q.Get("excludedAttributes")))
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// projectPath is one attribute path: the container (nil: the resource's
// top level, else the extension's URN), the attribute and an optional
// sub-attribute.
type projectPath struct{ ext, attr, sub string }

func parseProjectPath(p string) projectPath {
	var pp projectPath
	lower := strings.ToLower(p)
	switch {
	case strings.HasPrefix(lower, strings.ToLower(SchemaEnterpriseUser)+":"):
		pp.ext, p = SchemaEnterpriseUser, p[len(SchemaEnterpriseUser)+1:]
	case strings.HasPrefix(lower, strings.ToLower(SchemaUser)+":"):
		p = p[len(SchemaUser)+1:]
	case strings.EqualFold(p, SchemaEnterpriseUser):
		return projectPath{attr: SchemaEnterpriseUser}
	}
	pp.attr, pp.sub, _ = strings.Cut(p, ".")
	return pp
}

func projectWith(res map[string]any, attrs, excluded []string) map[string]any {
	switch {
	case len(attrs) > 0:
		out := map[string]any{}
		for _, k := range []string{"id", "schemas"} {
			if v, ok := res[k]; ok {
				out[k] = v
			}
		}
		for _, a := range attrs {
			pp := parseProjectPath(a)
			src, dst := res, out
			if pp.ext != "" {
				ek, ok := attrKey(res, pp.ext)
				inner, _ := res[ek].(map[string]any)
				if !ok || inner == nil {
					continue
				}
				d, _ := out[ek].(map[string]any)
				if d == nil {
					d = map[string]any{}
					out[ek] = d
				}
				src, dst = inner, d
			}
			copyPath(src, dst, pp.attr, pp.sub)
		}
		return out
	case len(excluded) > 0:
		out := cloneResource(res)
		for _, a := range excluded {
			pp := parseProjectPath(a)
			if pp.ext == "" && (strings.EqualFold(pp.attr, "id") || strings.EqualFold(pp.attr, "schemas")) && pp.sub == "" {
				continue // always returned
			}
			target := out
			if pp.ext != "" {
				ek, _ := attrKey(out, pp.ext)
				target, _ = out[ek].(map[string]any)
				if target == nil {
					continue
				}
			}
			dropPath(target, pp.attr, pp.sub)
		}
		return out
	}
	return res
}

// copyPath copies attr (or its sub-attribute sub) of src into dst.
func copyPath(src, dst map[string]any, attr, sub string) {
	k, ok := attrKey(src, attr)
	if !ok {
		return
	}
	if sub == "" {
		dst[k] = src[k]
		return
	}
	switch v := src[k].(type) {
	case map[string]any:
		sk, ok := attrKey(v, sub)
		if !ok {
			return
		}
		d, _ := dst[k].(map[string]any)
		if d == nil {
			d = map[string]any{}
			dst[k] = d
		}
		d[sk] = v[sk]
	case []any:
		old, _ := dst[k].([]any)
		out := make([]any, len(v))
		for i, e := range v {
			m, _ := e.(map[string]any)
			d := map[string]any{}
			if i < len(old) {
				if om, ok := old[i].(map[string]any); ok {
					d = om
				}
			}
			if sk, ok := attrKey(m, sub); ok {
				d[sk] = m[sk]
			}
			out[i] = d
		}
		dst[k] = out
	}
}

// dropPath removes attr (or its sub-attribute sub) from m, a copy.
func dropPath(m map[string]any, attr, sub string) {
	k, ok := attrKey(m, attr)
	if !ok {
		return
	}
	if sub == "" {
		delete(m, k)
		return
	}
	switch v := m[k].(type) {
	case map[string]any:
		c := make(map[string]any, len(v))
		for kk, vv := range v {
			if !strings.EqualFold(kk, sub) {
				c[kk] = vv
			}
		}
		m[k] = c
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			em, _ := e.(map[string]any)
			c := make(map[string]any, len(em))
			for kk, vv := range em {
				if !strings.EqualFold(kk, sub) {
					c[kk] = vv
				}
			}
			out[i] = c
		}
		m[k] = out
	}
}
