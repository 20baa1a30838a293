package emulator

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// sobject is one object type of the org's schema (Lead, Contact, Foo__c...).
//
// Fields are in describe order; a field's pos is its index in Fields and
// never changes once assigned (fields are only appended), so record values
// can refer to fields by position.
type sobject struct {
	Name        string // API name, e.g. "Lead"
	Label       string // "Lead"
	LabelPlural string // "Leads"
	KeyPrefix   string // first 3 characters of its Ids, e.g. "00Q"
	Custom      bool   // Name ends in __c

	// Object-level permissions as describe reports them.
	Createable, Updateable, Deletable, Queryable, Undeletable bool

	Fields []*field
	byName map[string]*field // lower-cased API name -> field
	exact  map[string]*field // API name as spelled -> field (fast path)
	// stamped counts the fields every insert fills itself (audit, owner,
	// defaults), to size a new record's slots exactly.
	stamped int

	// Modified is when the schema of the object last changed
	// (If-Modified-Since on describe).
	Modified time.Time

	// rows holds the object's records in insertion order, deleted ones
	// included; hard-deleted slots are nil until compacted.
	rows    []*record
	nilRows int
	// live counts records not in the recycle bin.
	live int
	// indexes maps the position of each unique or External ID field to
	// its index: normalised value -> records holding it (live records only).
	indexes map[int]map[string][]*record
	// indexList is indexes in field order, for the writes that visit
	// every index (a map's range costs more than the visit); kept by
	// listIndexes whenever indexes changes.
	indexList []fieldIndex
	// deleteLog lists deletions for getDeleted, oldest first.
	deleteLog []deletion

	// derive recomputes read-only derived fields (Name of Contact/Lead/User)
	// after a write; nil when the object has none.
	derive func(e *Emulator, r *record)
}

// fieldIndex is one entry of sobject.indexList.
type fieldIndex struct {
	f *field
	m map[string][]*record
}

// listIndexes rebuilds indexList from indexes.
func (o *sobject) listIndexes() {
	o.indexList = o.indexList[:0]
	for pos, m := range o.indexes {
		o.indexList = append(o.indexList, fieldIndex{o.Fields[pos], m})
	}
	slices.SortFunc(o.indexList, func(a, b fieldIndex) int { return a.f.pos - b.f.pos })
}

// deletion is one entry of an object's delete log.
type deletion struct {
	ID string
	At time.Time
}

// picklistValue is one entry of a picklist field.
type picklistValue struct {
	Value, Label string
	Default      bool
	Active       bool
}

// field is one field of an sobject, with the metadata describe serves and
// validation uses.
//
// Type is the REST describe type in lower case (id, string, textarea,
// email, phone, url, picklist, multipicklist, combobox, boolean, int,
// double, currency, percent, date, datetime, reference). Length is the
// maximum number of characters for text kinds (18 for id/reference, 0 for
// numbers, dates and booleans); Precision/Scale bound double, currency and
// percent; Digits bounds int.
type field struct {
	Name, Label, Type string
	Length            int
	Precision, Scale  int
	Digits            int

	Nillable, Createable, Updateable, DefaultedOnCreate bool
	Unique, ExternalID, IDLookup, NameField             bool
	CaseSensitive, Custom, Calculated, AutoNumber       bool
	Filterable, Sortable, Groupable                     bool
	RestrictedPicklist                                  bool
	HTMLFormatted                                       bool
	ExtraTypeInfo                                       string // e.g. "plaintextarea"; "" = null

	Picklist         []picklistValue
	ReferenceTo      []string // target objects of a reference
	RelationshipName string   // e.g. "Owner" for OwnerId; "" = null

	// Default is the value stored on create when the field is absent
	// (stored representation); nil = none.
	Default any

	// system marks audit fields the store maintains itself (Id, IsDeleted,
	// CreatedDate, CreatedById, LastModifiedDate, LastModifiedById,
	// SystemModstamp).
	system bool

	pos int // index in sobject.Fields
}

