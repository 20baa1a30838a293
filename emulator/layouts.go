package emulator

import "net/http"

// The describe sub-resources clients call beside describe (REST guide: "Get
// Layouts and Descriptions for a Specified Object", "... With Multiple
// Record Types", "Compact Layouts", "Describe Approval Layouts", "Quick
// Actions"). The emulator's org has one record type (Master), one page
// layout per object holding every field in one section, the system
// default compact layout (the name field), no approval processes and no
// quick actions: the shapes are Salesforce's, the contents this org's.

// masterRecordTypeID is the Master record type's Id, the one record type
// of every object (describe's recordTypeInfos).
const masterRecordTypeID = "012000000000000AAA"

func (e *Emulator) layoutRoutes() {
	const v = "/services/data/{version}/sobjects/{type}"
	e.handle(v+"/describe/layouts", KindREST, true, map[string]handlerFunc{"GET": e.serveLayouts})
	e.handle(v+"/describe/layouts/{rt}", KindREST, true, map[string]handlerFunc{"GET": e.serveLayoutOfRecordType})
	e.handle(v+"/describe/compactLayouts", KindREST, true, map[string]handlerFunc{"GET": e.serveCompactLayouts})
	e.handle(v+"/describe/compactLayouts/{rt}", KindREST, true, map[string]handlerFunc{"GET": e.serveCompactLayoutOfRecordType})
	e.handle(v+"/describe/approvalLayouts", KindREST, true, map[string]handlerFunc{"GET": e.serveApprovalLayouts})
	e.handle(v+"/quickActions", KindREST, true, map[string]handlerFunc{"GET": e.serveQuickActions})
	// The global actions (the resource map's quickActions): none either.
	e.handle("/services/data/{version}/quickActions", KindREST, true, map[string]handlerFunc{
		"GET": func(c *call) { c.writeJSON(http.StatusOK, []any{}) }})
}

// layoutItem is one field of a layout section (DescribeLayoutItem) with
// its field's describe as the component's details.
func layoutItem(f *field) map[string]any {
	return map[string]any{
		"editableForNew": f.Createable, "editableForUpdate": f.Updateable, "label": f.Label,
		"layoutComponents": []any{map[string]any{
			"details": describeField(f), "displayLines": 1, "tabOrder": f.pos + 1, "type": "Field", "value": f.Name,
		}},
		"placeholder": false, "required": f.requiredOnCreate(),
	}
}

// layoutSection is one single-column section of the fields keep picks.
func layoutSection(obj *sobject, keep func(*field) bool) map[string]any {
	rows := []any{}
	for _, f := range obj.Fields {
		if keep(f) {
			rows = append(rows, map[string]any{"layoutItems": []any{layoutItem(f)}, "numItems": 1})
		}
	}
	return map[string]any{
		"collapsed": false, "columns": 1, "heading": obj.Label + " Information", "layoutRows": rows,
		"layoutSectionId": nil, "parentLayoutId": fixedID("00h", obj), "rows": len(rows), "tabOrder": "TopToBottom",
		"useCollapsibleSection": false, "useHeading": true,
	}
}

// pageLayout is obj's one layout (DescribeLayout): every field on the
// detail page, the ones a user may set on the edit page.
func pageLayout(obj *sobject) map[string]any {
	return map[string]any{
		"buttonLayoutSection":          map[string]any{"detailButtons": []any{}},
		"detailLayoutSections":         []any{layoutSection(obj, func(*field) bool { return true })},
		"editLayoutSections":           []any{layoutSection(obj, func(f *field) bool { return f.Createable || f.Updateable })},
		"feedView":                     nil,
		"highlightsPanelLayoutSection": nil,
		"id":                           fixedID("00h", obj),
		"multirowEditLayoutSections":   []any{},
		"offlineLinks":                 []any{},
		"quickActionList":              map[string]any{"quickActionListItems": []any{}},
		"relatedContent":               nil,
		"relatedLists":                 []any{},
		"saveOptions":                  []any{},
	}
}

