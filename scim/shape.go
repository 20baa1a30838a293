package scim

import (
	"reflect"
	"strconv"
	"strings"
)

// The shapes of the User attributes /Schemas declares (discovery.go): a
// value of the wrong shape, such as "emails" sent as a plain string or
// "name" as a string, would be stored and then read by nothing (Flatten
// finds no email, no givenName), so the person reaches Salesforce without
// them and the client is told nothing. checkShapes refuses it instead.
const (
	shapeSimple  = iota // a string, number or boolean
	shapeComplex        // an object of simple sub-attributes
	shapeMulti          // a list of objects of simple sub-attributes
)

var userShapes = map[string]int{
	"username": shapeSimple, "displayname": shapeSimple, "nickname": shapeSimple, "profileurl": shapeSimple,
	"title": shapeSimple, "usertype": shapeSimple, "preferredlanguage": shapeSimple, "locale": shapeSimple,
	"timezone": shapeSimple, "active": shapeSimple, "externalid": shapeSimple,
	"name":   shapeComplex,
	"emails": shapeMulti, "phonenumbers": shapeMulti, "ims": shapeMulti, "photos": shapeMulti,
	"addresses": shapeMulti, "entitlements": shapeMulti, "roles": shapeMulti, "x509certificates": shapeMulti,
}

var enterpriseShapes = map[string]int{
	"employeenumber": shapeSimple, "costcenter": shapeSimple, "organization": shapeSimple,
	"division": shapeSimple, "department": shapeSimple, "manager": shapeComplex,
}

// checkShapes refuses a User attribute of res whose value has not the
// shape its schema declares, naming the attribute and what was sent.
// Attributes equal to their value in old (the stored User; nil for a
// create) are not checked, so a PATCH that deactivates a User stored
// before this check is not refused for data it does not touch. Attributes
// the schemas do not declare are left alone.
func checkShapes(res, old map[string]any) error {
	for k, v := range res {
		lk := strings.ToLower(k)
		if ov, ok := getAttr(old, k); ok && reflect.DeepEqual(ov, v) {
			continue
		}
		if strings.EqualFold(k, SchemaEnterpriseUser) {
			ext, ok := v.(map[string]any)
			if !ok {
				return errorf("invalidValue", "%q must be an object of the enterprise extension's attributes, got %s", k, jsonKind(v))
			}
			var oldExt map[string]any
			if o, ok := getAttr(old, k); ok {
				oldExt, _ = o.(map[string]any)
			}
			for ek, ev := range ext {
				if ov, ok := getAttr(oldExt, ek); ok && reflect.DeepEqual(ov, ev) {
					continue
				}
				if shape, ok := enterpriseShapes[strings.ToLower(ek)]; ok {
					if err := checkShape(ek, shape, ev); err != nil {
						return err
					}
				}
			}
			continue
		}
		if shape, ok := userShapes[lk]; ok {
			if err := checkShape(k, shape, v); err != nil {
				return err
			}
		}
	}
	return nil
}

func checkShape(name string, shape int, v any) error {
	if v == nil {
		return nil // null is an unassigned attribute, whatever its shape (RFC 7643, 2.5)
	}
	switch shape {
	case shapeSimple:
		if err := checkSimple(name, v); err != nil {
			return errorf("invalidValue", "%q takes a single simple value, got %s", name, jsonKind(v))
		}
	case shapeComplex:
		return checkSubs(name, v)
	case shapeMulti:
		list, ok := v.([]any)
		if !ok {
			return errorf("invalidValue", "%q is multi-valued: send a list of objects, as in [{\"value\": ..., \"type\": \"work\"}], got %s", name, jsonKind(v))
		}
		for i, el := range list {
			if err := checkSubs(name+"["+strconv.Itoa(i)+"]", el); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkSubs checks that v is an object whose sub-attributes are simple.
func checkSubs(name string, v any) error {
	m, ok := v.(map[string]any)
	if !ok {
		return errorf("invalidValue", "%q must be an object of sub-attributes, got %s", name, jsonKind(v))
	}
	for sk, sv := range m {
		if err := checkSimple(name+"."+sk, sv); err != nil {
			return err
		}
	}
	return nil
}
