package emulator

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestInsertValidation(t *testing.T) {
	cfg := Config{Objects: []ObjectConfig{{Name: "Lead", Fields: []FieldConfig{
		{Name: "Job_Category__c", Label: "Job Category", Type: "picklist", Picklist: []string{"A", "B"}, Restricted: true},
		{Name: "Score__c", Label: "Score", Type: "double", Precision: 5, Scale: 2},
		{Name: "Seats__c", Label: "Seats", Type: "int", Precision: 3},
		{Name: "Active__c", Label: "Active", Type: "boolean"},
		{Name: "Start__c", Label: "Start", Type: "date"},
		{Name: "Seen__c", Label: "Seen", Type: "datetime"},
		{Name: "Partner__c", Label: "Partner", Type: "reference", ReferenceTo: []string{"Account"}},
	}}}}
	e := newTestEmulator(t, cfg)
	e.mu.Lock()
	defer e.mu.Unlock()
	acct, rerr := e.insertLocked("Account", map[string]any{"Name": "Acme"})
	if rerr != nil {
		t.Fatal(rerr)
	}
	contact, _ := e.insertLocked("Contact", map[string]any{"LastName": "C"})
	if _, rerr := e.insertLocked("Lead", map[string]any{"LastName": "Dup", "Company": "X", "Forcesync_Key__c": "dup-1"}); rerr != nil {
		t.Fatal(rerr)
	}
	lead := func(extra map[string]any) map[string]any {
		m := map[string]any{"LastName": "Smith", "Company": "Acme"}
		for k, v := range extra {
			if v == "<delete>" {
				delete(m, k)
				continue
			}
			m[k] = v
		}
		return m
	}
	long81 := strings.Repeat("x", 81)
	tests := []struct {
		name   string
		obj    string
		fields map[string]any
		code   string
		msg    string
		errFld []string
	}{
		{"ok", "Lead", lead(nil), "", "", nil},
		{"all missing", "Lead", map[string]any{"FirstName": "A"}, "REQUIRED_FIELD_MISSING", "Required fields are missing: [LastName, Company]", []string{"LastName", "Company"}},
		{"blank is missing", "Lead", lead(map[string]any{"LastName": "   "}), "REQUIRED_FIELD_MISSING", "Required fields are missing: [LastName]", []string{"LastName"}},
		{"null is missing", "Lead", lead(map[string]any{"Company": nil}), "REQUIRED_FIELD_MISSING", "Required fields are missing: [Company]", []string{"Company"}},
		{"contact", "Contact", map[string]any{"FirstName": "x"}, "REQUIRED_FIELD_MISSING", "Required fields are missing: [LastName]", []string{"LastName"}},
		{"account", "Account", map[string]any{}, "REQUIRED_FIELD_MISSING", "Required fields are missing: [Name]", []string{"Name"}},
		{"user", "User", map[string]any{"FirstName": "x"}, "REQUIRED_FIELD_MISSING",
			"Required fields are missing: [Username, LastName, Email, Alias, TimeZoneSidKey, LocaleSidKey, EmailEncodingKey, ProfileId, LanguageLocaleKey]",
			[]string{"Username", "LastName", "Email", "Alias", "TimeZoneSidKey", "LocaleSidKey", "EmailEncodingKey", "ProfileId", "LanguageLocaleKey"}},
		{"too long", "Lead", lead(map[string]any{"LastName": long81}), "STRING_TOO_LONG", "Last Name: data value too large: " + long81 + " (max length=80)", []string{"LastName"}},
		{"runes not bytes", "Lead", lead(map[string]any{"LastName": strings.Repeat("é", 80)}), "", "", nil},
		{"bad email", "Lead", lead(map[string]any{"Email": "not an email"}), "INVALID_EMAIL_ADDRESS", "Email: invalid email address: not an email", []string{"Email"}},
		{"restricted picklist", "Lead", lead(map[string]any{"Job_Category__c": "X"}), "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", "Job Category: bad value for restricted picklist field: X", []string{"Job_Category__c"}},
		{"unrestricted picklist", "Lead", lead(map[string]any{"LeadSource": "Carrier pigeon"}), "", "", nil},
		{"precision", "Lead", lead(map[string]any{"Score__c": json.Number("1000")}), "NUMBER_OUTSIDE_VALID_RANGE", "Score: value outside of valid range on numeric field: 1000", []string{"Score__c"}},
		{"scale rounds", "Lead", lead(map[string]any{"Score__c": json.Number("999.994")}), "", "", nil},
		{"int digits", "Lead", lead(map[string]any{"Seats__c": json.Number("1000")}), "NUMBER_OUTSIDE_VALID_RANGE", "Seats: value outside of valid range on numeric field: 1000", []string{"Seats__c"}},
		{"employees", "Lead", lead(map[string]any{"NumberOfEmployees": json.Number("1431655766")}), "NUMBER_OUTSIDE_VALID_RANGE", "Employees: value outside of valid range on numeric field: 1431655766", []string{"NumberOfEmployees"}},
		{"unknown field", "Lead", lead(map[string]any{"Bogus": "x"}), "INVALID_FIELD", "No such column 'Bogus' on sobject of type Lead", nil},
		{"read only", "Lead", lead(map[string]any{"CreatedDate": "2020-01-01T00:00:00Z", "Name": "x"}), "INVALID_FIELD_FOR_INSERT_UPDATE",
			"Unable to create/update fields: CreatedDate, Name. Please check the security settings of this field and verify that it is read/write for your profile or permission set.", []string{"CreatedDate", "Name"}},
		{"string for boolean", "Lead", lead(map[string]any{"Active__c": "yes"}), "JSON_PARSER_ERROR",
			"Cannot deserialize instance of boolean from VALUE_STRING value yes or request may be missing a required field", nil},
		{"string true for boolean", "Lead", lead(map[string]any{"Active__c": "true"}), "", "", nil},
		{"csv bad boolean", "Lead", lead(map[string]any{"Active__c": csvString("yes")}), "INVALID_TYPE_ON_FIELD_IN_RECORD", "Active: value not of required type: yes", []string{"Active__c"}},
		{"bad number", "Lead", lead(map[string]any{"Score__c": "abc"}), "JSON_PARSER_ERROR",
			"Cannot deserialize instance of double from VALUE_STRING value abc or request may be missing a required field", nil},
		{"bad date", "Lead", lead(map[string]any{"Start__c": "tomorrow"}), "JSON_PARSER_ERROR",
			"Cannot deserialize instance of java.util.Date from VALUE_STRING value tomorrow or request may be missing a required field", nil},
		{"datetime offset", "Lead", lead(map[string]any{"Seen__c": "2024-05-01T14:34:56.123+02:00"}), "", "", nil},
		{"object for text", "Lead", lead(map[string]any{"Title": map[string]any{"a": 1}}), "JSON_PARSER_ERROR",
			"Cannot deserialize instance of java.lang.String from START_OBJECT value map[a:1] or request may be missing a required field", nil},
		{"malformed ref", "Lead", lead(map[string]any{"Partner__c": "abc"}), "MALFORMED_ID", "Partner: id value of incorrect type: abc", []string{"Partner__c"}},
		{"ref wrong object", "Lead", lead(map[string]any{"Partner__c": contact}), "FIELD_INTEGRITY_EXCEPTION", "Partner: id value of incorrect type: " + contact, []string{"Partner__c"}},
		{"ref missing record", "Lead", lead(map[string]any{"Partner__c": "001000000000000AAA"}), "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", []string{"Partner__c"}},
		{"ref ok 15", "Lead", lead(map[string]any{"Partner__c": acct[:15]}), "", "", nil},
		{"owner group", "Lead", lead(map[string]any{"OwnerId": "00G000000000000EAA"}), "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", []string{"OwnerId"}},
		{"duplicate ext id", "Lead", lead(map[string]any{"Forcesync_Key__c": "DUP-1"}), "DUPLICATE_VALUE", "duplicate value found: Forcesync_Key__c duplicates value on record with id: ", []string{"Forcesync_Key__c"}},
		{"duplicate username", "User", map[string]any{"Username": "ADMIN@forcesync.local", "LastName": "x", "Email": "x@y.com", "Alias": "x",
			"TimeZoneSidKey": "GMT", "LocaleSidKey": "en_US", "EmailEncodingKey": "UTF-8", "LanguageLocaleKey": "en_US", "ProfileId": e.profileByNameLocked("Standard User")},
			"DUPLICATE_USERNAME", "Duplicate Username.", []string{"Username"}},
		{"bad time zone", "User", map[string]any{"Username": "u@x.com", "LastName": "x", "Email": "x@y.com", "Alias": "x",
			"TimeZoneSidKey": "Mars/Olympus", "LocaleSidKey": "en_US", "EmailEncodingKey": "UTF-8", "LanguageLocaleKey": "en_US", "ProfileId": e.profileByNameLocked("Standard User")},
			"INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", "Time Zone: bad value for restricted picklist field: Mars/Olympus", []string{"TimeZoneSidKey"}},
		{"unknown object", "Bogus__c", map[string]any{}, "INVALID_TYPE", "sObject type 'Bogus__c' is not supported.", nil},
		{"profile not createable", "Profile", map[string]any{"Name": "x"}, "INVALID_TYPE_FOR_OPERATION", "entity type cannot be inserted", []string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id, rerr := e.insertLocked(tc.obj, tc.fields)
			if tc.code == "" {
				if rerr != nil {
					t.Fatalf("unexpected error %v", rerr)
				}
				if id == "" {
					t.Fatal("no id")
				}
				return
			}
			if rerr == nil {
				t.Fatalf("inserted %s, want %s", id, tc.code)
			}
			if rerr.Code != tc.code || !strings.HasPrefix(rerr.Message, tc.msg) || !reflect.DeepEqual(rerr.Fields, tc.errFld) {
				t.Fatalf("got %s %q %#v\nwant %s %q %#v", rerr.Code, rerr.Message, rerr.Fields, tc.code, tc.msg, tc.errFld)
			}
		})
	}
}