// Stored value representation (record slots and DML inputs after coercion):
//
//	id, string, textarea, email, phone, url, picklist, multipicklist,
//	combobox, reference      string (Ids always in 18-character form)
//	int, double, currency,
//	percent                  float64
//	boolean                  bool
//	date                     string "2006-01-02"
//	datetime                 time.Time, UTC, truncated to milliseconds
//	null                     absent slot (get returns nil)

// isText reports whether values of the field are strings.
func (f *field) isText() bool {
	switch f.Type {
	case "int", "double", "currency", "percent", "boolean", "datetime", "date":
		return false
	}
	return true
}

func (f *field) isNumber() bool {
	switch f.Type {
	case "int", "double", "currency", "percent":
		return true
	}
	return false
}

// requiredOnCreate is Salesforce's rule: createable, not nillable, not
// defaulted on create, and not a boolean.
func (f *field) requiredOnCreate() bool {
	return f.Createable && !f.Nillable && !f.DefaultedOnCreate && f.Type != "boolean"
}

// indexed reports whether the field has a value index (unique or External ID).
func (f *field) indexed() bool { return f.Unique || f.ExternalID }

func (f *field) soapType() string {
	switch f.Type {
	case "id", "reference":
		return "tns:ID"
	case "boolean":
		return "xsd:boolean"
	case "int":
		return "xsd:int"
	case "double", "currency", "percent":
		return "xsd:double"
	case "date":
		return "xsd:date"
	case "datetime":
		return "xsd:dateTime"
	}
	return "xsd:string"
}

// field returns the field named name (case-insensitive) or nil.
func (o *sobject) field(name string) *field {
	if f := o.exact[name]; f != nil {
		return f
	}
	return o.byName[strings.ToLower(name)]
}

// addField appends f to the object, assigning its position.
func (o *sobject) addField(f *field) {
	f.pos = len(o.Fields)
	o.Fields = append(o.Fields, f)
	o.byName[strings.ToLower(f.Name)] = f
	o.exact[f.Name] = f
	if f.system || f.Default != nil || (f.Name == "OwnerId" && f.DefaultedOnCreate) {
		o.stamped++
	}
	if f.indexed() {
		idx := map[string][]*record{}
		for _, r := range o.rows {
			if r != nil && !r.deleted {
				if v := r.get(f); v != nil {
					k := indexKey(f, v)
					idx[k] = append(idx[k], r)
				}
			}
		}
		o.indexes[f.pos] = idx
		o.listIndexes()
	}
}

// --- field builders ----------------------------------------------------------

// fb builds a field with Salesforce's usual defaults for its type.
func fb(name, label, typ string) *field {
	f := &field{Name: name, Label: label, Type: typ, Nillable: true, Createable: true, Updateable: true,
		Filterable: true, Sortable: true, Groupable: true}
	switch typ {
	case "id", "reference":
		f.Length = 18
	case "email":
		f.Length = 80
	case "phone":
		f.Length = 40
	case "url":
		f.Length = 255
	case "picklist":
		f.Length = 255
	case "multipicklist":
		f.Length = 4099
		f.Sortable, f.Groupable = false, false
	case "textarea":
		f.Length = 255
		f.ExtraTypeInfo = "plaintextarea"
	case "boolean":
		f.Nillable = false
		f.DefaultedOnCreate = true
		f.Default = false
	case "double", "currency", "percent":
		f.Precision, f.Scale = 18, 2
		f.Groupable = false
	case "int":
		f.Digits = 9
	case "datetime":
		f.Groupable = false
	}
	if strings.HasSuffix(name, "__c") {
		f.Custom = true
	}
	return f
}

func text(name, label string, length int) *field {
	f := fb(name, label, "string")
	f.Length = length
	return f
}

