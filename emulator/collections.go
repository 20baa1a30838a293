package emulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// sObject Collections (salesforce-api.md §5.1-5.3): create, update, upsert,
// delete and retrieve up to 200 records (2,000 for retrieve) in one call.
// Writes answer 200 with one result per record, in request order, even when
// records fail; only a malformed request answers 400.

const (
	// maxCollectionRecords caps the records of one collection write.
	maxCollectionRecords = 200
	// maxCollectionRetrieve caps the Ids of one collection retrieve.
	maxCollectionRetrieve = 2000
	// maxCollectionChunks caps the runs of same-type records in a create
	// or update with mixed types.
	maxCollectionChunks = 10
)

// recordErrorJSON is a per-record error: statusCode, not errorCode (§5.2).
type recordErrorJSON struct {
	StatusCode string   `json:"statusCode"`
	Message    string   `json:"message"`
	Fields     []string `json:"fields"`
}

// saveResult is a SaveResult or DeleteResult. A failed record carries no id
// unless the caller named a well-formed one (update, delete).
type saveResult struct {
	ID      string            `json:"id,omitempty"`
	Success bool              `json:"success"`
	Errors  []recordErrorJSON `json:"errors"`
}

// upsertResult is an UpsertResult: a SaveResult plus created.
type upsertResult struct {
	ID      string            `json:"id,omitempty"`
	Success bool              `json:"success"`
	Errors  []recordErrorJSON `json:"errors"`
	Created bool              `json:"created"`
}

// Salesforce's texts for whole-request collection errors and rollbacks.
const (
	msgTooManyRecords = "record limit reached. cannot submit more than 200 records into this call"
	msgRolledBack     = "Record rolled back because not all records were valid and the request was using AllOrNone header"
	msgNoType         = "Must send a concrete entity type."
)

func errJSON(rerr *recordError) []recordErrorJSON {
	fields := rerr.Fields
	if fields == nil {
		fields = []string{}
	}
	return []recordErrorJSON{{StatusCode: rerr.Code, Message: rerr.Message, Fields: fields}}
}

var rolledBack = []recordErrorJSON{{StatusCode: "ALL_OR_NONE_OPERATION_ROLLED_BACK", Message: msgRolledBack, Fields: []string{}}}

// collectionRequest is the body of a collection create, update or upsert.
type collectionRequest struct {
	AllOrNone bool             `json:"allOrNone"`
	Records   []map[string]any `json:"records"`
}

// readCollection decodes and checks a write body; false when it has answered.
func (c *call) readCollection(req *collectionRequest) bool {
	if !c.readJSON(req) {
		return false
	}
	if req.Records == nil {
		c.writeError(http.StatusBadRequest, "INVALID_FIELD", "The records field is required.", nil) // UNCONFIRMED wording
		return false
	}
	if len(req.Records) > maxCollectionRecords {
		c.writeError(http.StatusBadRequest, "EXCEEDED_ID_LIMIT", msgTooManyRecords, nil)
		return false
	}
	for _, rec := range req.Records {
		if rec == nil {
			c.writeError(http.StatusBadRequest, "JSON_PARSER_ERROR", "Each record must be a JSON object.", nil)
			return false
		}
	}
	return true
}

// recordType returns attributes.type of a collection record, or "".
func recordType(rec map[string]any) string {
	attrs, _ := rec["attributes"].(map[string]any)
	t, _ := attrs["type"].(string)
	return t
}

// fieldsOf returns the record's fields without attributes and, when
// dropKeys are given, without those keys (case-insensitive). It copies
// only when something must go.
func fieldsOf(rec map[string]any, dropKeys ...string) map[string]any {
	drop := false
	for k := range rec {
		if k == "attributes" || matchesAny(k, dropKeys) {
			drop = true
			break
		}
	}
	if !drop {
		return rec
	}
	out := make(map[string]any, len(rec))
	for k, v := range rec {
		if k != "attributes" && !matchesAny(k, dropKeys) {
			out[k] = v
		}
	}
	return out
}

func matchesAny(k string, keys []string) bool {
	for _, d := range keys {
		if strings.EqualFold(k, d) {
			return true
		}
	}
	return false
}

