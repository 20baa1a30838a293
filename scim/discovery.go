package scim

import (
	"net/http"
	"strings"
)

// The discovery endpoints (RFC 7644 §4) say what this server does: Users
// and Groups with filters, PATCH, sorting and ETags; no bulk and no
// password changes.

func (s *Server) handleSPC(w http.ResponseWriter, r *http.Request) {
	s.write(w, http.StatusOK, map[string]any{
		"schemas":          []string{schemaSPC},
		"documentationUri": "https://github.com/forcesync/forcesync/blob/main/docs/scim.md",
		"patch":            map[string]any{"supported": true},
		"bulk":             map[string]any{"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
		"filter":           map[string]any{"supported": true, "maxResults": maxResults},
		"changePassword":   map[string]any{"supported": false},
		"sort":             map[string]any{"supported": true},
		"etag":             map[string]any{"supported": true},
		"authenticationSchemes": []any{map[string]any{
			"type": "oauthbearertoken", "name": "Bearer token", "primary": true,
			"description": "The token set in forcesync's scim.token, sent as Authorization: Bearer <token>.",
		}},
		"meta": map[string]any{"resourceType": "ServiceProviderConfig", "location": base(r) + "/ServiceProviderConfig"},
	})
}

func userResourceType(r *http.Request) map[string]any {
	return map[string]any{
		"schemas":          []string{schemaResourceType},
		"id":               "User",
		"name":             "User",
		"endpoint":         "/Users",
		"schema":           SchemaUser,
		"schemaExtensions": []any{map[string]any{"schema": SchemaEnterpriseUser, "required": false}},
		"meta":             map[string]any{"resourceType": "ResourceType", "location": base(r) + "/ResourceTypes/User"},
	}
}

func groupResourceType(r *http.Request) map[string]any {
	return map[string]any{
		"schemas":  []string{schemaResourceType},
		"id":       "Group",
		"name":     "Group",
		"endpoint": "/Groups",
		"schema":   SchemaGroup,
		"meta":     map[string]any{"resourceType": "ResourceType", "location": base(r) + "/ResourceTypes/Group"},
	}
}

func (s *Server) handleResourceTypes(w http.ResponseWriter, r *http.Request) {
	if id := r.PathValue("id"); id != "" {
		switch id {
		case "User":
			s.write(w, http.StatusOK, userResourceType(r))
		case "Group":
			s.write(w, http.StatusOK, groupResourceType(r))
		default:
			s.fail(w, &Error{Status: http.StatusNotFound, Detail: "resource type " + id + " is not served"})
		}
		return
	}
	s.write(w, http.StatusOK, map[string]any{"schemas": []string{schemaList}, "totalResults": 2, "startIndex": 1,
		"itemsPerPage": 2, "Resources": []any{userResourceType(r), groupResourceType(r)}})
}

func groupSchema(r *http.Request) map[string]any {
	return map[string]any{
		"schemas": []string{schemaSchema}, "id": SchemaGroup, "name": "Group", "description": "Group",
		"attributes": []any{
			def("displayName", "string", required),
			def("members", "complex", multi, subs(def("value", "string", func(d map[string]any) { d["mutability"] = "immutable" }),
				def("$ref", "reference", refTypes("User"), func(d map[string]any) { d["mutability"] = "immutable" }),
				def("type", "string", func(d map[string]any) { d["canonicalValues"] = []string{"User"}; d["mutability"] = "immutable" }))),
			def("externalId", "string", func(d map[string]any) { d["caseExact"] = true }),
		},
		"meta": map[string]any{"resourceType": "Schema", "location": base(r) + "/Schemas/" + SchemaGroup},
	}
}

// def describes one attribute of a schema (RFC 7643 §7).
func def(name, typ string, opts ...func(map[string]any)) map[string]any {
	d := map[string]any{"name": name, "type": typ, "multiValued": false, "required": false, "caseExact": false,
		"mutability": "readWrite", "returned": "default", "uniqueness": "none"}
	for _, o := range opts {
		o(d)
	}
	if typ == "reference" {
		// RFC 7643 §7: every reference attribute lists what it may point
		// to; generic clients read the schema expecting it.
		if _, ok := d["referenceTypes"]; !ok {
			d["referenceTypes"] = []string{"external"}
		}
	}
	return d
}

func refTypes(ts ...string) func(map[string]any) {
	return func(d map[string]any) { d["referenceTypes"] = ts }
}

func multi(d map[string]any)    { d["multiValued"] = true }
func required(d map[string]any) { d["required"] = true }
func unique(d map[string]any)   { d["uniqueness"] = "server" }
func readOnly(d map[string]any) { d["mutability"] = "readOnly" }
func writeOnly(d map[string]any) {
	d["mutability"], d["returned"] = "writeOnly", "never"
}
func subs(ds ...map[string]any) func(map[string]any) {
	return func(d map[string]any) { d["subAttributes"] = ds }
}

// valued is a multi-valued complex attribute of value/type/primary/display.
func valued(name string, types ...string) map[string]any {
	t := def("type", "string")
	if len(types) > 0 {
		t["canonicalValues"] = types
	}
	return def(name, "complex", multi, subs(def("value", "string"), def("display", "string"), t, def("primary", "boolean")))
}

func userSchema(r *http.Request) map[string]any {
	return map[string]any{
		"schemas": []string{schemaSchema}, "id": SchemaUser, "name": "User", "description": "User Account",
		"attributes": []any{
			def("userName", "string", required, unique),
			def("name", "complex", subs(def("formatted", "string"), def("familyName", "string"), def("givenName", "string"),
				def("middleName", "string"), def("honorificPrefix", "string"), def("honorificSuffix", "string"))),
			def("displayName", "string"), def("nickName", "string"), def("profileUrl", "reference"),
			def("title", "string"), def("userType", "string"), def("preferredLanguage", "string"),
			def("locale", "string"), def("timezone", "string"), def("active", "boolean"),
			def("password", "string", writeOnly),
			valued("emails", "work", "home", "other"), valued("phoneNumbers", "work", "home", "mobile", "fax", "pager", "other"),
			valued("ims"), valued("photos", "photo", "thumbnail"),
			def("addresses", "complex", multi, subs(def("formatted", "string"), def("streetAddress", "string"),
				def("locality", "string"), def("region", "string"), def("postalCode", "string"), def("country", "string"),
				def("type", "string"), def("primary", "boolean"))),
			def("groups", "complex", multi, readOnly, subs(def("value", "string", readOnly), def("$ref", "reference", refTypes("Group"), readOnly),
				def("display", "string", readOnly), def("type", "string", readOnly, func(d map[string]any) { d["canonicalValues"] = []string{"direct", "indirect"} }))),
			valued("entitlements"), valued("roles"), valued("x509Certificates"),
			def("externalId", "string", func(d map[string]any) { d["caseExact"] = true }),
		},
		"meta": map[string]any{"resourceType": "Schema", "location": base(r) + "/Schemas/" + SchemaUser},
	}
}

func enterpriseSchema(r *http.Request) map[string]any {
	return map[string]any{
		"schemas": []string{schemaSchema}, "id": SchemaEnterpriseUser, "name": "EnterpriseUser", "description": "Enterprise User",
		"attributes": []any{
			def("employeeNumber", "string"), def("costCenter", "string"), def("organization", "string"),
			def("division", "string"), def("department", "string"),
			def("manager", "complex", subs(def("value", "string"), def("$ref", "reference", refTypes("User")), def("displayName", "string"))),
		},
		"meta": map[string]any{"resourceType": "Schema", "location": base(r) + "/Schemas/" + SchemaEnterpriseUser},
	}
}

func (s *Server) handleSchemas(w http.ResponseWriter, r *http.Request) {
	all := []map[string]any{userSchema(r), enterpriseSchema(r), groupSchema(r)}
	if id := r.PathValue("id"); id != "" {
		for _, sc := range all {
			if strings.EqualFold(sc["id"].(string), id) {
				s.write(w, http.StatusOK, sc)
				return
			}
		}
		s.fail(w, &Error{Status: http.StatusNotFound, Detail: "schema " + id + " is not served"})
		return
	}
	res := make([]any, len(all))
	for i, sc := range all {
		res[i] = sc
	}
	s.write(w, http.StatusOK, map[string]any{"schemas": []string{schemaList}, "totalResults": len(res), "startIndex": 1,
		"itemsPerPage": len(res), "Resources": res})
}
