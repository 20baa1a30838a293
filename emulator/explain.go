package emulator

import (
	"math"
	"net/http"
	"strings"

	"github.com/forcesync/forcesync/emulator/soql"
)

// GET /query?explain=<SOQL | list view Id>: the Query Performance Feedback
// resource (REST guide, "Query Performance Feedback"). It compiles the
// query as /query would, runs nothing for the caller and answers the plans
// the optimizer could pick, cheapest first:
//
//	{"plans":[{"cardinality","fields","leadingOperationType","notes",
//	  "relativeCost","sobjectCardinality","sobjectType"}],"sourceQuery":..}
//
// A bad query answers the errors /query answers (MALFORMED_QUERY,
// INVALID_FIELD, INVALID_TYPE); an Id that names no list view (the
// emulator has no reports) answers INVALID_ID, as the guide says.
//
// The plans are the emulator's model of Salesforce's optimizer, not a copy
// of it: one TableScan plan, and one Index plan per top-level AND term that
// filters an indexed field with an operator an index serves (=, IN, ranges,
// LIKE without a leading wildcard). Indexed fields are those the large data
// volumes guide ("Indexes") lists: Id, Name, CreatedDate, SystemModstamp
// (and LastModifiedDate), RecordTypeId, Division, lookups and master-detail
// fields, Email on Contact and Lead, and External ID or unique fields (a
// custom index). Cardinalities are counted on the org's live records; the
// relative cost is the cardinality over the guide's selectivity threshold
// (standard index: 30% of the first million records and 15% beyond, at most
// a million; custom index: 10% and 5%, at most 333,333), so a cost below 1
// is a selective plan. Every plan notes the unindexed fields of the filter
// and IsDeleted, as Salesforce's answers do.

// explainPlan is one plan, keys in Salesforce's (alphabetical) order.
type explainPlan struct {
	Cardinality          int           `json:"cardinality"`
	Fields               []string      `json:"fields"`
	LeadingOperationType string        `json:"leadingOperationType"`
	Notes                []explainNote `json:"notes"`
	RelativeCost         float64       `json:"relativeCost"`
	SobjectCardinality   int           `json:"sobjectCardinality"`
	SobjectType          string        `json:"sobjectType"`
}

type explainNote struct {
	Description   string   `json:"description"`
	Fields        []string `json:"fields"`
	TableEnumOrID string   `json:"tableEnumOrId"`
}

const noteUnindexed = "Not considering filter for optimization because unindexed"

// serveExplain answers /query?explain=.
func (e *Emulator) serveExplain(c *call, text string) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	text = strings.TrimSpace(text)
	if id, ok := normalizeID(text); ok {
		obj := e.listViewObjectLocked(id) // listviews.go
		if obj == nil {
			// Code from the guide; the wording is UNCONFIRMED.
			c.writeError(http.StatusBadRequest, "INVALID_ID", "invalid ID field: "+text, nil)
			return
		}
		text = listViewQuery(obj)
	}
	plans, qerr := e.explainLocked(text)
	if qerr != nil {
		c.writeError(http.StatusBadRequest, qerr.Code, qerr.Message, nil)
		return
	}
	c.writeJSON(http.StatusOK, struct {
		Plans       []explainPlan `json:"plans"`
		SourceQuery string        `json:"sourceQuery"`
	}{plans, text})
}

// explainLocked compiles text and builds its plans. e.mu is held.
func (e *Emulator) explainLocked(text string) ([]explainPlan, *queryError) {
	plan, qerr := e.compileQueryLocked(text)
	if qerr != nil {
		return nil, qerr
	}
	q, obj := plan.Query, plan.Object.(queryObject).o
	n := obj.live
	notes := e.explainNotes(q, obj)
	count := func(where soql.Expr) int {
		if where == nil {
			return n
		}
		sub := &soql.Query{Select: []soql.SelectItem{{Field: &soql.FieldRef{Path: []string{"Id"}}}}, From: q.From, Where: where}
		res, qerr := e.execQueryLocked(sub.String(), false)
		if qerr != nil {
			return n
		}
		return len(res.records)
	}
	scan := explainPlan{
		Cardinality: count(q.Where), Fields: []string{}, LeadingOperationType: "TableScan", Notes: notes,
		RelativeCost: relativeCost(n, selectivityThreshold(n, false)), SobjectCardinality: n, SobjectType: obj.Name,
	}
	var plans []explainPlan
	for _, term := range andTerms(q.Where) {
		f := indexedFilterField(q, obj, term)
		if f == nil {
			continue
		}
		card := count(term)
		plans = append(plans, explainPlan{
			Cardinality: card, Fields: []string{f.Name}, LeadingOperationType: "Index", Notes: notes,
			RelativeCost: relativeCost(card, selectivityThreshold(n, customIndex(f))), SobjectCardinality: n, SobjectType: obj.Name,
		})
	}
	plans = append(plans, scan)
	// Cheapest first; ties keep the filter's order, TableScan last.
	for i := 1; i < len(plans); i++ {
		for j := i; j > 0 && plans[j].RelativeCost < plans[j-1].RelativeCost; j-- {
			plans[j], plans[j-1] = plans[j-1], plans[j]
		}
	}
	return plans, nil
}