func TestUpdateValidation(t *testing.T) {
	e := newTestEmulator(t, Config{})
	e.mu.Lock()
	defer e.mu.Unlock()
	id, _ := e.insertLocked("Lead", map[string]any{"LastName": "A", "Company": "B", "Forcesync_Key__c": "a"})
	id2, _ := e.insertLocked("Lead", map[string]any{"LastName": "A", "Company": "B", "Forcesync_Key__c": "b"})
	for _, tc := range []struct {
		name   string
		id     string
		fields map[string]any
		code   string
	}{
		{"ok", id, map[string]any{"Title": "x", "Id": id[:15]}, ""},
		{"clear required", id, map[string]any{"Company": ""}, "REQUIRED_FIELD_MISSING"},
		{"untouched required ok", id, map[string]any{"Email": "a@b.co"}, ""},
		{"dup on update", id2, map[string]any{"Forcesync_Key__c": "A"}, "DUPLICATE_VALUE"},
		{"not updateable", id, map[string]any{"IsConverted": true}, "INVALID_FIELD_FOR_INSERT_UPDATE"},
		{"malformed", "xyz", map[string]any{"Title": "x"}, "MALFORMED_ID"},
		{"missing", "00Q000000000000EAA", map[string]any{"Title": "x"}, "NOT_FOUND"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rerr := e.updateLocked("Lead", tc.id, tc.fields)
			if (rerr == nil) != (tc.code == "") || (rerr != nil && rerr.Code != tc.code) {
				t.Fatalf("got %v want %q", rerr, tc.code)
			}
		})
	}
	// A failed update leaves the record and its index as they were.
	r := e.getRecordLocked(id2)
	if r.getName("Forcesync_Key__c") != "b" || len(lookupIndex(r.obj, r.obj.field("Forcesync_Key__c"), "b")) != 1 {
		t.Fatal("failed update changed the record")
	}
}

