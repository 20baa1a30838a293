package console

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/forcesync/forcesync/config"
)

// editorRow is one field row of the editor's form: every kind of row the
// config has (config.RowYAML), as text inputs.
type editorRow struct {
	Target string
	// Kind is source, value, expr, template or first_of; Value its text
	// (a source field, a constant, an expression, a template, or the
	// first_of list comma-separated).
	Kind, Value string
	Default     string
	// Map is the value map, one "source value=Salesforce value" a line.
	Map string
	// On is "create" (create only) or "" (always).
	On string
	// Direction is "", push, pull or both; Conflict a both row's policy.
	Direction, Conflict string
	// Clear is "yes" for clear_when_empty.
	Clear string
	// Problem is the type check's finding on this row.
	Problem string
	// formChecked: the form's own check found Problem, which the
	// config's findings on the row would only repeat.
	formChecked bool
}

// name says which row it is, as its legend does.
func (r editorRow) name(i int) string {
	if r.Target == "" {
		return fmt.Sprintf("Row %d", i)
	}
	return fmt.Sprintf("Row %d (%s)", i, r.Target)
}

// addProblem notes a finding on the row, after any noted already.
func (r *editorRow) addProblem(msg string) {
	if r.Problem == "" {
		r.Problem = msg
		return
	}
	r.Problem += "; " + msg
}

// rowKinds are the kinds a row may be, with what the editor calls them.
var rowKinds = []struct{ Kind, Label string }{
	{"source", "source field"}, {"value", "constant"}, {"expr", "expression"},
	{"template", "template"}, {"first_of", "first of (fallbacks)"},
}

// rowKindText says what a row of each kind needs typed.
var rowKindText = map[string]string{"source": "the source field it reads", "expr": "the expression",
	"template": "the template", "first_of": "the fallbacks, comma-separated"}

// Kinds lists the row kinds for the template.
func (editorRow) Kinds() []struct{ Kind, Label string } { return rowKinds }

// Empty reports a row with nothing typed.
func (r editorRow) Empty() bool {
	return r.Target == "" && r.Value == "" && r.Default == "" && r.Map == ""
}

// formFromPost reads the editor's form: one value per row of each
// row_* list (every row renders every input, so the lists line up).
func formFromPost(r *http.Request) *editorForm {
	pf := r.PostForm
	f := &editorForm{Name: strings.TrimSpace(pf.Get("name")), Source: pf.Get("source"), Connection: pf.Get("connection"),
		Object: pf.Get("object"), Direction: pf.Get("direction"), Mode: pf.Get("mode"), Filter: strings.TrimSpace(pf.Get("filter")),
		MatchKind: pf.Get("match_kind"), MatchField: strings.TrimSpace(pf.Get("match_field")), Sample: pf.Get("sample")}
	at := func(name string, i int) string {
		if l := pf[name]; i < len(l) {
			return l[i]
		}
		return ""
	}
	for i := range pf["row_target"] {
		row := editorRow{Target: at("row_target", i), Kind: at("row_kind", i), Value: strings.TrimSpace(at("row_value", i)),
			Default: at("row_default", i), Map: at("row_map", i), On: at("row_on", i), Direction: at("row_direction", i),
			Conflict: at("row_conflict", i), Clear: at("row_clear", i)}
		if row.Kind == "" {
			row.Kind = "source"
		}
		if !row.Empty() {
			f.Rows = append(f.Rows, row)
		}
	}
	return f
}

// formFromYAML fills the form with a mapping the file holds.
func formFromYAML(m *config.MappingYAML) *editorForm {
	f := &editorForm{Editing: true, Name: m.Name, Source: m.Source, Connection: m.Connection, Object: m.Object,
		Direction: m.Direction, Mode: m.Mode, Filter: m.Filter}
	f.MatchKind, f.MatchField = matchFromYAML(m.Match)
	for _, r := range m.Fields {
		row := editorRow{Target: r.Target, Default: string(r.Default), On: r.On, Direction: r.Direction, Conflict: r.Conflict}
		switch {
		case r.Value != nil:
			row.Kind, row.Value = "value", string(*r.Value)
		case r.Expr != "":
			row.Kind, row.Value = "expr", r.Expr
		case r.Template != "":
			row.Kind, row.Value = "template", r.Template
		case len(r.FirstOf) > 0:
			row.Kind, row.Value = "first_of", strings.Join(r.FirstOf, ", ")
		default:
			row.Kind, row.Value = "source", r.Source
		}
		if row.On == "always" {
			row.On = ""
		}
		if r.ClearWhenEmpty {
			row.Clear = "yes"
		}
		for _, k := range slices.Sorted(mapsKeys(r.Map)) {
			row.Map += k + "=" + r.Map[k] + "\n"
		}
		f.Rows = append(f.Rows, row)
	}
	return f
}