func longText(name, label string, length int) *field {
	f := fb(name, label, "textarea")
	f.Length = length
	if length > 255 {
		f.Filterable, f.Sortable, f.Groupable = false, false, false
	}
	return f
}

func ref(name, label, relName string, to ...string) *field {
	f := fb(name, label, "reference")
	f.ReferenceTo = to
	f.RelationshipName = relName
	return f
}

func pick(name, label string, values ...string) *field {
	f := fb(name, label, "picklist")
	for _, v := range values {
		f.Picklist = append(f.Picklist, picklistValue{Value: v, Label: v, Active: true})
	}
	return f
}

func (f *field) required() *field { f.Nillable = false; return f }
func (f *field) readOnly() *field { f.Createable, f.Updateable = false, false; return f }
func (f *field) createOnly() *field {
	f.Updateable = false
	return f
}
func (f *field) defaulted() *field { f.DefaultedOnCreate = true; return f }
func (f *field) numeric(precision, scale int) *field {
	f.Precision, f.Scale = precision, scale
	return f
}
func (f *field) restricted() *field { f.RestrictedPicklist = true; return f }
func (f *field) nameField() *field  { f.NameField = true; return f }
func (f *field) lookup() *field     { f.IDLookup = true; return f }
func (f *field) def(v any) *field   { f.Default = v; f.DefaultedOnCreate = true; return f }
func (f *field) defaultPick(v string) *field {
	for i := range f.Picklist {
		f.Picklist[i].Default = f.Picklist[i].Value == v
	}
	f.Default = v
	f.DefaultedOnCreate = true
	return f
}
func (f *field) calculated() *field {
	f.Calculated = true
	f.Createable, f.Updateable = false, false
	return f
}
func (f *field) extID() *field {
	f.ExternalID, f.IDLookup = true, true
	return f
}

// auditHead are the fields every object starts with.
func auditHead() []*field {
	id := fb("Id", "Record ID", "id").readOnly().lookup()
	id.Nillable = false
	id.DefaultedOnCreate = true
	id.system = true
	del := fb("IsDeleted", "Deleted", "boolean").readOnly()
	del.system = true
	return []*field{id, del}
}

// auditTail are the audit fields every object carries.
func auditTail() []*field {
	mk := func(f *field) *field {
		f.readOnly()
		f.Nillable = false
		f.DefaultedOnCreate = true
		f.system = true
		return f
	}
	return []*field{
		mk(fb("CreatedDate", "Created Date", "datetime")),
		mk(ref("CreatedById", "Created By ID", "CreatedBy", "User")),
		mk(fb("LastModifiedDate", "Last Modified Date", "datetime")),
		mk(ref("LastModifiedById", "Last Modified By ID", "LastModifiedBy", "User")),
		mk(fb("SystemModstamp", "System Modstamp", "datetime")),
	}
}

func ownerField() *field {
	f := ref("OwnerId", "Owner ID", "Owner", "Group", "User").defaulted()
	f.Nillable = false
	return f
}

// newSobject assembles an object from its field list.
func newSobject(name, label, plural, prefix string, fields ...*field) *sobject {
	o := &sobject{Name: name, Label: label, LabelPlural: plural, KeyPrefix: prefix,
		Custom: strings.HasSuffix(name, "__c"), Createable: true, Updateable: true, Deletable: true,
		Queryable: true, Undeletable: true, byName: map[string]*field{}, exact: map[string]*field{}, indexes: map[int]map[string][]*record{}}
	for _, f := range fields {
		o.addField(f)
	}
	return o
}

