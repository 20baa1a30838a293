package emulator

import (
	"fmt"
	"net/http"
)

// Admin endpoints that make an org drift from what an integration last
// wrote, the way people and Salesforce itself do: merges (the losers go to
// the recycle bin with MasterRecordId set) and purges (records gone for
// good, not even in the recycle bin). Field edits, deletes, conversions
// and twins use the ordinary API, /__emulator/leads/{id}/convert and
// /__emulator/seed.

// driftRoutes registers the endpoints; adminRoutes calls it.
func (e *Emulator) driftRoutes() {
	post := func(h handlerFunc) map[string]handlerFunc { return map[string]handlerFunc{"POST": h} }
	e.handle("/__emulator/merge", KindNone, false, post(e.adminMerge))
	e.handle("/__emulator/purge", KindNone, false, post(e.adminPurge))
	e.handle("/__emulator/undelete", KindNone, false, post(e.adminUndelete))
}

// Undelete restores records from the recycle bin, as a user does from the
// Recycle Bin tab (or Apex's undelete): each comes back live with its
// fields, and its SystemModstamp moves, so a reader by SystemModstamp sees
// it again. All or nothing.
func (e *Emulator) Undelete(ids ...string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.setActorLocked("")
	t := e.beginLocked()
	for _, id := range ids {
		if rerr := e.undeleteLocked(id); rerr != nil {
			t.rollback()
			return rerr
		}
	}
	t.commit()
	return nil
}

// adminUndelete serves POST /__emulator/undelete {"ids":[...]}: 204, or
// 400 with the error (UNDELETE_FAILED for a record not in the recycle bin)
// and nothing restored.
func (e *Emulator) adminUndelete(c *call) {
	var req struct {
		IDs []string `json:"ids"`
	}
	if !c.readJSON(&req) {
		return
	}
	if err := e.Undelete(req.IDs...); err != nil {
		re := err.(*recordError)
		c.writeError(http.StatusBadRequest, re.Code, re.Message, re.Fields)
		return
	}
	c.writeNoContent()
}

// Merge merges duplicates of object into master, as a user merging Leads,
// Contacts or Accounts does: each duplicate gets MasterRecordId = master
// and goes to the recycle bin. All or nothing.
func (e *Emulator) Merge(object, master string, duplicates ...string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.setActorLocked("")
	if rerr := e.mergeLocked(object, master, duplicates); rerr != nil {
		return rerr
	}
	return nil
}

func (e *Emulator) mergeLocked(object, master string, duplicates []string) *recordError {
	obj := e.sobjectLocked(object)
	if obj == nil {
		return &recordError{Code: "INVALID_TYPE", Message: fmt.Sprintf("sObject type '%s' is not supported.", object)}
	}
	mf := obj.field("MasterRecordId")
	if mf == nil {
		return newRecErr("INVALID_OPERATION", object+" records cannot be merged")
	}
	m, rerr := e.findForWriteLocked(object, master)
	if rerr != nil {
		return rerr
	}
	if len(duplicates) == 0 {
		return newRecErr("REQUIRED_FIELD_MISSING", "merge needs at least one duplicate")
	}
	t := e.beginLocked()
	for _, id := range duplicates {
		r, rerr := e.findForWriteLocked(object, id)
		if rerr == nil && r.ID == m.ID {
			rerr = newRecErr("INVALID_OPERATION", "a record cannot be merged into itself")
		}
		if rerr != nil {
			t.rollback()
			return rerr
		}
		old := r.get(mf)
		r.set(mf, m.ID)
		e.onUndoLocked(func() { r.set(mf, old) })
		if rerr := e.deleteLocked(object, id); rerr != nil {
			t.rollback()
			return rerr
		}
	}
	t.commit()
	return nil
}

// adminMerge serves POST /__emulator/merge
// {"object":"Lead","master":id,"duplicates":[ids]}: 204, or 400 with the
// error and nothing merged.
func (e *Emulator) adminMerge(c *call) {
	var req struct {
		Object     string   `json:"object"`
		Master     string   `json:"master"`
		Duplicates []string `json:"duplicates"`
	}
	if !c.readJSON(&req) {
		return
	}
	if err := e.Merge(req.Object, req.Master, req.Duplicates...); err != nil {
		re := err.(*recordError)
		c.writeError(http.StatusBadRequest, re.Code, re.Message, re.Fields)
		return
	}
	c.writeNoContent()
}

// Purge removes records for good, from the live set or the recycle bin,
// so that not even queryAll finds them. All or nothing.
func (e *Emulator) Purge(ids ...string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.setActorLocked("")
	t := e.beginLocked()
	for _, id := range ids {
		if rerr := e.hardDeleteLocked("", id); rerr != nil {
			t.rollback()
			return rerr
		}
	}
	t.commit()
	return nil
}

// adminPurge serves POST /__emulator/purge {"ids":[...]}: 204, or 400 with
// the error and nothing purged.
func (e *Emulator) adminPurge(c *call) {
	var req struct {
		IDs []string `json:"ids"`
	}
	if !c.readJSON(&req) {
		return
	}
	if err := e.Purge(req.IDs...); err != nil {
		re := err.(*recordError)
		c.writeError(http.StatusBadRequest, re.Code, re.Message, re.Fields)
		return
	}
	c.writeNoContent()
}