func (e *Emulator) serveLayouts(c *call) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	obj := e.objectLocked(c)
	if obj == nil {
		return
	}
	picklists := []any{}
	for _, f := range obj.Fields {
		if len(f.Picklist) > 0 {
			picklists = append(picklists, map[string]any{"picklistName": f.Name, "picklistValues": describeField(f).PicklistValues})
		}
	}
	c.writeJSON(http.StatusOK, map[string]any{
		"layouts": []any{pageLayout(obj)},
		"recordTypeMappings": []any{map[string]any{
			"active": true, "available": true, "defaultRecordTypeMapping": true, "developerName": "Master",
			"layoutId": fixedID("00h", obj), "master": true, "name": "Master", "picklistsForRecordType": picklists,
			"recordTypeId": masterRecordTypeID,
			"urls":         map[string]string{"layout": "/services/data/v" + versionOf(c) + "/sobjects/" + obj.Name + "/describe/layouts/" + masterRecordTypeID},
		}},
		"recordTypeSelectorRequired": []bool{false},
	})
}

// serveLayoutOfRecordType answers .../describe/layouts/{recordTypeId}: the
// layout itself; a record type the object does not have is NOT_FOUND.
func (e *Emulator) serveLayoutOfRecordType(c *call) { e.serveOfRecordType(c, pageLayout) }

// serveCompactLayoutOfRecordType answers the compact layout of the Master
// record type (the URL recordTypeCompactLayoutMappings gives).
func (e *Emulator) serveCompactLayoutOfRecordType(c *call) { e.serveOfRecordType(c, compactLayout) }

// serveOfRecordType answers what layout makes of the object for the
// record type {rt} of the path: the org's objects have only the Master
// one.
func (e *Emulator) serveOfRecordType(c *call, layout func(*sobject) map[string]any) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	obj := e.objectLocked(c)
	if obj == nil {
		return
	}
	if id, ok := normalizeID(c.r.PathValue("rt")); !ok || id != masterRecordTypeID {
		c.writeNotFound()
		return
	}
	c.writeJSON(http.StatusOK, layout(obj))
}

// compactLayout is the system default compact layout (no Id, name
// SYSTEM) holding the object's name field.
func compactLayout(obj *sobject) map[string]any {
	items := []any{}
	if f := nameFieldOf(obj); f != nil {
		items = append(items, layoutItem(f))
	}
	return map[string]any{
		"actions": []any{}, "fieldItems": items, "id": nil, "imageItems": []any{},
		"label": "System Default", "name": "SYSTEM", "objectType": obj.Name,
	}
}

func (e *Emulator) serveCompactLayouts(c *call) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	obj := e.objectLocked(c)
	if obj == nil {
		return
	}
	c.writeJSON(http.StatusOK, map[string]any{
		"compactLayouts":         []any{compactLayout(obj)},
		"defaultCompactLayoutId": nil,
		"recordTypeCompactLayoutMappings": []any{map[string]any{
			"available": true, "compactLayoutId": nil, "compactLayoutName": "SYSTEM",
			"recordTypeId": masterRecordTypeID, "recordTypeName": "Master",
			"urls": map[string]string{"compactLayout": "/services/data/v" + versionOf(c) + "/sobjects/" + obj.Name + "/describe/compactLayouts/" + masterRecordTypeID},
		}},
	})
}

// serveApprovalLayouts: the org has no approval processes.
func (e *Emulator) serveApprovalLayouts(c *call) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.objectLocked(c) != nil {
		c.writeJSON(http.StatusOK, map[string]any{"approvalLayouts": []any{}})
	}
}

// serveQuickActions: the org has no quick actions, an empty array.
func (e *Emulator) serveQuickActions(c *call) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.objectLocked(c) != nil {
		c.writeJSON(http.StatusOK, []any{})
	}
}
