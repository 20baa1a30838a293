package emulator

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"unicode"
)

// List views (REST guide: "List Views for an Object", "Recent List Views",
// "List View Basic Information", "List View Describe", "List View
// Results"). Each queryable object has one list view, All <plural>, over
// every live record; its results run its SOQL against the org's data.
// The org has no other list views and tracks no views, so the recent list
// is the same one.

// fixedID is an Id that names obj's one thing of a kind (its list view,
// its layout): prefix, zeros, obj's key prefix, checksum. It is the same
// on every call and in every org.
func fixedID(prefix string, obj *sobject) string {
	id := prefix + strings.Repeat("0", 15-len(prefix)-len(obj.KeyPrefix)) + obj.KeyPrefix
	return id + idChecksum(id)
}

func listViewID(obj *sobject) string { return fixedID("00B", obj) }

// listViewObjectLocked is the object whose list view id names, or nil.
// e.mu is held.
func (e *Emulator) listViewObjectLocked(id string) *sobject {
	if len(id) != 18 || !strings.HasPrefix(id, "00B") {
		return nil
	}
	obj := e.org.byPrefix[id[12:15]]
	if obj == nil || !obj.Queryable || listViewID(obj) != id {
		return nil
	}
	return obj
}

// listViewColumns are the list view's columns: the name field shown, then
// the fields every list view query selects hidden.
func listViewColumns(obj *sobject) (cols []*field, hidden []bool) {
	if f := nameFieldOf(obj); f != nil {
		cols, hidden = append(cols, f), append(hidden, false)
	}
	for _, n := range []string{"Id", "CreatedDate", "LastModifiedDate", "SystemModstamp"} {
		if f := obj.field(n); f != nil {
			cols, hidden = append(cols, f), append(hidden, n != "Id" || len(cols) > 0)
		}
	}
	return cols, hidden
}

// listViewQuery is the list view's SOQL, shaped like Salesforce's (the
// columns, hidden ones last; sorted by the first column, nulls first, then
// Id).
func listViewQuery(obj *sobject) string {
	cols, _ := listViewColumns(obj)
	names := make([]string, len(cols))
	for i, f := range cols {
		names[i] = f.Name
	}
	order := "Id ASC NULLS FIRST"
	if cols[0].Name != "Id" {
		order = cols[0].Name + " ASC NULLS FIRST, " + order
	}
	return "SELECT " + strings.Join(names, ", ") + " FROM " + obj.Name + " ORDER BY " + order
}

func listViewDeveloperName(obj *sobject) string {
	var b strings.Builder
	b.WriteString("All")
	for _, r := range obj.LabelPlural {
		if r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// listViewInfo is a list view's basic information.
func listViewInfo(c *call, obj *sobject) map[string]any {
	id := listViewID(obj)
	base := "/services/data/v" + versionOf(c) + "/sobjects/" + obj.Name + "/listviews/" + id
	return map[string]any{
		"describeUrl": base + "/describe", "developerName": listViewDeveloperName(obj), "id": id,
		"label": "All " + obj.LabelPlural, "resultsUrl": base + "/results", "soqlCompatible": true, "url": base,
	}
}

// listViewColumn is one column of a list view describe or results.
type listViewColumn struct {
	AscendingLabel  string  `json:"ascendingLabel"`
	DescendingLabel string  `json:"descendingLabel"`
	FieldNameOrPath string  `json:"fieldNameOrPath"`
	Hidden          bool    `json:"hidden"`
	Label           string  `json:"label"`
	SelectListItem  string  `json:"selectListItem"`
	SortDirection   *string `json:"sortDirection"`
	SortIndex       *int    `json:"sortIndex"`
	Sortable        bool    `json:"sortable"`
	Type            string  `json:"type"`
}

func listViewColumnsJSON(obj *sobject) []listViewColumn {
	cols, hidden := listViewColumns(obj)
	out := make([]listViewColumn, len(cols))
	for i, f := range cols {
		// The guide's sample labels text columns "Z-A" ascending and
		// numbers "9-0"; dates are UNCONFIRMED.
		asc, desc := "Z-A", "A-Z"
		switch {
		case f.isNumber():
			asc, desc = "9-0", "0-9"
		case f.Type == "date" || f.Type == "datetime":
			asc, desc = "New to Old", "Old to New"
		}
		col := listViewColumn{AscendingLabel: asc, DescendingLabel: desc, FieldNameOrPath: f.Name, Hidden: hidden[i],
			Label: f.Label, SelectListItem: f.Name, Sortable: f.Sortable, Type: f.Type}
		if i == 0 {
			dir, idx := "ascending", 0
			col.SortDirection, col.SortIndex = &dir, &idx
		}
		out[i] = col
	}
	return out
}

// --- HTTP ----------------------------------------------------------------------

// listViewRoutes registers the list view resources. GET
// .../listviews/{id} shares its path shape with the User password
// resource ({type}/{id}/password), which ServeMux cannot tell apart, so
// the access-by-external-id route hands it over (serveByExternalIDOrListView).
func (e *Emulator) listViewRoutes() {
	const v = "/services/data/{version}/sobjects/{type}/listviews"
	e.handle(v, KindREST, true, map[string]handlerFunc{"GET": e.serveListViews})
	e.handle(v+"/recent", KindREST, true, map[string]handlerFunc{"GET": e.serveListViews})
	e.handle(v+"/{lv}/describe", KindREST, true, map[string]handlerFunc{"GET": e.serveListViewDescribe})
	e.handle(v+"/{lv}/results", KindREST, true, map[string]handlerFunc{"GET": e.serveListViewResults})
}

// listViewFromPath resolves {type} and the list view Id (in {lv}, or in
// {value} of the external id route), answering 404 NOT_FOUND for either
// unknown. It returns nil when it answered. e.mu is held.
func (e *Emulator) listViewFromPath(c *call, param string) *sobject {
	obj := e.objectLocked(c)
	if obj == nil {
		return nil
	}
	id, ok := normalizeID(c.r.PathValue(param))
	if !ok || e.listViewObjectLocked(id) != obj {
		c.writeNotFound()
		return nil
	}
	return obj
}

func (e *Emulator) serveListViews(c *call) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	obj := e.objectLocked(c)
	if obj == nil {
		return
	}
	views := []any{}
	if obj.Queryable {
		views = append(views, listViewInfo(c, obj))
	}
	c.writeJSON(http.StatusOK, map[string]any{
		"done": true, "listviews": views, "nextRecordsUrl": nil, "size": len(views), "sobjectType": obj.Name,
	})
}

// serveListView answers GET .../listviews/{id}: its basic information.
func (e *Emulator) serveListView(c *call) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if obj := e.listViewFromPath(c, "value"); obj != nil {
		c.writeJSON(http.StatusOK, listViewInfo(c, obj))
	}
}

