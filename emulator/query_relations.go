package emulator

import (
	"strings"

	"github.com/forcesync/forcesync/emulator/soql"
)

// Parent-to-child subqueries, multi-level parent paths and aggregate
// results, as the REST query resource renders them.

// childRelationName is the name of the child relationship a reference
// field f of child gives its parent (Contacts for Contact.AccountId on
// Account); "" when the relationship has no name. Keep in step with
// childRelationshipsLocked (describe.go), which lists the same names.
func childRelationName(child *sobject, f *field, parent string) string {
	switch {
	case f.Name == "AccountId" && child.Name == "Contact" && parent == "Account":
		return "Contacts"
	case f.Name == "ContactId" && child.Name == "User":
		return "Users"
	case f.Custom:
		return child.Name[:len(child.Name)-3] + "s__r"
	}
	return ""
}

// ChildRelationship implements soql.ChildRelationships.
func (q queryObject) ChildRelationship(name string) (soql.Object, *soql.Field, string) {
	s := q.schema
	if s == nil {
		return nil, nil, ""
	}
	for _, child := range s.e.org.objects {
		if !child.Queryable {
			continue
		}
		for _, f := range child.Fields {
			if f.Type != "reference" || !refAllows(f, q.o.Name) {
				continue
			}
			if rel := childRelationName(child, f, q.o.Name); rel != "" && strings.EqualFold(rel, name) {
				return queryObject{o: child, schema: s}, soqlField(f), rel
			}
		}
	}
	return nil, nil, ""
}

// childIndex maps parent Id to child records for each subquery of a page.
type childIndex map[*soql.SubPlan]map[string][]*record

// childIndexLocked gathers, in one pass over each child object, the
// children of the given parents.
func (e *Emulator) childIndexLocked(plan *soql.Plan, parents []*record) childIndex {
	if len(plan.Subqueries) == 0 {
		return nil
	}
	want := make(map[string]bool, len(parents))
	for _, r := range parents {
		want[r.ID] = true
	}
	out := childIndex{}
	for _, sp := range plan.Subqueries {
		obj := sp.Child.(queryObject).o
		ref := sp.Ref.Handle.(*field)
		m := map[string][]*record{}
		e.eachRecordLocked(obj, false, func(r *record) bool {
			if id, _ := r.get(ref).(string); id != "" && want[id] {
				m[id] = append(m[id], r)
			}
			return true
		})
		out[sp] = m
	}
	return out
}

// subqueryValueLocked renders one parent's children for a subquery: null
// when there are none (as Salesforce answers), else a nested query result.
func (e *Emulator) subqueryValueLocked(c *call, sp *soql.SubPlan, kids []*record) any {
	if len(kids) == 0 {
		return nil
	}
	rows := make([]queryRow, len(kids))
	seq := func(yield func(soql.Row) bool) {
		for i, r := range kids {
			rows[i] = queryRow{e: e, r: r}
			if !yield(&rows[i]) {
				return
			}
		}
	}
	sel := sp.Plan.Select(seq)
	if len(sel) == 0 {
		return nil
	}
	recs := make([]any, len(sel))
	for i, r := range sel {
		recs[i] = e.renderQueryRecordLocked(c, sp.Plan, r.(*queryRow).r, nil)
	}
	return &orderedRecord{keys: []string{"totalSize", "done", "records"}, vals: []any{len(recs), true, recs}}
}

// aggregateRecordsLocked renders an aggregate plan's groups as
// AggregateResult records.
func (e *Emulator) aggregateRecordsLocked(plan *soql.Plan, recs []*record) []any {
	rows := make([]soql.Row, len(recs))
	for i, r := range recs {
		rows[i] = &queryRow{e: e, r: r}
	}
	groups := plan.Groups(rows)
	out := make([]any, len(groups))
	for i, vals := range groups {
		rec := &orderedRecord{keys: []string{"attributes"}, vals: []any{map[string]any{"type": "AggregateResult"}}}
		for k, col := range plan.Columns {
			v := vals[k]
			switch col.Agg {
			case "COUNT", "COUNT_DISTINCT", "SUM", "AVG":
			default:
				if f, ok := col.Field.Handle.(*field); ok {
					v = jsonValue(f, v)
				}
			}
			rec.keys = append(rec.keys, col.Path)
			rec.vals = append(rec.vals, v)
		}
		out[i] = rec
	}
	return out
}

// parentValueLocked nests a parent column's value under its relationship
// chain in out: {"Account": {"attributes":…, "Owner": {"attributes":…,
// "Name": …}}}. A chain broken by an empty reference renders null there.
// nested remembers the records already opened, by relationship path.
func (e *Emulator) parentValueLocked(c *call, out *orderedRecord, row *queryRow, col *soql.Column, nested map[string]*parentSlot) {
	container, cur := out, soql.Row(row)
	path := ""
	for _, ref := range col.Refs {
		path += "." + ref.RelationshipName
		slot, seen := nested[path]
		if !seen {
			slot = &parentSlot{}
			if p, ok := cur.Parent(ref).(*queryRow); ok && p != nil {
				slot.rec = &orderedRecord{keys: []string{"attributes"},
					vals: []any{map[string]any{"type": p.r.obj.Name, "url": recordURL(c, p.r.obj, p.r.ID)}}}
				slot.row = p
			}
			nested[path] = slot
			container.keys = append(container.keys, ref.RelationshipName)
			if slot.rec != nil {
				container.vals = append(container.vals, slot.rec)
			} else {
				container.vals = append(container.vals, nil)
			}
		}
		if slot.rec == nil {
			return
		}
		container, cur = slot.rec, slot.row
	}
	container.keys = append(container.keys, col.Field.Name)
	container.vals = append(container.vals, columnJSON(col, col.Value(row)))
}

// typeOfValueLocked renders a TYPEOF column: the polymorphic parent with
// its attributes and the fields its type's WHEN branch (or ELSE) names;
// null for an empty reference.
func (e *Emulator) typeOfValueLocked(c *call, row *queryRow, t *soql.TypeOfPlan) any {
	p, ok := row.Parent(t.Ref).(*queryRow)
	if !ok || p == nil {
		return nil
	}
	rec := &orderedRecord{keys: []string{"attributes"},
		vals: []any{map[string]any{"type": p.r.obj.Name, "url": recordURL(c, p.r.obj, p.r.ID)}}}
	fields, names := t.Fields(p.r.obj.Name)
	for _, f := range fields {
		rec.keys = append(rec.keys, f.Name)
		rec.vals = append(rec.vals, jsonValue(f.Handle.(*field), p.Get(f)))
	}
	for _, name := range names {
		if f := p.r.obj.field(name); f != nil {
			rec.keys = append(rec.keys, f.Name)
			rec.vals = append(rec.vals, jsonValue(f, p.r.get(f)))
		}
	}
	return rec
}

// parentSlot is one opened parent record of a result row.
type parentSlot struct {
	rec *orderedRecord
	row *queryRow
}
