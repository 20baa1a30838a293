package emulator

// globalDescribe is an object's entry in describeGlobal (and the
// objectDescribe of basic info).
func globalDescribe(c *call, obj *sobject) map[string]any {
	base := "/services/data/v" + versionOf(c) + "/sobjects/" + obj.Name
	return map[string]any{
		"activateable":          false,
		"associateEntityType":   nil,
		"associateParentEntity": nil,
		"createable":            obj.Createable,
		"custom":                obj.Custom,
		"customSetting":         false,
		"deepCloneable":         false,
		"deletable":             obj.Deletable,
		"deprecatedAndHidden":   false,
		"feedEnabled":           !obj.Custom,
		"hasSubtypes":           false,
		"isInterface":           false,
		"isSubtype":             false,
		"keyPrefix":             obj.KeyPrefix,
		"label":                 obj.Label,
		"labelPlural":           obj.LabelPlural,
		"layoutable":            true,
		"mergeable":             obj.Name == "Lead" || obj.Name == "Contact" || obj.Name == "Account",
		"mruEnabled":            true,
		"name":                  obj.Name,
		"queryable":             obj.Queryable,
		"replicateable":         true,
		"retrieveable":          true,
		"searchable":            obj.Name != "Profile",
		"triggerable":           obj.Name != "Profile",
		"undeletable":           obj.Undeletable,
		"updateable":            obj.Updateable,
		"urls": map[string]string{
			"compactLayouts":  base + "/describe/compactLayouts",
			"rowTemplate":     base + "/{ID}",
			"approvalLayouts": base + "/describe/approvalLayouts",
			"defaultValues":   base + "/defaultValues?recordTypeId&fields",
			"listviews":       base + "/listviews",
			"describe":        base + "/describe",
			"quickActions":    base + "/quickActions",
			"layouts":         base + "/describe/layouts",
			"sobject":         base,
		},
	}
}

// fieldDescribe is one element of describe's fields[]: every key Salesforce
// sends, in its (alphabetical) order.
type fieldDescribe struct {
	Aggregatable                 bool               `json:"aggregatable"`
	AIPredictionField            bool               `json:"aiPredictionField"`
	AutoNumber                   bool               `json:"autoNumber"`
	ByteLength                   int                `json:"byteLength"`
	Calculated                   bool               `json:"calculated"`
	CalculatedFormula            *string            `json:"calculatedFormula"`
	CascadeDelete                bool               `json:"cascadeDelete"`
	CaseSensitive                bool               `json:"caseSensitive"`
	CompoundFieldName            *string            `json:"compoundFieldName"`
	ControllerName               *string            `json:"controllerName"`
	Createable                   bool               `json:"createable"`
	Custom                       bool               `json:"custom"`
	DefaultValue                 any                `json:"defaultValue"`
	DefaultValueFormula          *string            `json:"defaultValueFormula"`
	DefaultedOnCreate            bool               `json:"defaultedOnCreate"`
	DependentPicklist            bool               `json:"dependentPicklist"`
	DeprecatedAndHidden          bool               `json:"deprecatedAndHidden"`
	Digits                       int                `json:"digits"`
	DisplayLocationInDecimal     bool               `json:"displayLocationInDecimal"`
	Encrypted                    bool               `json:"encrypted"`
	ExternalID                   bool               `json:"externalId"`
	ExtraTypeInfo                *string            `json:"extraTypeInfo"`
	Filterable                   bool               `json:"filterable"`
	FilteredLookupInfo           any                `json:"filteredLookupInfo"`
	FormulaTreatNullNumberAsZero bool               `json:"formulaTreatNullNumberAsZero"`
	Groupable                    bool               `json:"groupable"`
	HighScaleNumber              bool               `json:"highScaleNumber"`
	HTMLFormatted                bool               `json:"htmlFormatted"`
	IDLookup                     bool               `json:"idLookup"`
	InlineHelpText               *string            `json:"inlineHelpText"`
	Label                        string             `json:"label"`
	Length                       int                `json:"length"`
	Mask                         *string            `json:"mask"`
	MaskType                     *string            `json:"maskType"`
	Name                         string             `json:"name"`
	NameField                    bool               `json:"nameField"`
	NamePointing                 bool               `json:"namePointing"`
	Nillable                     bool               `json:"nillable"`
	Permissionable               bool               `json:"permissionable"`
	PicklistValues               []picklistDescribe `json:"picklistValues"`
	PolymorphicForeignKey        bool               `json:"polymorphicForeignKey"`
	Precision                    int                `json:"precision"`
	QueryByDistance              bool               `json:"queryByDistance"`
	ReferenceTargetField         *string            `json:"referenceTargetField"`
	ReferenceTo                  []string           `json:"referenceTo"`
	RelationshipName             *string            `json:"relationshipName"`
	RelationshipOrder            *int               `json:"relationshipOrder"`
	RestrictedDelete             bool               `json:"restrictedDelete"`
	RestrictedPicklist           bool               `json:"restrictedPicklist"`
	Scale                        int                `json:"scale"`
	SearchPrefilterable          bool               `json:"searchPrefilterable"`
	SoapType                     string             `json:"soapType"`
	Sortable                     bool               `json:"sortable"`
	Type                         string             `json:"type"`
	Unique                       bool               `json:"unique"`
	Updateable                   bool               `json:"updateable"`
	WriteRequiresMasterRead      bool               `json:"writeRequiresMasterRead"`
}

