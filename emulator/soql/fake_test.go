package soql

import (
	"iter"
	"strings"
	"time"
)

// fakeSchema is an in-memory schema: Lead and User with a few fields.
type fakeSchema map[string]*fakeObject

type fakeObject struct {
	name   string
	fields []*Field
}

func (s fakeSchema) Object(name string) Object {
	if o, ok := s[strings.ToLower(name)]; ok {
		return o
	}
	return nil
}

func (o *fakeObject) Name() string { return o.name }
func (o *fakeObject) Field(name string) *Field {
	for _, f := range o.fields {
		if strings.EqualFold(f.Name, name) {
			return f
		}
	}
	return nil
}
func (o *fakeObject) Relationship(name string) *Field {
	for _, f := range o.fields {
		if f.RelationshipName != "" && strings.EqualFold(f.RelationshipName, name) {
			return f
		}
	}
	return nil
}

func newFakeSchema() fakeSchema {
	return fakeSchema{
		"lead": {name: "Lead", fields: []*Field{
			{Name: "Id", Type: "id"},
			{Name: "LastName", Type: "string", Createable: true, Updateable: true},
			{Name: "FirstName", Type: "string", Createable: true, Updateable: true},
			{Name: "Company", Type: "string", Createable: true, Updateable: true},
			{Name: "Email", Type: "email", Createable: true, Updateable: true},
			{Name: "Status", Type: "picklist", Createable: true, Updateable: true},
			{Name: "NumberOfEmployees", Type: "int", Createable: true, Updateable: true},
			{Name: "AnnualRevenue", Type: "currency", Createable: true, Updateable: true},
			{Name: "IsConverted", Type: "boolean"},
			{Name: "IsDeleted", Type: "boolean"},
			{Name: "ConvertedDate", Type: "date"},
			{Name: "SystemModstamp", Type: "datetime"},
			{Name: "OwnerId", Type: "reference", ReferenceTo: []string{"Group", "User"}, RelationshipName: "Owner", Createable: true, Updateable: true},
			{Name: "Score__c", Type: "double", Custom: true, Createable: true, Updateable: true},
		}},
		"user": {name: "User", fields: []*Field{
			{Name: "Id", Type: "id"},
			{Name: "Name", Type: "string"},
			{Name: "Email", Type: "email"},
			{Name: "IsActive", Type: "boolean"},
		}},
	}
}

// fakeRow is a record: a map of canonical field names, plus parents by
// reference field.
type fakeRow struct {
	vals    map[string]any
	parents map[string]*fakeRow
}

func (r *fakeRow) Get(f *Field) any { return r.vals[f.Name] }
func (r *fakeRow) Parent(ref *Field) Row {
	if p := r.parents[ref.Name]; p != nil {
		return p
	}
	return nil
}

func seqOf(rows []*fakeRow) iter.Seq[Row] {
	return func(yield func(Row) bool) {
		for _, r := range rows {
			if !yield(r) {
				return
			}
		}
	}
}

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}
