package emulator

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// coreRoutes registers the REST resources CORE serves: the version list,
// the resource map, describeGlobal, sObject basic info / describe / CRUD,
// access by external id, getUpdated / getDeleted, the User password
// resource and /limits.
func (e *Emulator) coreRoutes() {
	versions := map[string]handlerFunc{"GET": e.serveVersions}
	e.handle("/services/data", KindNone, false, versions)
	e.handle("/services/data/{$}", KindNone, false, versions)
	const v = "/services/data/{version}"
	e.handle(v, KindREST, true, map[string]handlerFunc{"GET": e.serveResources})
	e.handle(v+"/limits", KindREST, true, map[string]handlerFunc{"GET": e.serveLimits})
	e.handle(v+"/recent", KindREST, true, map[string]handlerFunc{"GET": e.serveRecent})
	e.handle(v+"/sobjects", KindREST, true, map[string]handlerFunc{"GET": e.serveDescribeGlobal})
	e.handle(v+"/sobjects/{type}", KindREST, true, map[string]handlerFunc{"GET": e.serveBasicInfo, "POST": e.serveCreate})
	e.handle(v+"/sobjects/{type}/describe", KindREST, true, map[string]handlerFunc{"GET": e.serveDescribe})
	e.handle(v+"/sobjects/{type}/updated", KindREST, true, map[string]handlerFunc{"GET": e.serveUpdated})
	e.handle(v+"/sobjects/{type}/deleted", KindREST, true, map[string]handlerFunc{"GET": e.serveDeleted})
	e.handle(v+"/sobjects/{type}/{id}", KindREST, true, map[string]handlerFunc{
		"GET": e.serveRetrieve, "PATCH": e.serveUpdate, "DELETE": e.serveDelete, "POST": e.serveCreateByIdField})
	e.handle(v+"/sobjects/{type}/{field}/{value}", KindREST, true, map[string]handlerFunc{
		"GET": e.serveByExternalIDOrListView, "PATCH": e.serveUpsert, "DELETE": e.serveDeleteByExternalID})
	e.handle(v+"/sobjects/{type}/{id}/password", KindREST, true, map[string]handlerFunc{
		"GET": e.servePassword, "POST": e.servePassword, "DELETE": e.servePassword, "PATCH": e.servePassword})
	e.layoutRoutes()   // layouts.go
	e.listViewRoutes() // listviews.go
}

// releaseLabel names the release of an API version: 31.0 is Summer '14,
// and each release adds one.
func releaseLabel(v int) string {
	k := v - 31
	season := [3]string{"Summer", "Winter", "Spring"}[k%3]
	return fmt.Sprintf("%s '%02d", season, 14+(k+2)/3)
}

// serveVersions lists every served version, oldest first. No auth, not
// counted, no Sforce-Limit-Info.
func (e *Emulator) serveVersions(c *call) {
	out := make([]map[string]string, 0, MaxVersion-MinVersion+1)
	for v := MinVersion; v <= MaxVersion; v++ {
		s := strconv.Itoa(v) + ".0"
		out = append(out, map[string]string{"label": releaseLabel(v), "url": "/services/data/v" + s, "version": s})
	}
	c.writeJSON(http.StatusOK, out)
}

// serveResources is the resource map of one version.
func (e *Emulator) serveResources(c *call) {
	p := "/services/data/v" + c.version + "/"
	out := map[string]string{}
	for _, name := range []string{"tooling", "metadata", "eclair", "folders", "prechatForms", "contact-tracing",
		"async-queries", "query", "appMenu", "quickActions", "queryAll", "commerce", "wave", "iot", "analytics",
		"search", "identity", "composite", "parameterizedSearch", "fingerprint", "theme", "nouns", "domino",
		"event", "serviceTemplates", "recent", "connect", "licensing", "limits", "process", "dedupe",
		"async-limits", "asyncQueries", "query", "jobs", "localizedvalue", "mobile", "emailConnect",
		"chatter", "tabs", "sobjects", "actions", "support", "scheduling", "consent"} {
		out[name] = p + name
	}
	out["identity"] = e.baseURL(c) + "/id/" + e.OrgID() + "/" + c.sess.UserID
	c.writeJSON(http.StatusOK, out)
}

