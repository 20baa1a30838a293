package scim

import "strings"

// Flat field names a User's record carries for mappings, beside "scim"
// (the whole resource). Attributes absent from the User are absent here.
//
//	userName externalId displayName nickName title userType
//	preferredLanguage locale timezone profileUrl active
//	givenName familyName middleName formattedName honorificPrefix honorificSuffix
//	email emailType        the primary email (else the first)
//	workEmail homeEmail    the first email of that type
//	phone mobilePhone      the primary phone number (else the first); the first of type mobile
//	street locality region postalCode country   the primary address (else the first)
//	employeeNumber costCenter organization division department manager
//	                       the enterprise extension (manager is its value)
var flatScalars = []string{"userName", "externalId", "displayName", "nickName", "title", "userType",
	"preferredLanguage", "locale", "timezone", "profileUrl", "active"}

var nameParts = map[string]string{"givenName": "givenName", "familyName": "familyName", "middleName": "middleName",
	"formatted": "formattedName", "honorificPrefix": "honorificPrefix", "honorificSuffix": "honorificSuffix"}

var addressParts = map[string]string{"streetAddress": "street", "locality": "locality", "region": "region",
	"postalCode": "postalCode", "country": "country"}

var enterpriseParts = []string{"employeeNumber", "costCenter", "organization", "division", "department"}

// Flatten returns the flat fields of a User resource (see the list above).
func Flatten(res map[string]any) map[string]any {
	out := map[string]any{}
	for _, a := range flatScalars {
		if v := attr(res, a); v != nil {
			out[a] = v
		}
	}
	if name, ok := attr(res, "name").(map[string]any); ok {
		for sub, flat := range nameParts {
			if v := attr(name, sub); v != nil {
				out[flat] = v
			}
		}
	}
	if e := preferred(attr(res, "emails")); e != nil {
		setFrom(out, "email", e, "value")
		setFrom(out, "emailType", e, "type")
	}
	if e := ofType(attr(res, "emails"), "work"); e != nil {
		setFrom(out, "workEmail", e, "value")
	}
	if e := ofType(attr(res, "emails"), "home"); e != nil {
		setFrom(out, "homeEmail", e, "value")
	}
	if p := preferred(attr(res, "phoneNumbers")); p != nil {
		setFrom(out, "phone", p, "value")
	}
	if p := ofType(attr(res, "phoneNumbers"), "mobile"); p != nil {
		setFrom(out, "mobilePhone", p, "value")
	}
	if a := preferred(attr(res, "addresses")); a != nil {
		for sub, flat := range addressParts {
			setFrom(out, flat, a, sub)
		}
	}
	if ext, ok := attr(res, SchemaEnterpriseUser).(map[string]any); ok {
		for _, a := range enterpriseParts {
			if v := attr(ext, a); v != nil {
				out[a] = v
			}
		}
		switch m := attr(ext, "manager").(type) {
		case map[string]any:
			if v := attr(m, "value"); v != nil {
				out["manager"] = v
			}
		case string:
			out["manager"] = m
		}
	}
	return out
}

func setFrom(out map[string]any, flat string, m map[string]any, sub string) {
	if v := attr(m, sub); v != nil {
		out[flat] = v
	}
}

// preferred returns the primary element of a multi-valued attribute, else
// its first.
func preferred(v any) map[string]any {
	list, _ := v.([]any)
	var first map[string]any
	for _, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			continue
		}
		if isPrimary(m) {
			return m
		}
		if first == nil {
			first = m
		}
	}
	return first
}

// ofType returns the first element of a multi-valued attribute whose type
// is typ, ignoring case.
func ofType(v any, typ string) map[string]any {
	list, _ := v.([]any)
	for _, e := range list {
		if m, ok := e.(map[string]any); ok {
			if t, _ := attr(m, "type").(string); strings.EqualFold(t, typ) {
				return m
			}
		}
	}
	return nil
}