var (
	salutations  = []string{"Mr.", "Ms.", "Mrs.", "Dr.", "Prof.", "Mx."}
	leadSources  = []string{"Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Other"}
	industries   = []string{"Agriculture", "Apparel", "Banking", "Biotechnology", "Chemicals", "Communications", "Construction", "Consulting", "Education", "Electronics", "Energy", "Engineering", "Entertainment", "Environmental", "Finance", "Food & Beverage", "Government", "Healthcare", "Hospitality", "Insurance", "Machinery", "Manufacturing", "Media", "Not For Profit", "Recreation", "Retail", "Shipping", "Technology", "Telecommunications", "Transportation", "Utilities", "Other"}
	ratings      = []string{"Hot", "Warm", "Cold"}
	leadStatuses = []string{"Open - Not Contacted", "Working - Contacted", "Closed - Converted", "Closed - Not Converted"}
	timeZones    = []string{"Pacific/Kiritimati", "Pacific/Auckland", "Australia/Sydney", "Asia/Tokyo", "Asia/Shanghai", "Asia/Singapore", "Asia/Kolkata", "Asia/Dubai", "Europe/Moscow", "Africa/Cairo", "Europe/Athens", "Europe/Berlin", "Europe/Paris", "Europe/Madrid", "Europe/Rome", "Europe/Amsterdam", "Europe/London", "Europe/Dublin", "Europe/Lisbon", "GMT", "Atlantic/Azores", "America/Sao_Paulo", "America/Argentina/Buenos_Aires", "America/Halifax", "America/New_York", "America/Chicago", "America/Mexico_City", "America/Denver", "America/Phoenix", "America/Los_Angeles", "America/Anchorage", "Pacific/Honolulu"}
	locales      = []string{"en_US", "en_GB", "en_CA", "en_AU", "fr_FR", "fr_CA", "de_DE", "es_ES", "es_MX", "it_IT", "ja_JP", "zh_CN", "pt_BR", "nl_NL"}
	languages    = []string{"en_US", "en_GB", "fr", "de", "es", "es_MX", "it", "ja", "zh_CN", "pt_BR", "nl_NL"}
	encodings    = []string{"UTF-8", "ISO-8859-1", "Shift_JIS", "ISO-2022-JP", "EUC-JP", "ks_c_5601-1987", "Big5", "GB2312"}
)

// address appends the compound address parts with a prefix ("", "Mailing", "Billing").
func address(prefix, labelPrefix string) []*field {
	return []*field{
		longText(prefix+"Street", labelPrefix+"Street", 255),
		text(prefix+"City", labelPrefix+"City", 40),
		text(prefix+"State", labelPrefix+"State/Province", 80),
		text(prefix+"PostalCode", labelPrefix+"Zip/Postal Code", 20),
		text(prefix+"Country", labelPrefix+"Country", 80),
	}
}

func personName() (*field, *field, *field, *field) {
	last := text("LastName", "Last Name", 80).required()
	first := text("FirstName", "First Name", 40)
	sal := pick("Salutation", "Salutation", salutations...)
	name := text("Name", "Full Name", 121).calculated().nameField()
	name.Nillable = false
	return last, first, sal, name
}

func forcesyncKey() *field {
	f := text("Forcesync_Key__c", "Forcesync Key", 80).extID()
	f.Unique = true
	return f
}