func (e *Emulator) serveLimits(c *call) {
	e.mu.RLock()
	body := e.limitsBodyLocked()
	e.mu.RUnlock()
	c.writeJSON(http.StatusOK, body)
}

// writeRecordError answers a DML failure: 404 for missing or deleted
// records, 400 otherwise. Fields nil omits the key.
func (c *call) writeRecordError(rerr *recordError) {
	status, fields := http.StatusBadRequest, rerr.Fields
	switch rerr.Code {
	case "NOT_FOUND":
		// Salesforce's NOT_FOUND carries no fields key (salesforce-api.md §3.3).
		status, fields = http.StatusNotFound, nil
	case "ENTITY_IS_DELETED":
		status = http.StatusNotFound
	}
	c.writeError(status, rerr.Code, rerr.Message, fields)
}

func (c *call) writeNotFound() {
	c.writeError(http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist", nil)
}

// objectLocked resolves {type}; it answers 404 NOT_FOUND and returns nil
// for an unknown object.
func (e *Emulator) objectLocked(c *call) *sobject {
	obj := e.sobjectLocked(c.r.PathValue("type"))
	if obj == nil {
		c.writeNotFound()
	}
	return obj
}

// --- describe ------------------------------------------------------------------

func (e *Emulator) serveDescribeGlobal(c *call) {
	e.mu.RLock()
	if notModifiedGlobal(c, e.org.objects) { // describe_cache.go
		e.mu.RUnlock()
		return
	}
	list := make([]any, 0, len(e.org.objects))
	for _, obj := range e.org.objects {
		list = append(list, globalDescribe(c, obj))
	}
	e.mu.RUnlock()
	c.writeJSON(http.StatusOK, map[string]any{"encoding": "UTF-8", "maxBatchSize": 200, "sobjects": list})
}

func (e *Emulator) serveBasicInfo(c *call) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	obj := e.objectLocked(c)
	if obj == nil {
		return
	}
	// recentItems: the last few records written, newest first, with Id and
	// Name as Salesforce lists them.
	recent := []any{}
	nameF := nameFieldOf(obj)
	for i := len(obj.rows) - 1; i >= 0 && len(recent) < 25; i-- {
		r := obj.rows[i]
		if r == nil || r.deleted {
			continue
		}
		fields := []string{"Id"}
		if nameF != nil {
			fields = append(fields, nameF.Name)
		}
		recent = append(recent, e.renderOrderedLocked(c, r, fields))
	}
	c.writeJSON(http.StatusOK, map[string]any{"objectDescribe": globalDescribe(c, obj), "recentItems": recent})
}

