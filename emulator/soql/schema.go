package soql

import "iter"

// Schema resolves object names for Compile. Names are matched
// case-insensitively.
type Schema interface {
	// Object returns the named object, or nil when the org has none.
	Object(name string) Object
}

// Object is one sObject type as far as queries need it.
type Object interface {
	// Name is the canonical API name ("Lead", "Foo__c").
	Name() string
	// Field returns the named field (case-insensitive), or nil.
	Field(name string) *Field
	// Relationship returns the reference field whose relationship name is
	// name ("Owner" -> OwnerId, "Account__r" -> Account__c), or nil.
	Relationship(name string) *Field
}

// ChildRelationships is implemented by Objects that serve parent-to-child
// subqueries: (SELECT LastName FROM Contacts) on Account.
type ChildRelationships interface {
	// ChildRelationship returns the child object and the child's reference
	// field pointing at this object for a relationship name
	// (case-insensitive), with the name's canonical spelling; nil when
	// there is none.
	ChildRelationship(name string) (child Object, ref *Field, canonical string)
}

// RowSource is implemented by Schemas that serve semi-joins and
// anti-joins (Id IN (SELECT AccountId FROM Contact)): Compile reads the
// inner query's object through it.
type RowSource interface {
	// Rows yields the live records of obj.
	Rows(obj Object) iter.Seq[Row]
}

// FieldLister is implemented by Objects that serve FIELDS(ALL),
// FIELDS(STANDARD) and FIELDS(CUSTOM).
type FieldLister interface {
	// Fields returns every queryable field, in describe order.
	Fields() []*Field
}

// Field describes one field. Type is the describe type ("string", "id",
// "reference", "double", "boolean", "date", "datetime", ...).
type Field struct {
	Name             string
	Type             string
	ReferenceTo      []string
	RelationshipName string
	Custom           bool
	Createable       bool
	Updateable       bool
	// Scale is the number of decimals of a double, currency or percent
	// field (FORMAT() writes that many).
	Scale int
	// Handle is the schema implementation's own reference to the field
	// (opaque to this package), so Row.Get can read a value without a
	// name lookup.
	Handle any
}

// Row is one record as the evaluator reads it. Values use the emulator's
// representation: string for text kinds and Ids, float64 for numbers, bool,
// string "2006-01-02" for dates, time.Time for datetimes, nil for null.
// Integer and json.Number values are accepted as numbers too.
type Row interface {
	// Get returns the value of a field Compile resolved from the Schema.
	// For a parent column the field belongs to the parent object Compile
	// found first among the reference's targets; a polymorphic parent of
	// another type should be read by f.Name.
	Get(f *Field) any
	// Parent returns the record the reference field points at, or nil when
	// the reference is empty or dangling.
	Parent(ref *Field) Row
}

// valueType is how the evaluator compares a field's values.
type valueType int

const (
	vText valueType = iota
	vID
	vNumber
	vBool
	vDate
	vDateTime
)

// typeOf classifies a describe type.
func typeOf(describeType string) valueType {
	switch describeType {
	case "id", "reference":
		return vID
	case "double", "int", "currency", "percent", "long":
		return vNumber
	case "boolean":
		return vBool
	case "date":
		return vDate
	case "datetime":
		return vDateTime
	}
	return vText
}

// typeName is the type named in "must be of type X" messages.
func typeName(f *Field) string {
	switch typeOf(f.Type) {
	case vID:
		return "id"
	case vNumber:
		if f.Type == "int" {
			return "integer"
		}
		return "double"
	case vBool:
		return "boolean"
	case vDate:
		return "date"
	case vDateTime:
		return "dateTime"
	}
	return "string"
}

// ApexType is the apexType reported in query column metadata.
func ApexType(describeType string) string {
	switch describeType {
	case "id", "reference":
		return "Id"
	case "boolean":
		return "Boolean"
	case "double", "percent":
		return "Double"
	case "currency":
		return "Decimal"
	case "int":
		return "Integer"
	case "long":
		return "Long"
	case "date":
		return "Date"
	case "datetime":
		return "Datetime"
	case "time":
		return "Time"
	case "base64":
		return "Blob"
	case "address", "location":
		return "Object"
	}
	return "String"
}

// IsText reports whether a describe type holds text (for column metadata's textType).
func IsText(describeType string) bool { return typeOf(describeType) == vText }

// IsNumber reports whether a describe type is numeric.
func IsNumber(describeType string) bool { return typeOf(describeType) == vNumber }
