package emulator

import (
	"net/http"
	"sort"
	"time"
)

// Replication: what a client reading Salesforce back needs, and the knobs a
// test needs to play the other users of the org.
//
//	GET  /services/data/vXX.X/sobjects/{type}/updated/?start=&end=   getUpdated
//	GET  /services/data/vXX.X/sobjects/{type}/deleted/?start=&end=   getDeleted
//	PATCH  /__emulator/sobjects/{type}/{id}   {"Phone":"..."}: edit as a sales rep
//	DELETE /__emulator/sobjects/{type}/{id}   delete as a sales rep
//	POST   /__emulator/clock                  {"freeze":"2026-12-04T10:00:00.000Z"} or {"freeze":null}
//
// The admin edits are attributed to the admin user (not to any session),
// are not counted in the statistics, and move SystemModstamp like any
// write. A frozen clock gives every write the same SystemModstamp, as a
// burst of edits in one transaction or one second does in a real org.

// frozenStamp returns the frozen stamp, or the zero time.
func (e *Emulator) frozenStamp() time.Time {
	if v := e.admin.frozen.Load(); v != 0 {
		return time.UnixMilli(v).UTC()
	}
	return time.Time{}
}

// monotonicLocked returns t, or a millisecond after the last write time
// when t is not later: two writes of one record in a real org are never
// a millisecond apart, so a record's SystemModstamp always moves. Many
// records sharing one SystemModstamp, as a mass update gives them, come
// from FreezeStamp.
func (e *Emulator) monotonicLocked(t time.Time) time.Time {
	if !t.After(e.admin.lastStamp) {
		t = e.admin.lastStamp.Add(time.Millisecond)
	}
	e.admin.lastStamp = t
	return t
}

// FreezeStamp makes every following write carry SystemModstamp (and
// CreatedDate, LastModifiedDate) t, until ThawStamp. Zero t thaws.
func (e *Emulator) FreezeStamp(t time.Time) {
	if t.IsZero() {
		e.admin.frozen.Store(0)
		return
	}
	e.admin.frozen.Store(t.UTC().Truncate(time.Millisecond).UnixMilli())
}

// ThawStamp lets writes take the clock's time again.
func (e *Emulator) ThawStamp() { e.admin.frozen.Store(0) }

// UpdateAs edits a record as a user of the org other than forcesync (the
// admin user): validation applies, SystemModstamp moves.
func (e *Emulator) UpdateAs(object, id string, fields map[string]any) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.setActorLocked("")
	t := e.beginLocked()
	if rerr := e.updateLocked(object, id, fields); rerr != nil {
		t.rollback()
		return rerr
	}
	t.commit()
	return nil
}

// DeleteAs deletes a record (to the recycle bin) as a user of the org.
func (e *Emulator) DeleteAs(object, id string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.setActorLocked("")
	t := e.beginLocked()
	if rerr := e.deleteLocked(object, id); rerr != nil {
		t.rollback()
		return rerr
	}
	t.commit()
	return nil
}

// MergeRecords merges records of object into master, as Salesforce's merge does:
// each merged record gets MasterRecordId = master and goes to the recycle
// bin (IsDeleted, seen by queryAll and getDeleted); the master is
// updated with fields (may be nil) and its SystemModstamp moves. Only
// objects with a MasterRecordId field (Lead, Contact, Account) merge.
func (e *Emulator) MergeRecords(object, master string, merged []string, fields map[string]any) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.setActorLocked("")
	obj := e.sobjectLocked(object)
	if obj == nil {
		return newRecErr("INVALID_TYPE", "sObject type '"+object+"' is not supported.")
	}
	mf := obj.field("MasterRecordId")
	if mf == nil {
		return newRecErr("INVALID_OPERATION", object+" records cannot be merged")
	}
	if len(merged) == 0 || len(merged) > 2 {
		return newRecErr("INVALID_OPERATION", "merge takes one or two records to merge into the master")
	}
	t := e.beginLocked()
	if fields == nil {
		fields = map[string]any{}
	}
	if rerr := e.updateLocked(object, master, fields); rerr != nil {
		t.rollback()
		return rerr
	}
	mid, _ := normalizeID(master)
	for _, id := range merged {
		nid, _ := normalizeID(id)
		if nid == mid {
			t.rollback()
			return newRecErr("INVALID_OPERATION", "cannot merge a record into itself")
		}
		r, rerr := e.findForWriteLocked(object, id)
		if rerr != nil {
			t.rollback()
			return rerr
		}
		old := r.get(mf)
		r.set(mf, mid)
		e.onUndoLocked(func() { r.set(mf, old) })
		if rerr := e.deleteLocked(object, id); rerr != nil {
			t.rollback()
			return rerr
		}
	}
	t.commit()
	return nil
}