func standardLead() *sobject {
	last, first, sal, name := personName()
	fs := auditHead()
	fs = append(fs, ref("MasterRecordId", "Master Record ID", "MasterRecord", "Lead").readOnly(), last, first, sal, name,
		text("Title", "Title", 128), text("Company", "Company", 255).required())
	fs = append(fs, address("", "")...)
	fs = append(fs,
		fb("Phone", "Phone", "phone"), fb("MobilePhone", "Mobile Phone", "phone"), fb("Fax", "Fax", "phone"),
		fb("Email", "Email", "email").lookup(), fb("Website", "Website", "url"),
		longText("Description", "Description", 32000),
		pick("LeadSource", "Lead Source", leadSources...),
		pick("Status", "Status", leadStatuses...).defaultPick("Open - Not Contacted").required(),
		pick("Industry", "Industry", industries...), pick("Rating", "Rating", ratings...),
		fb("AnnualRevenue", "Annual Revenue", "currency").numeric(18, 0),
		fb("NumberOfEmployees", "Employees", "int"),
		ownerField(),
		fb("HasOptedOutOfEmail", "Email Opt Out", "boolean"),
		fb("IsConverted", "Converted", "boolean").createOnly(),
		fb("ConvertedDate", "Converted Date", "date").readOnly(),
		ref("ConvertedAccountId", "Converted Account ID", "ConvertedAccount", "Account").readOnly(),
		ref("ConvertedContactId", "Converted Contact ID", "ConvertedContact", "Contact").readOnly(),
		ref("ConvertedOpportunityId", "Converted Opportunity ID", "ConvertedOpportunity", "Opportunity").readOnly(),
		fb("IsUnreadByOwner", "Unread By Owner", "boolean"),
	)
	fs = append(fs, auditTail()...)
	fs = append(fs, fb("LastActivityDate", "Last Activity", "date").readOnly(),
		fb("DoNotCall", "Do Not Call", "boolean"), fb("HasOptedOutOfFax", "Fax Opt Out", "boolean"),
		fb("LastViewedDate", "Last Viewed Date", "datetime").readOnly(),
		fb("LastReferencedDate", "Last Referenced Date", "datetime").readOnly(),
		longText("EmailBouncedReason", "Email Bounced Reason", 255),
		fb("EmailBouncedDate", "Email Bounced Date", "datetime"),
		forcesyncKey())
	o := newSobject("Lead", "Lead", "Leads", "00Q", fs...)
	o.derive = derivePersonName
	return o
}

func standardContact() *sobject {
	last, first, sal, name := personName()
	fs := auditHead()
	fs = append(fs, ref("MasterRecordId", "Master Record ID", "MasterRecord", "Contact").readOnly(),
		ref("AccountId", "Account ID", "Account", "Account"), last, first, sal, name)
	fs = append(fs, address("Other", "Other ")...)
	fs = append(fs, address("Mailing", "Mailing ")...)
	fs = append(fs,
		fb("Phone", "Business Phone", "phone"), fb("Fax", "Business Fax", "phone"),
		fb("MobilePhone", "Mobile Phone", "phone"), fb("HomePhone", "Home Phone", "phone"),
		fb("OtherPhone", "Other Phone", "phone"),
		ref("ReportsToId", "Reports To ID", "ReportsTo", "Contact"),
		fb("Email", "Email", "email").lookup(), text("Title", "Title", 128),
		text("Department", "Department", 80),
		pick("LeadSource", "Lead Source", leadSources...),
		fb("Birthdate", "Birthdate", "date"),
		longText("Description", "Contact Description", 32000),
		ownerField(),
		fb("HasOptedOutOfEmail", "Email Opt Out", "boolean"),
		fb("HasOptedOutOfFax", "Fax Opt Out", "boolean"),
		fb("DoNotCall", "Do Not Call", "boolean"),
	)
	fs = append(fs, auditTail()...)
	fs = append(fs, fb("LastActivityDate", "Last Activity", "date").readOnly(),
		fb("LastViewedDate", "Last Viewed Date", "datetime").readOnly(),
		fb("LastReferencedDate", "Last Referenced Date", "datetime").readOnly(),
		longText("EmailBouncedReason", "Email Bounced Reason", 255),
		fb("EmailBouncedDate", "Email Bounced Date", "datetime"),
		forcesyncKey())
	o := newSobject("Contact", "Contact", "Contacts", "003", fs...)
	o.derive = derivePersonName
	return o
}