// serveRecent is the Recently Viewed Items resource (restforce's
// client.recent, jsforce's conn.recent()): up to ?limit= (at most 200)
// records with their Id and name, newest first. The emulator does not
// track views, so the most recently written records stand in for the
// most recently viewed.
func (e *Emulator) serveRecent(c *call) {
	limit := 200
	if raw := c.r.URL.Query().Get("limit"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 {
			// UNCONFIRMED wording.
			c.writeError(http.StatusBadRequest, "INVALID_QUERY_PARAMETER_VALUE", "limit: '"+raw+"' is not a valid positive integer", nil)
			return
		}
		limit = min(n, 200)
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	type item struct {
		r   *record
		at  time.Time
		key *field
	}
	var items []item
	for _, obj := range e.org.objects {
		nameF, modF := nameFieldOf(obj), obj.field("LastModifiedDate")
		if nameF == nil || modF == nil || obj.Name == "Organization" {
			continue
		}
		for _, r := range obj.rows {
			if r == nil || r.deleted {
				continue
			}
			at, _ := r.get(modF).(time.Time)
			items = append(items, item{r, at, nameF})
		}
	}
	slices.SortStableFunc(items, func(a, b item) int { return b.at.Compare(a.at) })
	out := make([]any, 0, min(limit, len(items)))
	for _, it := range items[:min(limit, len(items))] {
		out = append(out, e.renderOrderedLocked(c, it.r, []string{"Id", it.key.Name}))
	}
	c.writeJSON(http.StatusOK, out)
}

func nameFieldOf(obj *sobject) *field {
	for _, f := range obj.Fields {
		if f.NameField {
			return f
		}
	}
	return nil
}

func (e *Emulator) serveDescribe(c *call) {
	e.mu.RLock()
	obj := e.objectLocked(c)
	if obj == nil {
		e.mu.RUnlock()
		return
	}
	mod := obj.Modified
	if ims := c.r.Header.Get("If-Modified-Since"); ims != "" {
		if t, err := http.ParseTime(ims); err == nil && !mod.Truncate(time.Second).After(t) {
			e.mu.RUnlock()
			c.w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	body := e.describeLocked(c, obj)
	e.mu.RUnlock()
	c.w.Header().Set("Last-Modified", mod.UTC().Format(http.TimeFormat))
	c.writeJSON(http.StatusOK, body)
}

// --- CRUD ----------------------------------------------------------------------

// withActor runs fn under the write lock with DML attributed to the caller.
func (e *Emulator) withActor(c *call, fn func()) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if c.sess != nil {
		e.setActorLocked(c.sess.UserID)
	}
	defer e.setActorLocked("")
	fn()
}

func (e *Emulator) serveCreate(c *call) {
	var body map[string]any
	e.mu.RLock()
	obj := e.objectLocked(c)
	e.mu.RUnlock()
	if obj == nil || !c.readJSON(&body) {
		return
	}
	if body == nil {
		c.writeError(http.StatusBadRequest, "JSON_PARSER_ERROR", "The HTTP entity body is required, but this request has no entity body.", nil)
		return
	}
	var id string
	var rerr *recordError
	e.withActor(c, func() { id, rerr = e.insertLocked(obj.Name, body) })
	if rerr != nil {
		c.writeRecordError(rerr)
		return
	}
	c.w.Header().Set("Location", recordURL(c, obj, id))
	c.writeJSON(http.StatusCreated, saveResponse{ID: id, Success: true, Errors: []any{}})
}

// serveCreateByIdField serves POST /sobjects/{type}/Id: from API 37.0 the
// upsert resource creates a record this way, Id standing as the external
// ID field with a null value (REST guide, "Insert or Update (Upsert) a
// Record Using an External ID"). Any other segment takes no POST.
func (e *Emulator) serveCreateByIdField(c *call) {
	if c.r.PathValue("id") != "Id" || versionNumber(c.version) < 37 {
		c.w.Header().Set("Allow", "HEAD, GET, PATCH, DELETE")
		c.writeError(http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "HTTP Method 'POST' not allowed. Allowed are HEAD,GET,PATCH,DELETE", nil)
		return
	}
	e.serveCreate(c)
}

// resolveIDSegment reads the {id} segment of obj: a 15/18-character Id of
// obj, else (as Salesforce reads it) the name of an external-id field.
// It answers 404 and returns "" when the segment is not an Id of obj.
func resolveIDSegment(c *call, obj *sobject, seg string) string {
	id, ok := normalizeID(seg)
	if !ok || id[:3] != obj.KeyPrefix {
		c.writeError(http.StatusNotFound, "NOT_FOUND", "Provided external ID field does not exist or is not accessible: "+seg, nil)
		return ""
	}
	return id
}

// parseFieldsParam reads ?fields=A,B; it answers INVALID_FIELD for an
// unknown name and returns ok false.
func parseFieldsParam(c *call, obj *sobject) ([]string, bool) {
	raw, has := c.r.URL.Query()["fields"]
	if !has {
		return nil, true
	}
	var out []string
	for _, part := range raw {
		for _, name := range strings.Split(part, ",") {
			name = strings.TrimSpace(name)
			if name == "" {
				continue
			}
			f := obj.field(name)
			if f == nil {
				c.writeError(http.StatusBadRequest, "INVALID_FIELD", fmt.Sprintf("No such column '%s' on entity '%s'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.", name, obj.Name), nil)
				return nil, false
			}
			out = append(out, f.Name)
		}
	}
	if out == nil {
		return nil, true
	}
	return out, true
}

func (e *Emulator) serveRetrieve(c *call) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	obj := e.objectLocked(c)
	if obj == nil {
		return
	}
	id := resolveIDSegment(c, obj, c.r.PathValue("id"))
	if id == "" {
		return
	}
	fields, ok := parseFieldsParam(c, obj)
	if !ok {
		return
	}
	if r := e.org.records[id]; r != nil && !r.deleted && !preconditionsLocked(c, r) {
		return
	}
	e.writeRecordLocked(c, e.org.records[id], fields)
}

// writeRecordLocked answers one record, or 404 when missing or deleted.
func (e *Emulator) writeRecordLocked(c *call, r *record, fields []string) {
	if r == nil {
		c.writeNotFound()
		return
	}
	if r.deleted {
		c.writeError(http.StatusNotFound, "ENTITY_IS_DELETED", "entity is deleted", []string{})
		return
	}
	c.writeJSON(http.StatusOK, e.renderOrderedLocked(c, r, fields))
}

func (e *Emulator) serveUpdate(c *call) {
	e.mu.RLock()
	obj := e.objectLocked(c)
	e.mu.RUnlock()
	if obj == nil {
		return
	}
	id := resolveIDSegment(c, obj, c.r.PathValue("id"))
	if id == "" {
		return
	}
	var body map[string]any
	if !c.readJSON(&body) {
		return
	}
	var rerr *recordError
	passed := true
	e.withActor(c, func() {
		if r := e.org.records[id]; r != nil && !r.deleted && !preconditionsLocked(c, r) {
			passed = false
			return
		}
		rerr = e.updateLocked(obj.Name, id, body)
	})
	if !passed {
		return
	}
	if rerr != nil {
		c.writeRecordError(rerr)
		return
	}
	c.writeNoContent()
}

// writeUserDeleteNotAllowed answers a DELETE of a User: users are
// deactivated (PATCH IsActive=false), never deleted.
func writeUserDeleteNotAllowed(c *call) {
	c.w.Header().Set("Allow", "HEAD, GET, PATCH")
	c.writeError(http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "HTTP Method 'DELETE' not allowed. Allowed are HEAD,GET,PATCH", nil)
}

func (e *Emulator) serveDelete(c *call) {
	e.mu.RLock()
	obj := e.objectLocked(c)
	e.mu.RUnlock()
	if obj == nil {
		return
	}
	if obj.Name == "User" {
		writeUserDeleteNotAllowed(c)
		return
	}
	id := resolveIDSegment(c, obj, c.r.PathValue("id"))
	if id == "" {
		return
	}
	var rerr *recordError
	passed := true
	e.withActor(c, func() {
		if r := e.org.records[id]; r != nil && !r.deleted && !preconditionsLocked(c, r) {
			passed = false
			return
		}
		rerr = e.deleteLocked(obj.Name, id)
	})
	if !passed {
		return
	}
	if rerr != nil {
		c.writeRecordError(rerr)
		return
	}
	c.writeNoContent()
}

// --- external ids ----------------------------------------------------------------

// externalField resolves {field} for access by external id; it answers 404
// and returns nil when the field cannot be used as a key.
func externalField(c *call, obj *sobject) *field {
	name := c.r.PathValue("field")
	if name == "describe" || name == "listviews" || name == "quickActions" {
		// A describe sub-resource the emulator does not serve, a list
		// view written to, a quick action the org does not have: not a
		// lookup by external id.
		c.writeNotFound()
		return nil
	}
	f := obj.field(name)
	if f == nil || !(f.ExternalID || f.IDLookup) {
		if id, ok := normalizeID(name); ok && id[:3] == obj.KeyPrefix {
			// /sobjects/Account/001.../Contacts: relationship traversal,
			// which the emulator does not serve.
			c.writeNotFound()
			return nil
		}
		c.writeError(http.StatusNotFound, "NOT_FOUND", "Provided external ID field does not exist or is not accessible: "+name, nil)
		return nil
	}
	return f
}

// externalTarget resolves {type} and {field} of an external-id path under
// the read lock; it answers 404 and returns a nil field when either is unusable.
func (e *Emulator) externalTarget(c *call) (*sobject, *field) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	obj := e.objectLocked(c)
	if obj == nil {
		return nil, nil
	}
	return obj, externalField(c, obj)
}

