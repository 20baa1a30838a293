package console

// advice says, per Salesforce error code, what an admin can do about the
// records it holds. Codes not listed get the general advice.
var advice = map[string]string{
	"REQUIRED_FIELD_MISSING":                  "A field Salesforce requires is empty. Fill it in the application, or give the field row a default or a fallback (first_of) in the mapping, then retry.",
	"STRING_TOO_LONG":                         "A value is longer than the Salesforce field allows. Shorten it in the application, or map it through an expression that trims it, then retry.",
	"INVALID_EMAIL_ADDRESS":                   "The email is malformed. Correct it in the application (or below, on the record), then retry.",
	"DUPLICATE_VALUE":                         "Another Salesforce record already holds this unique value (often the External ID or Email). Merge or fix the duplicate in Salesforce, then retry.",
	"DUPLICATES_DETECTED":                     "A Salesforce duplicate rule blocked the record. Match by that field instead, or relax the rule, then retry.",
	"INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST": "A value is not one of the picklist's values. Add a value map to the field row, or add the value to the picklist in Salesforce, then retry.",
	"FIELD_CUSTOM_VALIDATION_EXCEPTION":       "A validation rule in Salesforce refused the record. Its message says which; fix the data or the rule, then retry.",
	"CANNOT_UPDATE_CONVERTED_LEAD":            "The Lead was converted in Salesforce and can no longer be updated. Map this source to Contact, or leave these records be.",
	"INVALID_FIELD_FOR_INSERT_UPDATE":         "The mapping writes a field the integration user may not edit. Grant field-level access, or remove the row.",
	"INVALID_FIELD":                           "The mapping names a field the object does not have. Correct the mapping.",
	"ENTITY_IS_DELETED":                       "The Salesforce record was deleted. Retry to create it again, or delete the record in the application.",
	"INSUFFICIENT_ACCESS_OR_READONLY":         "The integration user lacks access to this record or object. Fix its profile or permission set, then retry.",
	"UNABLE_TO_LOCK_ROW":                      "Salesforce was busy with the same records; forcesync retries these by itself.",
	"REQUEST_LIMIT_EXCEEDED":                  "The org's API limit was reached; forcesync retries once the budget allows.",
	"MASS_CHANGE_PAUSED":                      "The mass-change guard paused more deletes or disables than the mapping's limit. If they are meant, approve them on the Guard page (or forcesync approve MAPPING); retrying without approving holds them again.",
}

func adviceFor(code string) string {
	if a, ok := advice[code]; ok {
		return a
	}
	return "Read the message, correct the data in the application or the mapping, then retry."
}