func standardAccount() *sobject {
	fs := auditHead()
	fs = append(fs, ref("MasterRecordId", "Master Record ID", "MasterRecord", "Account").readOnly(),
		text("Name", "Account Name", 255).required().nameField(),
		pick("Type", "Account Type", "Prospect", "Customer - Direct", "Customer - Channel", "Channel Partner / Reseller", "Installation Partner", "Technology Partner", "Other"),
		ref("ParentId", "Parent Account ID", "Parent", "Account"))
	fs = append(fs, address("Billing", "Billing ")...)
	fs = append(fs, address("Shipping", "Shipping ")...)
	fs = append(fs,
		fb("Phone", "Account Phone", "phone"), fb("Fax", "Account Fax", "phone"),
		text("AccountNumber", "Account Number", 40), fb("Website", "Website", "url"),
		pick("Industry", "Industry", industries...),
		fb("AnnualRevenue", "Annual Revenue", "currency").numeric(18, 0),
		fb("NumberOfEmployees", "Employees", "int").numeric(0, 0),
		longText("Description", "Account Description", 32000),
		pick("Rating", "Account Rating", ratings...),
		ownerField(),
	)
	fs = append(fs, auditTail()...)
	fs = append(fs, fb("LastActivityDate", "Last Activity", "date").readOnly(),
		fb("LastViewedDate", "Last Viewed Date", "datetime").readOnly(),
		fb("LastReferencedDate", "Last Referenced Date", "datetime").readOnly())
	return newSobject("Account", "Account", "Accounts", "001", fs...)
}

func standardUser() *sobject {
	last, first, _, name := personName()
	username := text("Username", "Username", 80).required().lookup()
	username.Unique = true
	fs := auditHead()[:1] // User has no IsDeleted
	fs = append(fs, username, last, first, name,
		text("CompanyName", "Company Name", 80), text("Division", "Division", 80),
		text("Department", "Department", 80), text("Title", "Title", 80))
	fs = append(fs, address("", "")...)
	fs = append(fs,
		fb("Email", "Email", "email").required(), fb("Phone", "Phone", "phone"),
		fb("MobilePhone", "Mobile", "phone"),
		text("Alias", "Alias", 8).required(),
		text("CommunityNickname", "Nickname", 40).defaulted().lookup(),
		fb("IsActive", "Active", "boolean").def(true),
		pick("TimeZoneSidKey", "Time Zone", timeZones...).restricted().required(),
		ref("UserRoleId", "Role ID", "UserRole", "UserRole"),
		pick("LocaleSidKey", "Locale", locales...).restricted().required(),
		pick("EmailEncodingKey", "Email Encoding", encodings...).restricted().required(),
		ref("ProfileId", "Profile ID", "Profile", "Profile").required(),
		pick("UserType", "User Type", "Standard", "PowerPartner", "PowerCustomerSuccess", "CustomerSuccess", "CspLitePortal").readOnly(),
		pick("LanguageLocaleKey", "Language", languages...).restricted().required(),
		text("EmployeeNumber", "Employee Number", 20),
		ref("ManagerId", "Manager ID", "Manager", "User"),
		fb("LastLoginDate", "Last Login", "datetime").readOnly(),
		ref("ContactId", "Contact ID", "Contact", "Contact").createOnly(),
		ref("AccountId", "Account ID", "Account", "Account").readOnly(),
		text("FederationIdentifier", "SAML Federation ID", 512).lookup(),
	)
	fs = append(fs, auditTail()...)
	o := newSobject("User", "User", "Users", "005", fs...)
	o.Deletable, o.Undeletable = false, false
	o.derive = deriveUser
	return o
}

func standardProfile() *sobject {
	fs := auditHead()[:1]
	fs = append(fs, text("Name", "Name", 255).required().nameField(),
		pick("UserType", "User Type", "Standard", "PowerPartner", "PowerCustomerSuccess", "CustomerSuccess", "CspLitePortal", "Guest").readOnly(),
		longText("Description", "Description", 255))
	fs = append(fs, auditTail()...)
	o := newSobject("Profile", "Profile", "Profile", "00e", fs...)
	o.Createable, o.Deletable, o.Undeletable = false, false, false
	return o
}