type picklistDescribe struct {
	Active       bool    `json:"active"`
	DefaultValue bool    `json:"defaultValue"`
	Label        string  `json:"label"`
	ValidFor     *string `json:"validFor"`
	Value        string  `json:"value"`
}

func strPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// describeField renders f's metadata.
func describeField(f *field) fieldDescribe {
	d := fieldDescribe{
		Aggregatable:          f.Type != "textarea" || f.Length <= 255,
		AutoNumber:            f.AutoNumber,
		ByteLength:            f.Length * 3,
		Calculated:            f.Calculated,
		CaseSensitive:         f.CaseSensitive,
		Createable:            f.Createable,
		Custom:                f.Custom,
		DefaultedOnCreate:     f.DefaultedOnCreate,
		Digits:                f.Digits,
		ExternalID:            f.ExternalID,
		ExtraTypeInfo:         strPtr(f.ExtraTypeInfo),
		Filterable:            f.Filterable,
		Groupable:             f.Groupable,
		HTMLFormatted:         f.HTMLFormatted,
		IDLookup:              f.IDLookup,
		Label:                 f.Label,
		Length:                f.Length,
		Name:                  f.Name,
		NameField:             f.NameField,
		Nillable:              f.Nillable,
		Permissionable:        f.Nillable && !f.Calculated && f.Createable && !f.system,
		PicklistValues:        []picklistDescribe{},
		PolymorphicForeignKey: len(f.ReferenceTo) > 1,
		Precision:             f.Precision,
		ReferenceTo:           []string{},
		RelationshipName:      strPtr(f.RelationshipName),
		RestrictedPicklist:    f.RestrictedPicklist,
		Scale:                 f.Scale,
		SoapType:              f.soapType(),
		Sortable:              f.Sortable,
		Type:                  f.Type,
		Unique:                f.Unique,
		Updateable:            f.Updateable,
	}
	if f.Type == "int" {
		d.Precision, d.Scale = 0, 0
	} else {
		d.Digits = 0
	}
	if f.Type == "boolean" {
		d.DefaultValue = f.Default
	} else if s, ok := f.Default.(string); ok && f.Type != "picklist" {
		d.DefaultValueFormula = &s
	}
	if f.Name == "Name" && f.Calculated {
		d.CompoundFieldName = nil
	}
	for _, p := range f.Picklist {
		d.PicklistValues = append(d.PicklistValues, picklistDescribe{Active: p.Active, DefaultValue: p.Default, Label: p.Label, Value: p.Value})
	}
	if f.ReferenceTo != nil {
		d.ReferenceTo = append(d.ReferenceTo, f.ReferenceTo...)
	}
	return d
}

// childRelationships lists the reference fields of every object pointing at obj.
func (e *Emulator) childRelationshipsLocked(obj *sobject) []map[string]any {
	out := []map[string]any{}
	for _, child := range e.org.objects {
		for _, f := range child.Fields {
			if f.Type != "reference" || !refAllows(f, obj.Name) {
				continue
			}
			var rel any
			switch {
			case f.Name == "AccountId" && child.Name == "Contact" && obj.Name == "Account":
				rel = "Contacts"
			case f.Name == "ContactId" && child.Name == "User":
				rel = "Users"
			case f.Custom:
				rel = child.Name[:len(child.Name)-3] + "s__r"
			}
			out = append(out, map[string]any{
				"cascadeDelete": false, "childSObject": child.Name, "deprecatedAndHidden": false,
				"field": f.Name, "junctionIdListNames": []string{}, "junctionReferenceTo": []string{},
				"relationshipName": rel, "restrictedDelete": false,
			})
		}
	}
	return out
}

// describeLocked is the full describe of obj.
func (e *Emulator) describeLocked(c *call, obj *sobject) map[string]any {
	d := globalDescribe(c, obj)
	fields := make([]fieldDescribe, len(obj.Fields))
	for i, f := range obj.Fields {
		fields[i] = describeField(f)
	}
	d["fields"] = fields
	d["actionOverrides"] = []any{}
	d["childRelationships"] = e.childRelationshipsLocked(obj)
	d["compactLayoutable"] = true
	d["defaultImplementation"] = nil
	d["extendedBy"] = nil
	d["extendsInterfaces"] = nil
	d["implementedBy"] = nil
	d["implementsInterfaces"] = nil
	d["listviewable"] = nil
	d["lookupLayoutable"] = nil
	d["namedLayoutInfos"] = []any{}
	d["networkScopeFieldName"] = nil
	d["recordTypeInfos"] = []any{map[string]any{
		"active": true, "available": true, "defaultRecordTypeMapping": true, "developerName": "Master",
		"master": true, "name": "Master", "recordTypeId": masterRecordTypeID,
		"urls": map[string]string{"layout": "/services/data/v" + versionOf(c) + "/sobjects/" + obj.Name + "/describe/layouts/" + masterRecordTypeID},
	}}
	d["searchLayoutable"] = obj.Name != "Profile"
	d["sobjectDescribeOption"] = "FULL"
	d["supportedScopes"] = []any{
		map[string]string{"label": "All " + obj.LabelPlural, "name": "everything"},
		map[string]string{"label": "My " + obj.LabelPlural, "name": "mine"},
	}
	return d
}