// matchesLocked returns the live records of obj whose f equals value.
func (e *Emulator) matchesLocked(obj *sobject, f *field, value string) []*record {
	if f.pos == 0 {
		id, ok := normalizeID(value)
		if !ok {
			return nil
		}
		if r := e.org.records[id]; r != nil && r.obj == obj && !r.deleted {
			return []*record{r}
		}
		return nil
	}
	v, rerr := coerceValue(f, value)
	if rerr != nil || v == nil {
		return nil
	}
	if f.indexed() {
		return lookupIndex(obj, f, v)
	}
	want := indexKey(f, v)
	var out []*record
	e.eachRecordLocked(obj, false, func(r *record) bool {
		if x := r.get(f); x != nil && indexKey(f, x) == want {
			out = append(out, r)
		}
		return true
	})
	return out
}

// writeMultipleChoices answers 300 with the URLs of the matching records.
func writeMultipleChoices(c *call, obj *sobject, ids []string) {
	urls := make([]string, len(ids))
	for i, id := range ids {
		urls[i] = recordURL(c, obj, id)
	}
	c.writeJSON(http.StatusMultipleChoices, urls)
}

// serveByExternalIDOrListView answers GET .../sobjects/{type}/{field}/{value}:
// a list view's basic information when {field} is "listviews" (a path
// ServeMux cannot route apart from the password resource), else a record
// by external id.
func (e *Emulator) serveByExternalIDOrListView(c *call) {
	if c.r.PathValue("field") == "listviews" {
		e.serveListView(c) // listviews.go
		return
	}
	e.serveByExternalID(c)
}