// derivePersonName keeps Name = "FirstName LastName" (read-only compound).
func derivePersonName(e *Emulator, r *record) {
	o := r.obj
	fn, _ := r.get(o.field("FirstName")).(string)
	ln, _ := r.get(o.field("LastName")).(string)
	nf := o.field("Name")
	if fn != "" && ln != "" {
		// An update that leaves the name as it was (most of a Bulk job's
		// rows) builds no new string.
		if cur, ok := r.get(nf).(string); ok && len(cur) == len(fn)+1+len(ln) &&
			cur[:len(fn)] == fn && cur[len(fn)] == ' ' && cur[len(fn)+1:] == ln {
			return
		}
		r.set(nf, fn+" "+ln)
		return
	}
	n := ln
	if fn != "" {
		n = fn
	}
	if n == "" {
		r.set(nf, nil)
		return
	}
	r.set(nf, n)
}

// deriveUser keeps Name and the AccountId of portal users (from ContactId).
func deriveUser(e *Emulator, r *record) {
	derivePersonName(e, r)
	o := r.obj
	acct := any(nil)
	if cid, ok := r.get(o.field("ContactId")).(string); ok {
		if c := e.org.records[cid]; c != nil {
			acct = c.get(c.obj.field("AccountId"))
		}
	}
	r.set(o.field("AccountId"), acct)
}

// customObject builds an object declared in Config.Objects.
func customObject(oc ObjectConfig, prefix string) *sobject {
	label := oc.Label
	if label == "" {
		label = strings.ReplaceAll(strings.TrimSuffix(oc.Name, "__c"), "_", " ")
	}
	plural := oc.LabelPlural
	if plural == "" {
		plural = label + "s"
	}
	name := text("Name", label+" Name", 80).nameField()
	fs := auditHead()
	fs = append(fs, ownerField(), name)
	fs = append(fs, auditTail()...)
	return newSobject(oc.Name, label, plural, prefix, fs...)
}

// customField builds a field declared in Config.Objects.
func customField(fc FieldConfig) (*field, error) {
	if !strings.HasSuffix(fc.Name, "__c") || !validAPIName(strings.TrimSuffix(fc.Name, "__c")) {
		return nil, fmt.Errorf("custom field %q: name must be letters, digits and underscores ending in __c", fc.Name)
	}
	typ := strings.ToLower(fc.Type)
	if typ == "" {
		typ = "string"
	}
	if typ == "text" {
		typ = "string"
	}
	if typ == "checkbox" {
		typ = "boolean"
	}
	if typ == "number" {
		typ = "double"
	}
	if typ == "lookup" {
		typ = "reference"
	}
	switch typ {
	case "string", "textarea", "email", "phone", "url", "picklist", "multipicklist", "boolean", "int",
		"double", "currency", "percent", "date", "datetime", "reference":
	default:
		return nil, fmt.Errorf("custom field %s: unsupported type %q", fc.Name, fc.Type)
	}
	label := fc.Label
	if label == "" {
		label = strings.ReplaceAll(strings.TrimSuffix(fc.Name, "__c"), "_", " ")
	}
	f := fb(fc.Name, label, typ)
	if fc.Length > 0 && f.isText() && typ != "reference" {
		f.Length = fc.Length
	}
	if typ == "string" && fc.Length == 0 {
		f.Length = 255
	}
	if typ == "textarea" && f.Length > 255 {
		f.Filterable, f.Sortable, f.Groupable = false, false, false
		f.ExtraTypeInfo = "plaintextarea"
	}
	if f.isNumber() && typ != "int" {
		if fc.Precision > 0 {
			f.Precision = fc.Precision
		}
		if fc.Scale > 0 || fc.Precision > 0 {
			f.Scale = fc.Scale
		}
		if f.Scale > f.Precision {
			return nil, fmt.Errorf("custom field %s: scale %d exceeds precision %d", fc.Name, f.Scale, f.Precision)
		}
	}
	if typ == "int" && fc.Precision > 0 {
		f.Digits = fc.Precision
	}
	if fc.Required {
		f.Nillable = false
	}
	f.Unique = fc.Unique
	if fc.CaseSensitive {
		if !fc.Unique || !f.isText() || typ == "reference" || typ == "picklist" || typ == "multipicklist" {
			return nil, fmt.Errorf("custom field %s: case_sensitive needs a unique text field (Salesforce offers it only there)", fc.Name)
		}
		f.CaseSensitive = true
	}
	if fc.ExternalID {
		f.extID()
	}
	for _, v := range fc.Picklist {
		f.Picklist = append(f.Picklist, picklistValue{Value: v, Label: v, Active: true})
	}
	f.RestrictedPicklist = fc.Restricted
	if typ == "reference" {
		if len(fc.ReferenceTo) == 0 {
			return nil, fmt.Errorf("custom field %s: reference_to is required for a lookup", fc.Name)
		}
		f.ReferenceTo = fc.ReferenceTo
		f.RelationshipName = strings.TrimSuffix(fc.Name, "__c") + "__r"
	}
	if fc.Default != nil {
		v, rerr := coerceValue(f, fc.Default)
		if rerr != nil {
			return nil, fmt.Errorf("custom field %s: default: %s", fc.Name, rerr.Message)
		}
		f.Default = v
		f.DefaultedOnCreate = true
	}
	return f, nil
}