func TestPortalContactCannotBeDeleted(t *testing.T) {
	e := newTestEmulator(t, Config{})
	e.mu.Lock()
	defer e.mu.Unlock()
	acct, _ := e.insertLocked("Account", map[string]any{"Name": "Portal Co"})
	ct, _ := e.insertLocked("Contact", map[string]any{"LastName": "Portal", "AccountId": acct})
	uid, rerr := e.insertLocked("User", map[string]any{"Username": "p@portal.example", "LastName": "Portal", "Email": "p@portal.example",
		"Alias": "portal", "TimeZoneSidKey": "GMT", "LocaleSidKey": "en_US", "EmailEncodingKey": "UTF-8", "LanguageLocaleKey": "en_US",
		"ProfileId": e.profileByNameLocked("Customer Community User"), "ContactId": ct})
	if rerr != nil {
		t.Fatal(rerr)
	}
	u := e.getRecordLocked(uid)
	if u.getName("AccountId") != acct || u.getName("UserType") != "CspLitePortal" || u.getName("CommunityNickname") != "p" || u.getName("IsActive") != true {
		t.Fatalf("portal user fields: %v %v %v", u.getName("AccountId"), u.getName("UserType"), u.getName("CommunityNickname"))
	}
	if rerr := e.deleteLocked("Contact", ct); rerr == nil || rerr.Code != "DELETE_FAILED" {
		t.Fatalf("delete portal contact: %v", rerr)
	}
	if rerr := e.updateLocked("User", uid, map[string]any{"IsActive": false}); rerr != nil {
		t.Fatal(rerr)
	}
}