func (e *Emulator) serveByExternalID(c *call) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	obj := e.objectLocked(c)
	if obj == nil {
		return
	}
	f := externalField(c, obj)
	if f == nil {
		return
	}
	fields, ok := parseFieldsParam(c, obj)
	if !ok {
		return
	}
	found := e.matchesLocked(obj, f, c.r.PathValue("value"))
	switch len(found) {
	case 0:
		c.writeNotFound()
	case 1:
		e.writeRecordLocked(c, found[0], fields)
	default:
		ids := make([]string, len(found))
		for i, r := range found {
			ids[i] = r.ID
		}
		writeMultipleChoices(c, obj, ids)
	}
}

func (e *Emulator) serveUpsert(c *call) {
	obj, f := e.externalTarget(c)
	if f == nil {
		return
	}
	var body map[string]any
	if !c.readJSON(&body) {
		return
	}
	var (
		id      string
		created bool
		matches []string
		rerr    *recordError
	)
	e.withActor(c, func() {
		if rerr = e.updateOnlyMissLocked(c, obj, f); rerr == nil { // updateonly.go
			id, created, matches, rerr = e.upsertLocked(obj.Name, f.Name, c.r.PathValue("value"), body)
		}
	})
	switch {
	case rerr != nil && rerr.Code == "DUPLICATE_EXTERNAL_ID":
		writeMultipleChoices(c, obj, matches)
		return
	case rerr != nil:
		c.writeRecordError(rerr)
		return
	}
	modern := versionNumber(c.version) >= 46
	if created {
		c.w.Header().Set("Location", recordURL(c, obj, id))
		body := saveResponse{ID: id, Success: true, Errors: []any{}}
		if modern {
			body.Created = new(bool)
			*body.Created = true
		}
		c.writeJSON(http.StatusCreated, body)
		return
	}
	if !modern {
		c.writeNoContent()
		return
	}
	c.writeJSON(http.StatusOK, saveResponse{ID: id, Success: true, Errors: []any{}, Created: new(bool)})
}