// matchFromYAML reads the match rule's short and long forms.
func matchFromYAML(v any) (kind, field string) {
	switch m := v.(type) {
	case string:
		return m, ""
	case map[string]any:
		if k, ok := m["kind"].(string); ok {
			kind = k
		}
		if s, ok := m["external_id"].(string); ok {
			kind, field = "external_id", s
		}
		if s, ok := m["field"].(string); ok {
			field = s
		}
		if l, ok := m["fields"].([]any); ok {
			var names []string
			for _, x := range l {
				names = append(names, fmt.Sprint(x))
			}
			if kind == "" {
				kind = "fields"
			}
			field = strings.Join(names, ", ")
		}
		if b, ok := m["binding"].(bool); ok && b && kind == "" {
			kind = "binding"
		}
	}
	return kind, field
}

// toYAML builds what the form says; false (with problems noted) when the
// form itself is incomplete.
func (f *editorForm) toYAML() (config.MappingYAML, bool) {
	my := config.MappingYAML{Name: f.Name, Source: f.Source, Connection: f.Connection, Object: f.Object,
		Direction: f.Direction, Mode: f.Mode, Filter: f.Filter}
	switch f.MatchKind {
	case "external_id":
		my.Match = map[string]any{"external_id": f.MatchField}
	case "fields":
		my.Match = map[string]any{"fields": splitList(f.MatchField)}
	case "binding":
		my.Match = "binding"
	default:
		f.Problems = append(f.Problems, "Choose how records find their Salesforce twin.")
		return my, false
	}
	if f.Name == "" {
		f.Problems = append(f.Problems, "Name: enter a name for the mapping (letters, digits, _ . -).")
		return my, false
	}
	ok := true
	for i := range f.Rows {
		row := &f.Rows[i]
		// A row with something typed but no field, or no value to send,
		// is said so here, in the form's words; the config's check still
		// runs on the other rows (and its "set exactly one of source,
		// value, ..." for this one is left out: problems).
		if row.Target == "" {
			row.Problem, row.formChecked = "choose the Salesforce field this row sets", true
		} else if row.Value == "" && row.Kind != "value" {
			row.Problem, row.formChecked = "enter what the row sends: "+rowKindText[row.Kind], true
		}
		ry := config.RowYAML{Target: row.Target, Default: config.Scalar(row.Default), On: row.On,
			Direction: row.Direction, Conflict: row.Conflict, ClearWhenEmpty: row.Clear == "yes"}
		switch row.Kind {
		case "source":
			ry.Source = row.Value
		case "value":
			v := config.Scalar(row.Value)
			ry.Value = &v
		case "expr":
			ry.Expr = row.Value
		case "template":
			ry.Template = row.Value
		case "first_of":
			ry.FirstOf = splitList(row.Value)
		default:
			row.Problem = "choose what the row is: a source field, a constant, an expression, a template or fallbacks"
			ok = false
		}
		if strings.TrimSpace(row.Map) != "" {
			ry.Map = map[string]string{}
			for _, line := range strings.Split(row.Map, "\n") {
				line = strings.TrimSpace(line)
				if line == "" {
					continue
				}
				from, to, found := strings.Cut(line, "=")
				if !found {
					row.Problem = fmt.Sprintf("value map line %q needs the form source value=Salesforce value", line)
					ok = false
					continue
				}
				ry.Map[strings.TrimSpace(from)] = strings.TrimSpace(to)
			}
		}
		if row.Problem != "" {
			f.Problems = append(f.Problems, row.name(i)+": "+row.Problem)
		}
		my.Fields = append(my.Fields, ry)
	}
	return my, ok
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