// andTerms is the top-level AND terms of a filter (the filter itself when
// it is not an AND).
func andTerms(x soql.Expr) []soql.Expr {
	switch l := x.(type) {
	case nil:
		return nil
	case *soql.Logical:
		if !l.Or {
			return l.Terms
		}
	}
	return []soql.Expr{x}
}

// directField resolves a filter's field reference to a field of obj itself
// (Email, or c.Email with the alias c); nil for a parent path or a
// function.
func directField(q *soql.Query, obj *sobject, ref *soql.FieldRef) *field {
	if ref == nil || len(ref.Funcs) > 0 {
		return nil
	}
	path := ref.Path
	if len(path) == 2 && (strings.EqualFold(path[0], q.From.Alias) || strings.EqualFold(path[0], obj.Name)) {
		path = path[1:]
	}
	if len(path) != 1 {
		return nil
	}
	return obj.field(path[0])
}

// indexedFilterField is the indexed field term filters with an operator an
// index serves, or nil.
func indexedFilterField(q *soql.Query, obj *sobject, term soql.Expr) *field {
	var f *field
	switch t := term.(type) {
	case *soql.Compare:
		if t.Agg != nil || t.Op == soql.OpNe || t.Value.Kind == soql.KindNull {
			return nil
		}
		if t.Op == soql.OpLike && (t.Value.Kind != soql.KindString || strings.HasPrefix(t.Value.Text, "%") || strings.HasPrefix(t.Value.Text, "_")) {
			return nil
		}
		f = directField(q, obj, t.Field)
	case *soql.In:
		if t.Agg != nil || t.Not {
			return nil
		}
		f = directField(q, obj, t.Field)
	}
	if f == nil || !indexed(obj, f) {
		return nil
	}
	return f
}

// indexed reports whether Salesforce keeps an index on f.
func indexed(obj *sobject, f *field) bool {
	switch f.Name {
	case "Id", "Name", "CreatedDate", "SystemModstamp", "LastModifiedDate", "RecordTypeId", "Division":
		return true
	case "Email":
		return obj.Name == "Contact" || obj.Name == "Lead"
	}
	return f.Type == "reference" || f.NameField || customIndex(f)
}

// customIndex reports whether f's index is a custom one (External ID or
// unique), with the custom index's lower threshold.
func customIndex(f *field) bool { return f.ExternalID || f.Unique }

// explainNotes lists, once each, the fields of obj the filter reads that
// have no index, then IsDeleted (the filter every query adds).
func (e *Emulator) explainNotes(q *soql.Query, obj *sobject) []explainNote {
	notes := []explainNote{}
	seen := map[string]bool{}
	note := func(ref *soql.FieldRef) {
		f := directField(q, obj, ref)
		if f == nil || indexed(obj, f) || seen[f.Name] {
			return
		}
		seen[f.Name] = true
		notes = append(notes, explainNote{noteUnindexed, []string{f.Name}, obj.Name})
	}
	var walk func(x soql.Expr)
	walk = func(x soql.Expr) {
		switch t := x.(type) {
		case *soql.Logical:
			for _, term := range t.Terms {
				walk(term)
			}
		case *soql.Not:
			walk(t.X)
		case *soql.Compare:
			note(t.Field)
		case *soql.In:
			note(t.Field)
		case *soql.Includes:
			note(t.Field)
		}
	}
	walk(q.Where)
	if obj.field("IsDeleted") != nil {
		notes = append(notes, explainNote{noteUnindexed, []string{"IsDeleted"}, obj.Name})
	}
	return notes
}

// selectivityThreshold is how many of n records a filter may match and
// still be selective: standard index 30% of the first million and 15%
// beyond (at most a million), custom index 10% and 5% (at most 333,333),
// per the large data volumes guide.
func selectivityThreshold(n int, custom bool) float64 {
	first, rest := float64(min(n, 1_000_000)), float64(max(n-1_000_000, 0))
	if custom {
		return min(0.10*first+0.05*rest, 333_333)
	}
	return min(0.30*first+0.15*rest, 1_000_000)
}

// relativeCost is card over the threshold, rounded to four places; 0 for
// an empty table.
func relativeCost(card int, threshold float64) float64 {
	if card == 0 || threshold <= 0 {
		return 0
	}
	return math.Round(float64(card)/threshold*1e4) / 1e4
}