// saveResponse is the body of a create or upsert, keys in Salesforce's
// order: id, success, errors, then created (upsert from API 46.0).
type saveResponse struct {
	ID      string `json:"id"`
	Success bool   `json:"success"`
	Errors  []any  `json:"errors"`
	Created *bool  `json:"created,omitempty"`
}

func (e *Emulator) serveDeleteByExternalID(c *call) {
	obj, f := e.externalTarget(c)
	if f == nil {
		return
	}
	if obj.Name == "User" {
		writeUserDeleteNotAllowed(c)
		return
	}
	var (
		rerr  *recordError
		multi []string
		none  bool
	)
	e.withActor(c, func() {
		found := e.matchesLocked(obj, f, c.r.PathValue("value"))
		switch len(found) {
		case 0:
			none = true
		case 1:
			rerr = e.deleteLocked(obj.Name, found[0].ID)
		default:
			for _, r := range found {
				multi = append(multi, r.ID)
			}
		}
	})
	switch {
	case none:
		c.writeNotFound()
	case multi != nil:
		writeMultipleChoices(c, obj, multi)
	case rerr != nil:
		c.writeRecordError(rerr)
	default:
		c.writeNoContent()
	}
}

// --- replication ---------------------------------------------------------------

// replicationWindow parses ?start=&end= (truncated to the minute, as
// Salesforce does) and checks how far back start may go. It answers the
// error itself and returns ok false.
func (e *Emulator) replicationWindow(c *call, maxDays int) (start, end time.Time, ok bool) {
	q := c.r.URL.Query()
	parse := func(name string) (time.Time, bool) {
		raw := q.Get(name)
		if raw == "" {
			// UNCONFIRMED: Salesforce's exact code for a missing parameter.
			c.writeError(http.StatusBadRequest, "MISSING_ARGUMENT", name+": parameter must be specified", nil)
			return time.Time{}, false
		}
		t, ok := parseDateTime(raw)
		if !ok {
			c.writeError(http.StatusBadRequest, "INVALID_REPLICATION_DATE", fmt.Sprintf("%s: '%s' is not a valid dateTime", name, raw), nil)
			return time.Time{}, false
		}
		return t.Truncate(time.Minute), true
	}
	if start, ok = parse("start"); !ok {
		return
	}
	if end, ok = parse("end"); !ok {
		return
	}
	now := e.now().UTC()
	if !end.After(start) {
		c.writeError(http.StatusBadRequest, "INVALID_REPLICATION_DATE", "EndDate must be after StartDate", nil)
		return start, end, false
	}
	if start.Before(now.Add(-time.Duration(maxDays) * 24 * time.Hour)) {
		c.writeError(http.StatusBadRequest, "INVALID_REPLICATION_DATE", fmt.Sprintf("startDate cannot be more than %d days ago", maxDays), nil)
		return start, end, false
	}
	if nowMin := now.Truncate(time.Minute); end.After(nowMin) {
		end = nowMin
	}
	return start, end, true
}

// maxReplicationIDs caps getUpdated / getDeleted answers.
const maxReplicationIDs = 600000

func (e *Emulator) serveUpdated(c *call) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	obj := e.objectLocked(c)
	if obj == nil {
		return
	}
	start, end, ok := e.replicationWindow(c, 30)
	if !ok {
		return
	}
	stampF := obj.field("SystemModstamp")
	ids := []string{}
	e.eachRecordLocked(obj, false, func(r *record) bool {
		if t, ok := r.get(stampF).(time.Time); ok && !t.Before(start) && t.Before(end) {
			ids = append(ids, r.ID)
		}
		return len(ids) <= maxReplicationIDs
	})
	if len(ids) > maxReplicationIDs {
		c.writeError(http.StatusBadRequest, "EXCEEDED_ID_LIMIT", "record limit reached. cannot submit more than 600000 records into this call", nil)
		return
	}
	c.writeJSON(http.StatusOK, map[string]any{"ids": ids, "latestDateCovered": formatDateTime(end)})
}

