package salesforce

// SObjectDescribe is the answer of GET /sobjects/{type}/describe: the
// metadata of one object. Only the keys forcesync uses are decoded.
type SObjectDescribe struct {
	Name        string  `json:"name"`
	Label       string  `json:"label"`
	LabelPlural string  `json:"labelPlural"`
	KeyPrefix   string  `json:"keyPrefix"`
	Custom      bool    `json:"custom"`
	Createable  bool    `json:"createable"`
	Updateable  bool    `json:"updateable"`
	Deletable   bool    `json:"deletable"`
	Queryable   bool    `json:"queryable"`
	Fields      []Field `json:"fields"`
}

// Field is one field of a describe. Type is Salesforce's lowercase type name:
// id, string, textarea, email, phone, url, picklist, multipicklist, combobox,
// boolean, int, long, double, currency, percent, date, datetime, time,
// reference, base64, encryptedstring, address, location, ...
type Field struct {
	Name               string          `json:"name"`
	Label              string          `json:"label"`
	Type               string          `json:"type"`
	SoapType           string          `json:"soapType"`
	Length             int             `json:"length"`    // characters, for text types
	Precision          int             `json:"precision"` // total digits, for number types
	Scale              int             `json:"scale"`     // digits after the point
	Digits             int             `json:"digits"`    // for int fields
	Nillable           bool            `json:"nillable"`
	Createable         bool            `json:"createable"`
	Updateable         bool            `json:"updateable"`
	DefaultedOnCreate  bool            `json:"defaultedOnCreate"`
	Calculated         bool            `json:"calculated"`
	AutoNumber         bool            `json:"autoNumber"`
	Unique             bool            `json:"unique"`
	ExternalID         bool            `json:"externalId"`
	IDLookup           bool            `json:"idLookup"`
	Custom             bool            `json:"custom"`
	Filterable         bool            `json:"filterable"`
	Sortable           bool            `json:"sortable"`
	CaseSensitive      bool            `json:"caseSensitive"`
	RestrictedPicklist bool            `json:"restrictedPicklist"`
	HTMLFormatted      bool            `json:"htmlFormatted"`
	Encrypted          bool            `json:"encrypted"`
	ExtraTypeInfo      string          `json:"extraTypeInfo"`
	RelationshipName   string          `json:"relationshipName"`
	ReferenceTo        []string        `json:"referenceTo"`
	PicklistValues     []PicklistValue `json:"picklistValues"`
	DefaultValue       any             `json:"defaultValue"`
}

// PicklistValue is one entry of a picklist field.
type PicklistValue struct {
	Active       bool   `json:"active"`
	DefaultValue bool   `json:"defaultValue"`
	Label        string `json:"label"`
	Value        string `json:"value"`
}

// RequiredOnCreate reports whether a create must set the field: createable,
// not nillable, not defaulted on create, and not a checkbox.
func (f *Field) RequiredOnCreate() bool {
	return f.Createable && !f.Nillable && !f.DefaultedOnCreate && f.Type != "boolean"
}

// Field returns the field named name (case-insensitive, as Salesforce
// matches names), or nil.
func (d *SObjectDescribe) Field(name string) *Field {
	for i := range d.Fields {
		if equalFold(d.Fields[i].Name, name) {
			return &d.Fields[i]
		}
	}
	return nil
}

func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