func (e *Emulator) serveListViewDescribe(c *call) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	obj := e.listViewFromPath(c, "lv")
	if obj == nil {
		return
	}
	cols := listViewColumnsJSON(obj)
	c.writeJSON(http.StatusOK, map[string]any{
		"columns": cols, "id": listViewID(obj),
		"orderBy": []map[string]any{{"fieldNameOrPath": cols[0].FieldNameOrPath, "nullsPosition": "first", "sortDirection": "ascending"}},
		"query":   listViewQuery(obj), "relatedEntityId": nil, "scope": "everything", "scopeEntityId": nil,
		"sobjectType": obj.Name, "whereCondition": map[string]any{"conditions": []any{}, "conjunction": "and"},
	})
}

// serveListViewResults runs the list view's query: ?limit= records (1 to
// 2,000, default 25) from ?offset= (default 0), each as its columns'
// values (strings, null for an empty field). size counts the records of
// this answer and done says whether none follow. The keys and their
// meanings are ExecuteListViewResult's (SOAP API guide: done "all records
// have been returned", size "the number of records that are returned by
// the list view query"); whether size counts one page or every match is
// UNCONFIRMED (the REST guide's sample has one page).
func (e *Emulator) serveListViewResults(c *call) {
	limit, offset := 25, 0
	for name, dst := range map[string]*int{"limit": &limit, "offset": &offset} {
		raw := c.r.URL.Query().Get(name)
		if raw == "" {
			continue
		}
		n, err := strconv.Atoi(raw)
		if err != nil || n < 0 || (name == "limit" && (n < 1 || n > 2000)) {
			// UNCONFIRMED code and wording.
			c.writeError(http.StatusBadRequest, "INVALID_QUERY_PARAMETER_VALUE", fmt.Sprintf("%s: '%s' is not a valid value", name, raw), nil)
			return
		}
		*dst = n
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	obj := e.listViewFromPath(c, "lv")
	if obj == nil {
		return
	}
	res, qerr := e.execQueryLocked(listViewQuery(obj), false)
	if qerr != nil {
		c.writeError(http.StatusBadRequest, qerr.Code, qerr.Message, nil)
		return
	}
	fields, _ := listViewColumns(obj)
	start := min(offset, len(res.records))
	end := min(start+limit, len(res.records))
	records := make([]any, 0, end-start)
	for _, r := range res.records[start:end] {
		vals := make([]map[string]any, len(fields))
		for i, f := range fields {
			vals[i] = map[string]any{"fieldNameOrPath": f.Name, "value": listViewValue(f, r.get(f))}
		}
		records = append(records, map[string]any{"columns": vals})
	}
	c.writeJSON(http.StatusOK, map[string]any{
		"columns": listViewColumnsJSON(obj), "developerName": listViewDeveloperName(obj), "done": end >= len(res.records),
		"id": listViewID(obj), "label": "All " + obj.LabelPlural, "records": records, "size": len(records),
	})
}

// listViewValue renders a stored value as list view results carry it: a
// string, or null.
func listViewValue(f *field, v any) any {
	switch x := jsonValue(f, v).(type) {
	case nil:
		return nil
	case string:
		return x
	default:
		return fmt.Sprint(x)
	}
}
