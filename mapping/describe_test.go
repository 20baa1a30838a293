package mapping_test

import "github.com/forcesync/forcesync/salesforce"

// Describes close to a standard org's, built by hand so the tests need no
// server. Field facts follow salesforce-api.md §4.2 and §9.1.

func text(name string, length int) salesforce.Field {
	return salesforce.Field{Name: name, Label: name, Type: "string", Length: length, Nillable: true,
		Createable: true, Updateable: true, Filterable: true}
}

func required(f salesforce.Field) salesforce.Field { f.Nillable = false; return f }

func picklist(name string, restricted bool, values ...string) salesforce.Field {
	f := salesforce.Field{Name: name, Label: name, Type: "picklist", Length: 255, Nillable: true,
		Createable: true, Updateable: true, Filterable: true, RestrictedPicklist: restricted}
	for _, v := range values {
		f.PicklistValues = append(f.PicklistValues, salesforce.PicklistValue{Active: true, Label: v, Value: v})
	}
	return f
}

func commonFields() []salesforce.Field {
	email := text("Email", 80)
	email.Type = "email"
	email.IDLookup = true
	phone := text("Phone", 40)
	phone.Type = "phone"
	desc := text("Description", 32000)
	desc.Type, desc.Filterable = "textarea", false
	key := text("Forcesync_Key__c", 80)
	key.ExternalID, key.Unique, key.Custom, key.IDLookup = true, true, true, true
	key.Label = "Forcesync Key"
	wp := text("WP_User_Id__c", 40)
	wp.ExternalID, wp.Custom, wp.IDLookup = true, true, true
	owner := salesforce.Field{Name: "OwnerId", Label: "Owner ID", Type: "reference", Length: 18, Createable: true,
		Updateable: true, DefaultedOnCreate: true, ReferenceTo: []string{"User", "Group"}, Filterable: true}
	id := salesforce.Field{Name: "Id", Label: "Record ID", Type: "id", Length: 18, DefaultedOnCreate: true, IDLookup: true, Filterable: true}
	created := salesforce.Field{Name: "CreatedDate", Label: "Created Date", Type: "datetime", DefaultedOnCreate: true, Filterable: true}
	optout := salesforce.Field{Name: "HasOptedOutOfEmail", Label: "Email Opt Out", Type: "boolean", Createable: true,
		Updateable: true, DefaultedOnCreate: true, Filterable: true}
	return []salesforce.Field{id, owner, created, required(text("LastName", 80)), text("FirstName", 40),
		email, phone, desc, key, wp, optout, text("Title", 128)}
}

func leadDescribe() *salesforce.SObjectDescribe {
	fields := append(commonFields(),
		required(text("Company", 255)),
		picklist("Status", true, "Open - Not Contacted", "Working - Contacted", "Closed - Converted", "Closed - Not Converted"),
		picklist("LeadSource", false, "Web", "Phone Inquiry", "Partner Referral"),
		salesforce.Field{Name: "NumberOfEmployees", Label: "Employees", Type: "int", Digits: 8, Precision: 8,
			Nillable: true, Createable: true, Updateable: true, Filterable: true},
		salesforce.Field{Name: "AnnualRevenue", Label: "Annual Revenue", Type: "currency", Precision: 18, Scale: 0,
			Nillable: true, Createable: true, Updateable: true, Filterable: true},
		salesforce.Field{Name: "Rating__c", Label: "Rating", Type: "double", Precision: 5, Scale: 2, Custom: true,
			Nillable: true, Createable: true, Updateable: true, Filterable: true},
		salesforce.Field{Name: "Discount__c", Label: "Discount", Type: "percent", Precision: 5, Scale: 2, Custom: true,
			Nillable: true, Createable: true, Updateable: true, Filterable: true},
		salesforce.Field{Name: "Visits__c", Label: "Visits", Type: "long", Digits: 18, Custom: true,
			Nillable: true, Createable: true, Updateable: true, Filterable: true},
		salesforce.Field{Name: "Verified__c", Label: "Verified", Type: "boolean", Custom: true,
			Createable: true, Updateable: true, DefaultedOnCreate: true, Filterable: true},
		salesforce.Field{Name: "Signup_Date__c", Label: "Signup Date", Type: "date", Custom: true,
			Nillable: true, Createable: true, Updateable: true, Filterable: true},
		salesforce.Field{Name: "Last_Login__c", Label: "Last Login", Type: "datetime", Custom: true,
			Nillable: true, Createable: true, Updateable: true, Filterable: true},
		salesforce.Field{Name: "Call_Time__c", Label: "Call Time", Type: "time", Custom: true,
			Nillable: true, Createable: true, Updateable: true, Filterable: true},
		salesforce.Field{Name: "Website", Label: "Website", Type: "url", Length: 255,
			Nillable: true, Createable: true, Updateable: true, Filterable: true},
		salesforce.Field{Name: "Secret__c", Label: "Secret", Type: "encryptedstring", Length: 175, Custom: true,
			Nillable: true, Createable: true, Updateable: true},
		salesforce.Field{Name: "Partner__c", Label: "Partner", Type: "reference", Length: 18, Custom: true,
			ReferenceTo: []string{"Account"}, Nillable: true, Createable: true, Updateable: true, Filterable: true},
		salesforce.Field{Name: "Interests__c", Label: "Interests", Type: "multipicklist", Length: 4099, Custom: true,
			RestrictedPicklist: true, Nillable: true, Createable: true, Updateable: true, Filterable: true,
			PicklistValues: []salesforce.PicklistValue{{Active: true, Value: "Forex"}, {Active: true, Value: "Stocks"},
				{Active: true, Value: "Crypto"}, {Active: false, Value: "Bonds"}}},
		picklist("Client_Status__c", true, "Active", "Dormant", "Closed"),
		picklist("Client_Type__c", true, "Retail", "Professional", "Institutional"),
		picklist("Verification_Level__c", true, "None", "Basic", "Full"),
		salesforce.Field{Name: "IsConverted", Label: "Converted", Type: "boolean", DefaultedOnCreate: true, Filterable: true},
		salesforce.Field{Name: "Score_Band__c", Label: "Score Band", Type: "string", Length: 20, Calculated: true, Custom: true, Nillable: true},
		salesforce.Field{Name: "Address", Label: "Address", Type: "address", Nillable: true},
		salesforce.Field{Name: "Origin__c", Label: "Origin", Type: "string", Length: 40, Custom: true, Nillable: true, Createable: true, Updateable: false},
	)
	return &salesforce.SObjectDescribe{Name: "Lead", Label: "Lead", KeyPrefix: "00Q", Createable: true, Updateable: true,
		Deletable: true, Queryable: true, Fields: fields}
}

func contactDescribe() *salesforce.SObjectDescribe {
	fields := append(commonFields(),
		salesforce.Field{Name: "AccountId", Label: "Account ID", Type: "reference", Length: 18, ReferenceTo: []string{"Account"},
			Nillable: true, Createable: true, Updateable: true, Filterable: true},
		salesforce.Field{Name: "Birthdate", Label: "Birthdate", Type: "date", Nillable: true, Createable: true, Updateable: true, Filterable: true},
		text("MailingCity", 40),
	)
	return &salesforce.SObjectDescribe{Name: "Contact", Label: "Contact", KeyPrefix: "003", Createable: true, Updateable: true,
		Deletable: true, Queryable: true, Fields: fields}
}