func (e *Emulator) replicationRoutes() {
	e.handle("/services/data/{version}/sobjects/{type}/updated/{$}", KindREST, true, map[string]handlerFunc{"GET": e.serveGetUpdated})
	e.handle("/services/data/{version}/sobjects/{type}/deleted/{$}", KindREST, true, map[string]handlerFunc{"GET": e.serveGetDeleted})
	e.handle("/__emulator/sobjects/{type}/{id}", KindNone, false, map[string]handlerFunc{
		"PATCH": func(c *call) {
			var fields map[string]any
			if !c.readJSON(&fields) {
				return
			}
			if err := e.UpdateAs(c.r.PathValue("type"), c.r.PathValue("id"), fields); err != nil {
				c.writeAdminRecordError(err)
				return
			}
			c.writeNoContent()
		},
		"DELETE": func(c *call) {
			if err := e.DeleteAs(c.r.PathValue("type"), c.r.PathValue("id")); err != nil {
				c.writeAdminRecordError(err)
				return
			}
			c.writeNoContent()
		},
	})
	e.handle("/__emulator/clock", KindNone, false, map[string]handlerFunc{"POST": func(c *call) {
		var req struct {
			Freeze *time.Time `json:"freeze"`
		}
		if !c.readJSON(&req) {
			return
		}
		if req.Freeze == nil {
			e.ThawStamp()
		} else {
			e.FreezeStamp(*req.Freeze)
		}
		c.writeJSON(http.StatusOK, map[string]any{"frozen": e.frozenStamp()})
	}})
}

func (c *call) writeAdminRecordError(err error) {
	rerr, ok := err.(*recordError)
	if !ok {
		c.writeError(http.StatusBadRequest, "INVALID_INPUT", err.Error(), nil)
		return
	}
	status := http.StatusBadRequest
	if rerr.Code == "NOT_FOUND" || rerr.Code == "ENTITY_IS_DELETED" {
		status = http.StatusNotFound
	}
	c.writeError(status, rerr.Code, rerr.Message, rerr.Fields)
}

// replicationWindow reads start and end (ISO 8601) as getUpdated and
// getDeleted take them: both required, start before end, and end no more
// than 30 days after start.
func (c *call) replicationWindow() (start, end time.Time, ok bool) {
	parse := func(name string) (time.Time, bool) {
		v := c.r.URL.Query().Get(name)
		if v == "" {
			c.writeError(http.StatusBadRequest, "MISSING_ARGUMENT", name+" not specified", nil)
			return time.Time{}, false
		}
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.000-0700", "2006-01-02T15:04:05-0700"} {
			if t, err := time.Parse(layout, v); err == nil {
				return t.UTC(), true
			}
		}
		c.writeError(http.StatusBadRequest, "INVALID_PARAMETER_VALUE", "Invalid value for "+name+": "+v, nil)
		return time.Time{}, false
	}
	if start, ok = parse("start"); !ok {
		return
	}
	if end, ok = parse("end"); !ok {
		return
	}
	if !start.Before(end) {
		c.writeError(http.StatusBadRequest, "INVALID_REPLICATION_DATE", "startDate must chronologically precede endDate by more than one minute", nil)
		return start, end, false
	}
	if end.Sub(start) > 30*24*time.Hour {
		c.writeError(http.StatusBadRequest, "EXCEEDED_ID_LIMIT", "the requested window spans more than 30 days", nil)
		return start, end, false
	}
	return start, end, true
}

// serveGetUpdated answers the Ids of records of a type changed (by
// SystemModstamp) in [start, end), with latestDateCovered. Salesforce
// truncates the window to whole minutes; so does this.
func (e *Emulator) serveGetUpdated(c *call) {
	start, end, ok := c.replicationWindow()
	if !ok {
		return
	}
	start, end = start.Truncate(time.Minute), end.Truncate(time.Minute)
	e.mu.RLock()
	defer e.mu.RUnlock()
	obj := e.sobjectLocked(c.r.PathValue("type"))
	if obj == nil {
		c.writeNotFound()
		return
	}
	sf := obj.field("SystemModstamp")
	ids := []string{}
	e.eachRecordLocked(obj, false, func(r *record) bool {
		if t, ok := r.get(sf).(time.Time); ok && !t.Before(start) && t.Before(end) {
			ids = append(ids, r.ID)
		}
		return true
	})
	sort.Strings(ids)
	c.writeJSON(http.StatusOK, map[string]any{"ids": ids, "latestDateCovered": end.Format("2006-01-02T15:04:05.000+0000")})
}

// serveGetDeleted answers the records of a type deleted in [start, end).
func (e *Emulator) serveGetDeleted(c *call) {
	start, end, ok := c.replicationWindow()
	if !ok {
		return
	}
	start, end = start.Truncate(time.Minute), end.Truncate(time.Minute)
	e.mu.RLock()
	defer e.mu.RUnlock()
	obj := e.sobjectLocked(c.r.PathValue("type"))
	if obj == nil {
		c.writeNotFound()
		return
	}
	type del struct {
		ID          string `json:"id"`
		DeletedDate string `json:"deletedDate"`
	}
	out := []del{}
	earliest := end
	for _, d := range obj.deleteLog {
		if d.At.Before(earliest) {
			earliest = d.At
		}
		if !d.At.Before(start) && d.At.Before(end) {
			out = append(out, del{d.ID, d.At.Format("2006-01-02T15:04:05.000+0000")})
		}
	}
	c.writeJSON(http.StatusOK, map[string]any{"deletedRecords": out,
		"earliestDateAvailable": earliest.Format("2006-01-02T15:04:05.000+0000"),
		"latestDateCovered":     end.Format("2006-01-02T15:04:05.000+0000")})
}