// lookupKey returns the value under key, matched case-insensitively, and
// whether it is present.
func lookupKey(rec map[string]any, key string) (any, bool) {
	if v, ok := rec[key]; ok {
		return v, true
	}
	for k, v := range rec {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return nil, false
}

// checkTypes resolves attributes.type of every record to an object name and
// enforces the chunk limit; false when it has answered 400.
func (c *call) checkTypes(records []map[string]any) ([]string, bool) {
	e := c.e
	names := make([]string, len(records))
	chunks := 0
	e.mu.RLock()
	defer e.mu.RUnlock()
	for i, rec := range records {
		t := recordType(rec)
		if t == "" {
			c.writeError(http.StatusBadRequest, "INVALID_TYPE", msgNoType, nil)
			return nil, false
		}
		obj := e.sobjectLocked(t)
		if obj == nil {
			c.writeError(http.StatusBadRequest, "INVALID_TYPE", fmt.Sprintf("sObject type '%s' is not supported.", t), nil)
			return nil, false
		}
		names[i] = obj.Name
		if i == 0 || names[i-1] != obj.Name {
			chunks++
		}
	}
	if chunks > maxCollectionChunks {
		// UNCONFIRMED: the errorCode Salesforce sends here; the text is the
		// platform's message for the same limit.
		c.writeError(http.StatusBadRequest, "INVALID_BATCH_REQUEST",
			"Cannot have more than 10 chunks in a single operation. Please rearrange the data to reduce chunking.", nil)
		return nil, false
	}
	return names, true
}

// batchLocked runs op for items 0..n-1 as one collection call: each record
// on its own, or, with allOrNone, all of them or none. It returns the error
// of each item (nil for success) and whether the work was rolled back.
func (e *Emulator) batchLocked(n int, allOrNone bool, op func(i int) *recordError) (errs []*recordError, rolled bool) {
	errs = make([]*recordError, n)
	if !allOrNone {
		for i := 0; i < n; i++ {
			errs[i] = op(i)
		}
		return errs, false
	}
	t := e.beginLocked()
	failed := false
	for i := 0; i < n; i++ {
		if errs[i] = op(i); errs[i] != nil {
			failed = true
		}
	}
	if failed {
		t.rollback()
		return errs, true
	}
	t.commit()
	return errs, false
}

// actorLockedFor attributes DML to the caller's user.
func (e *Emulator) actorFor(c *call) {
	if c.sess != nil {
		e.setActorLocked(c.sess.UserID)
	} else {
		e.setActorLocked("")
	}
}

// collectionCreate serves POST /composite/sobjects.
func (e *Emulator) collectionCreate(c *call) {
	var req collectionRequest
	if !c.readCollection(&req) {
		return
	}
	types, ok := c.checkTypes(req.Records)
	if !ok {
		return
	}
	ids := make([]string, len(req.Records))
	e.mu.Lock()
	e.actorFor(c)
	errs, rolled := e.batchLocked(len(req.Records), req.AllOrNone, func(i int) *recordError {
		rec := req.Records[i]
		if _, has := lookupKey(rec, "Id"); has {
			return newRecErr("INVALID_FIELD", "cannot specify Id in an insert call")
		}
		id, rerr := e.insertLocked(types[i], fieldsOf(rec))
		ids[i] = id
		return rerr
	})
	e.mu.Unlock()
	c.writeJSON(http.StatusOK, saveResults(ids, errs, rolled, false))
}

// collectionUpdate serves PATCH /composite/sobjects.
func (e *Emulator) collectionUpdate(c *call) {
	var req collectionRequest
	if !c.readCollection(&req) {
		return
	}
	types, ok := c.checkTypes(req.Records)
	if !ok {
		return
	}
	ids := make([]string, len(req.Records))
	e.mu.Lock()
	e.actorFor(c)
	errs, rolled := e.batchLocked(len(req.Records), req.AllOrNone, func(i int) *recordError {
		rec := req.Records[i]
		v, _ := lookupKey(rec, "Id")
		id, _ := v.(string)
		if id == "" {
			return newRecErr("MISSING_ARGUMENT", "Id not specified in an update call")
		}
		if n, ok := normalizeID(id); ok {
			ids[i] = n
		}
		return e.updateLocked(types[i], id, fieldsOf(rec, "Id"))
	})
	e.mu.Unlock()
	c.writeJSON(http.StatusOK, saveResults(ids, errs, rolled, true))
}

// saveResults builds the per-record results of a create, update or delete:
// success with its Id, the record's own error, or rolled back (allOrNone).
// idOnFailure keeps the Id on failed records (updates and deletes name an
// existing record; a failed create has none).
func saveResults(ids []string, errs []*recordError, rolled, idOnFailure bool) []saveResult {
	out := make([]saveResult, len(errs))
	for i := range out {
		var id string
		if idOnFailure {
			id = ids[i]
		}
		switch {
		case errs[i] != nil:
			out[i] = saveResult{ID: id, Errors: errJSON(errs[i])}
		case rolled:
			out[i] = saveResult{ID: id, Errors: rolledBack}
		default:
			out[i] = saveResult{ID: ids[i], Success: true, Errors: []recordErrorJSON{}}
		}
	}
	return out
}

// collectionUpsert serves PATCH /composite/sobjects/{type}/{extField}: one
// object type (the URL's), matched on an External ID field each record carries.
func (e *Emulator) collectionUpsert(c *call) {
	typ, extName := c.r.PathValue("type"), c.r.PathValue("extField")
	e.mu.RLock()
	obj := e.sobjectLocked(typ)
	var ext *field
	if obj != nil {
		ext = obj.field(extName)
	}
	e.mu.RUnlock()
	if obj == nil {
		c.writeError(http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist", nil)
		return
	}
	if ext == nil || !ext.ExternalID {
		c.writeError(http.StatusNotFound, "NOT_FOUND", "Provided external ID field does not exist or is not accessible: "+extName, nil)
		return
	}
	var req collectionRequest
	if !c.readCollection(&req) {
		return
	}
	for _, rec := range req.Records {
		if t := recordType(rec); t != "" && !strings.EqualFold(t, obj.Name) {
			// The URL names the one type an upsert collection may hold.
			c.writeError(http.StatusBadRequest, "INVALID_TYPE",
				fmt.Sprintf("The sObject type %s in the records does not match the type %s in the URL.", t, obj.Name), nil) // UNCONFIRMED wording
			return
		}
	}
	ids := make([]string, len(req.Records))
	created := make([]bool, len(req.Records))
	e.mu.Lock()
	e.actorFor(c)
	errs, rolled := e.batchLocked(len(req.Records), req.AllOrNone, func(i int) *recordError {
		rec := req.Records[i]
		var key string
		if v, ok := lookupKey(rec, ext.Name); ok {
			s, ok := externalKey(v)
			if !ok {
				return newRecErr("JSON_PARSER_ERROR", fmt.Sprintf("Cannot deserialize instance of %s from %s value", ext.Type, jsonKind(v)), ext.Name)
			}
			key = s
		}
		id, isNew, _, rerr := e.upsertLocked(obj.Name, ext.Name, key, fieldsOf(rec, ext.Name))
		ids[i] = id
		switch {
		case rerr == nil:
			created[i] = isNew
		case rerr.Code != "DUPLICATE_EXTERNAL_ID":
			// Salesforce reports whether the record would have been
			// created even when its write failed (§5.3). A failed
			// upsert writes nothing, so the key still tells.
			created[i] = !matchedKey(e, obj, ext, key)
		}
		return rerr
	})
	e.mu.Unlock()
	out := make([]upsertResult, len(req.Records))
	for i := range out {
		switch {
		case errs[i] != nil:
			out[i] = upsertResult{Errors: errJSON(errs[i]), Created: created[i]}
		case rolled:
			r := upsertResult{Errors: rolledBack, Created: created[i]}
			if !created[i] {
				r.ID = ids[i]
			}
			out[i] = r
		default:
			out[i] = upsertResult{ID: ids[i], Success: true, Errors: []recordErrorJSON{}, Created: created[i]}
		}
	}
	c.writeJSON(http.StatusOK, out)
}

// matchedKey reports whether a live record of obj has ext equal to key; it
// tells whether a failed upsert was an insert or an update.
func matchedKey(e *Emulator, obj *sobject, ext *field, key string) bool {
	if key == "" {
		return false
	}
	v, rerr := coerceValue(ext, key)
	if rerr != nil {
		return false
	}
	if ext.indexed() {
		return len(lookupIndex(obj, ext, v)) > 0
	}
	want, found := indexKey(ext, v), false
	e.eachRecordLocked(obj, false, func(r *record) bool {
		if x := r.get(ext); x != nil && indexKey(ext, x) == want {
			found = true
			return false
		}
		return true
	})
	return found
}

// externalKey renders a JSON value used as an External ID key; null is "".
func externalKey(v any) (string, bool) {
	switch x := v.(type) {
	case nil:
		return "", true
	case string:
		return x, true
	case json.Number:
		return x.String(), true
	case bool:
		return strconv.FormatBool(x), true
	}
	return "", false
}

func jsonKind(v any) string {
	switch v.(type) {
	case map[string]any:
		return "START_OBJECT"
	case []any:
		return "START_ARRAY"
	}
	return "VALUE"
}

// collectionDelete serves DELETE /composite/sobjects?ids=...&allOrNone=...
func (e *Emulator) collectionDelete(c *call) {
	q := c.r.URL.Query()
	raw := q.Get("ids")
	if strings.TrimSpace(raw) == "" {
		c.writeError(http.StatusBadRequest, "MISSING_ARGUMENT", "The ids parameter is required.", nil) // UNCONFIRMED wording
		return
	}
	ids := strings.Split(raw, ",")
	if len(ids) > maxCollectionRecords {
		c.writeError(http.StatusBadRequest, "EXCEEDED_ID_LIMIT", msgTooManyRecords, nil)
		return
	}
	allOrNone, _ := strconv.ParseBool(q.Get("allOrNone"))
	norm := make([]string, len(ids))
	e.mu.Lock()
	e.actorFor(c)
	errs, rolled := e.batchLocked(len(ids), allOrNone, func(i int) *recordError {
		id := strings.TrimSpace(ids[i])
		if n, ok := normalizeID(id); ok {
			norm[i] = n
		}
		return e.deleteLocked("", id)
	})
	e.mu.Unlock()
	c.writeJSON(http.StatusOK, saveResults(norm, errs, rolled, true))
}

// collectionRetrieve serves GET /composite/sobjects/{type}?ids=&fields= and
// its POST form with {"ids":[...],"fields":[...]}: the records in the order
// asked, null for an Id that is malformed, unknown, deleted or of another type.
func (e *Emulator) collectionRetrieve(c *call) {
	var ids, fields []string
	if c.r.Method == http.MethodPost {
		var req struct {
			IDs    []string `json:"ids"`
			Fields []string `json:"fields"`
		}
		if !c.readJSON(&req) {
			return
		}
		ids, fields = req.IDs, req.Fields
	} else {
		q := c.r.URL.Query()
		ids, fields = splitList(q.Get("ids")), splitList(q.Get("fields"))
	}
	if len(ids) == 0 || len(fields) == 0 {
		name := "ids"
		if len(ids) > 0 {
			name = "fields"
		}
		c.writeError(http.StatusBadRequest, "MISSING_ARGUMENT", "The "+name+" parameter is required.", nil) // UNCONFIRMED wording
		return
	}
	if len(ids) > maxCollectionRetrieve {
		c.writeError(http.StatusBadRequest, "EXCEEDED_ID_LIMIT", "record limit reached. cannot submit more than 2000 records into this call", nil)
		return
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	obj := e.sobjectLocked(c.r.PathValue("type"))
	if obj == nil {
		c.writeError(http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist", nil)
		return
	}
	names := make([]string, 0, len(fields))
	for _, fn := range fields {
		f := obj.field(fn)
		if f == nil {
			c.writeError(http.StatusBadRequest, "INVALID_FIELD", fmt.Sprintf(
				"No such column '%s' on entity '%s'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.",
				fn, obj.Name), nil)
			return
		}
		names = append(names, f.Name)
	}
	out := make([]any, len(ids))
	for i, id := range ids {
		r := e.getRecordLocked(strings.TrimSpace(id))
		if r == nil || r.deleted || r.obj != obj {
			continue
		}
		out[i] = e.renderOrderedLocked(c, r, names)
	}
	c.writeJSON(http.StatusOK, out)
}

// splitList splits a comma-separated parameter, dropping empty items.
func splitList(s string) []string {
	if s == "" {
		return nil
	}
	parts := strings.Split(s, ",")
	out := parts[:0]
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// collectionRoutes registers the sObject Collections resources.
func (e *Emulator) collectionRoutes() {
	e.handle("/services/data/{version}/composite/sobjects", KindCollections, true, map[string]handlerFunc{
		"POST": e.collectionCreate, "PATCH": e.collectionUpdate, "DELETE": e.collectionDelete,
	})
	e.handle("/services/data/{version}/composite/sobjects/{type}", KindCollections, true, map[string]handlerFunc{
		"GET": e.collectionRetrieve, "POST": e.collectionRetrieve,
	})
	e.handle("/services/data/{version}/composite/sobjects/{type}/{extField}", KindCollections, true, map[string]handlerFunc{
		"PATCH": e.collectionUpsert,
	})
}