func validAPIName(s string) bool {
	if s == "" || !(s[0] >= 'a' && s[0] <= 'z' || s[0] >= 'A' && s[0] <= 'Z') || strings.Contains(s, "__") || strings.HasSuffix(s, "_") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(isIDChar(c) || c == '_') {
			return false
		}
	}
	return true
}

// applyObjectConfig adds custom objects and fields from cfg to the org.
func (o *org) applyObjectConfig(objs []ObjectConfig) error {
	for _, oc := range objs {
		obj := o.byName[strings.ToLower(oc.Name)]
		if obj == nil {
			if !strings.HasSuffix(oc.Name, "__c") || !validAPIName(strings.TrimSuffix(oc.Name, "__c")) {
				return fmt.Errorf("object %q: unknown standard object, and not a custom object name ending in __c", oc.Name)
			}
			prefix := oc.KeyPrefix
			if prefix == "" {
				prefix = o.nextCustomPrefix()
			}
			if len(prefix) != 3 || !looksLikeID(prefix+"000000000000") {
				return fmt.Errorf("object %s: key prefix %q must be 3 letters or digits", oc.Name, prefix)
			}
			if other := o.byPrefix[prefix]; other != nil {
				return fmt.Errorf("object %s: key prefix %s already used by %s", oc.Name, prefix, other.Name)
			}
			obj = customObject(oc, prefix)
			o.addObject(obj)
		}
		for _, fc := range oc.Fields {
			if obj.field(fc.Name) != nil {
				continue // already there (reloaded from the data file)
			}
			f, err := customField(fc)
			if err != nil {
				return fmt.Errorf("object %s: %w", obj.Name, err)
			}
			for _, t := range f.ReferenceTo {
				if o.byName[strings.ToLower(t)] == nil {
					return fmt.Errorf("object %s: field %s references unknown object %s", obj.Name, f.Name, t)
				}
			}
			obj.addField(f)
			obj.Modified = o.schemaTime
		}
	}
	return nil
}

// nextCustomPrefix returns the first free prefix a00..a0z, a10...
func (o *org) nextCustomPrefix() string {
	for i := 0; ; i++ {
		p := "a" + string(base62[i/62%62]) + string(base62[i%62])
		if o.byPrefix[p] == nil {
			return p
		}
	}
}

func (o *org) addObject(obj *sobject) {
	obj.Modified = o.schemaTime
	o.objects = append(o.objects, obj)
	sort.Slice(o.objects, func(i, j int) bool { return o.objects[i].Name < o.objects[j].Name })
	o.byName[strings.ToLower(obj.Name)] = obj
	o.byPrefix[obj.KeyPrefix] = obj
}