func (e *Emulator) serveDeleted(c *call) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	obj := e.objectLocked(c)
	if obj == nil {
		return
	}
	start, end, ok := e.replicationWindow(c, 15)
	if !ok {
		return
	}
	recs := []any{}
	for _, d := range obj.deleteLog {
		if !d.At.Before(start) && d.At.Before(end) {
			recs = append(recs, map[string]string{"id": d.ID, "deletedDate": formatDateTime(d.At)})
		}
	}
	if len(recs) > maxReplicationIDs {
		c.writeError(http.StatusBadRequest, "EXCEEDED_ID_LIMIT", "record limit reached. cannot submit more than 600000 records into this call", nil)
		return
	}
	earliest := e.org.created.Truncate(time.Minute)
	c.writeJSON(http.StatusOK, map[string]any{"deletedRecords": recs,
		"earliestDateAvailable": formatDateTime(earliest), "latestDateCovered": formatDateTime(end)})
}

// --- User password ---------------------------------------------------------------

// servePassword serves /sobjects/User/{id}/password. Any other object reads
// the path as access by external id with the value "password".
func (e *Emulator) servePassword(c *call) {
	if !strings.EqualFold(c.r.PathValue("type"), "User") {
		c.r.SetPathValue("field", c.r.PathValue("id"))
		c.r.SetPathValue("value", "password")
		switch c.r.Method {
		case http.MethodGet, http.MethodHead:
			e.serveByExternalID(c)
		case http.MethodPatch:
			e.serveUpsert(c)
		case http.MethodDelete:
			e.serveDeleteByExternalID(c)
		default:
			c.writeError(http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "HTTP Method '"+c.r.Method+"' not allowed. Allowed are HEAD,GET,PATCH,DELETE", nil)
		}
		return
	}
	e.mu.RLock()
	obj := e.objectLocked(c)
	e.mu.RUnlock()
	if obj == nil {
		return
	}
	id := resolveIDSegment(c, obj, c.r.PathValue("id"))
	if id == "" {
		return
	}
	e.mu.RLock()
	u := e.org.records[id]
	e.mu.RUnlock()
	if u == nil {
		c.writeNotFound()
		return
	}
	switch c.r.Method {
	case http.MethodGet, http.MethodHead:
		c.writeJSON(http.StatusOK, map[string]bool{"isExpired": false})
	case http.MethodPost:
		var body struct {
			NewPassword *string
		}
		if !c.readJSON(&body) {
			return
		}
		if body.NewPassword == nil {
			c.writeError(http.StatusBadRequest, "JSON_PARSER_ERROR", "NewPassword is required", nil)
			return
		}
		if msg := passwordPolicy(*body.NewPassword); msg != "" {
			c.writeError(http.StatusBadRequest, "INVALID_NEW_PASSWORD", msg, nil)
			return
		}
		e.mu.Lock()
		e.setPasswordLocked(id, *body.NewPassword)
		e.mu.Unlock()
		c.writeNoContent()
	case http.MethodDelete:
		pw := randomToken(9)
		e.mu.Lock()
		e.setPasswordLocked(id, pw)
		e.mu.Unlock()
		c.writeJSON(http.StatusOK, map[string]string{"NewPassword": pw})
	default:
		c.w.Header().Set("Allow", "HEAD, GET, POST, DELETE")
		c.writeError(http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "HTTP Method '"+c.r.Method+"' not allowed. Allowed are HEAD,GET,POST,DELETE", nil)
	}
}

// passwordPolicy is Salesforce's default policy: at least 8 characters,
// mixing letters and numbers. It returns the violation, or "".
func passwordPolicy(pw string) string {
	if len([]rune(pw)) < 8 {
		return "Your password must be at least 8 characters long."
	}
	letter, digit := false, false
	for _, r := range pw {
		switch {
		case r >= '0' && r <= '9':
			digit = true
		case r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z':
			letter = true
		}
	}
	if !letter || !digit {
		return "Your password must include letters and numbers."
	}
	return ""
}
