package emulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"
)

// The admin API lives under /__emulator/. It is for tests and demos: no
// authentication, never counted in the statistics nor against the API
// allowance, never faulted.
//
//	POST   /__emulator/reset                 wipe data back to the freshly seeded org
//	POST   /__emulator/seed                  {"object":"Lead","records":[{...}]} -> {"ids":[...]}
//	GET    /__emulator/stats                 calls by kind, plus "total"
//	POST   /__emulator/stats/reset           zero the statistics
//	POST   /__emulator/leads/{id}/convert    convert a lead (optional options body)
//	POST   /__emulator/expire-sessions       end every access token
//	POST   /__emulator/bulk/finish           {"enabled":true} (default): Bulk jobs finish at once
//	POST   /__emulator/limits                {"used":N,"max":M,"overage_percent":P}: set the daily API usage
//	GET    /__emulator/bulk/pace             the Bulk pacing in force (bulkpace.go)
//	POST   /__emulator/bulk/pace             {"records_per_second":R,"start_delay":"2s"}: pace Bulk jobs
//	GET    /__emulator/faults                list fault rules
//	POST   /__emulator/faults                add a rule (or an array of rules)
//	DELETE /__emulator/faults                remove every rule
//	DELETE /__emulator/faults/{id}           remove one rule

// adminState holds the knobs the admin API turns that other parts read
// without taking the org lock.
type adminState struct {
	// bulkFinishNow makes Bulk API 2.0 jobs complete on their first poll.
	bulkFinishNow atomic.Bool
	// frozen is a SystemModstamp every write takes (Unix ms; 0: the
	// clock's time), set by FreezeStamp (replication.go).
	frozen atomic.Int64
	// lastStamp is the latest write time handed out (monotonicLocked);
	// guarded by the org lock.
	lastStamp time.Time
	// overagePercent overrides Config.DailyAPIOveragePercent when >= 0
	// (limits.go); set to -1 by New.
	overagePercent atomic.Int32
	// bulkPace overrides the configured Bulk pacing when set (bulkpace.go).
	bulkPace atomic.Pointer[BulkPace]
}

// SetFinishBulkJobsAtOnce makes Bulk API 2.0 jobs reach their final state as
// soon as they are closed (UploadComplete) or created (query jobs), so
// clients that poll every few seconds finish on their first poll.
func (e *Emulator) SetFinishBulkJobsAtOnce(on bool) { e.admin.bulkFinishNow.Store(on) }

// FinishBulkJobsAtOnce reports the knob set by SetFinishBulkJobsAtOnce.
func (e *Emulator) FinishBulkJobsAtOnce() bool { return e.admin.bulkFinishNow.Load() }

// ResetStats zeroes the call statistics.
func (e *Emulator) ResetStats() {
	e.statsMu.Lock()
	clear(e.stats)
	e.statsMu.Unlock()
}

// statKinds are the kinds /__emulator/stats always reports, zero or not.
var statKinds = []Kind{KindREST, KindCollections, KindComposite, KindQuery, KindBulk, KindOAuth}

func (e *Emulator) adminRoutes() {
	post := func(h handlerFunc) map[string]handlerFunc { return map[string]handlerFunc{"POST": h} }
	e.handle("/__emulator/reset", KindNone, false, post(e.adminReset))
	e.handle("/__emulator/seed", KindNone, false, post(e.adminSeed))
	e.handle("/__emulator/stats", KindNone, false, map[string]handlerFunc{"GET": e.adminStats})
	e.handle("/__emulator/stats/reset", KindNone, false, post(func(c *call) {
		e.ResetStats()
		c.writeNoContent()
	}))
	e.handle("/__emulator/leads/{id}/convert", KindNone, false, post(e.adminConvertLead))
	e.handle("/__emulator/expire-sessions", KindNone, false, post(func(c *call) {
		e.ExpireSessions()
		c.writeNoContent()
	}))
	e.handle("/__emulator/bulk/finish", KindNone, false, post(e.adminBulkFinish))
	e.handle("/__emulator/limits", KindNone, false, post(e.adminLimits))
	e.handle("/__emulator/bulk/pace", KindNone, false, map[string]handlerFunc{"GET": e.adminBulkPace, "POST": e.adminBulkPace})
	e.handle("/__emulator/faults", KindNone, false, map[string]handlerFunc{
		"GET": e.adminFaults, "POST": e.adminFaults, "DELETE": e.adminFaults,
	})
	e.handle("/__emulator/faults/{id}", KindNone, false, map[string]handlerFunc{"DELETE": e.adminFault})
	e.driftRoutes()  // admin_drift.go: merges, purges
	e.schemaRoutes() // admin_schema.go: field length, field deletion, picklist renames
}

// adminStats answers the call counts by kind and their total.
func (e *Emulator) adminStats(c *call) {
	st := e.Stats()
	out := make(map[string]int64, len(statKinds)+1)
	var total int64
	for _, k := range statKinds {
		out[string(k)] = 0
	}
	for k, n := range st {
		out[string(k)] = n
		total += n
	}
	out["total"] = total
	c.writeJSON(http.StatusOK, out)
}

// adminBulkFinish turns the finish-at-once knob on, or off with {"enabled":false}.
func (e *Emulator) adminBulkFinish(c *call) {
	on := true
	var req struct {
		Enabled *bool `json:"enabled"`
	}
	if !c.readOptionalJSON(&req) {
		return
	}
	if req.Enabled != nil {
		on = *req.Enabled
	}
	e.SetFinishBulkJobsAtOnce(on)
	c.writeJSON(http.StatusOK, map[string]bool{"enabled": on})
}

// Reset puts the org back to its freshly seeded state: the schema, the
// seeded profiles and users (with the same Ids, so live sessions stay
// valid), no other records, an empty recycle bin, no Bulk jobs and a zero
// API usage. Record Ids minted afterwards never repeat ones minted before.
func (e *Emulator) Reset() error {
	e.mu.Lock()
	old := e.org
	o, err := newOrg(e.cfg, e.now)
	if err != nil {
		e.mu.Unlock()
		return err
	}
	e.org = o
	if err := e.seedLocked(); err != nil {
		e.org = old
		e.mu.Unlock()
		return err
	}
	o.nextID = max(o.nextID, old.nextID)
	e.changedLocked()
	e.mu.Unlock()
	// Bulk jobs (bulk.go) go too. Asked through an interface so the admin
	// API builds on its own while the Bulk code is being written in parallel.
	if b, ok := any(e).(interface{ resetBulk() }); ok {
		b.resetBulk()
	}
	return nil
}

func (e *Emulator) adminReset(c *call) {
	if err := e.Reset(); err != nil {
		c.writeError(http.StatusInternalServerError, "UNKNOWN_EXCEPTION", err.Error(), nil)
		return
	}
	c.writeNoContent()
}

// Seed inserts records of one object as the admin user, all or none, and
// returns their Ids in order. A failure reports the index of the first
// record that failed.
func (e *Emulator) Seed(object string, records []map[string]any) ([]string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	ids, i, rerr := e.insertAllLocked(object, records)
	if rerr != nil {
		return nil, fmt.Errorf("seed %s record %d: %w", object, i, rerr)
	}
	return ids, nil
}

func (e *Emulator) insertAllLocked(object string, records []map[string]any) ([]string, int, *recordError) {
	e.setActorLocked("")
	ids := make([]string, len(records))
	t := e.beginLocked()
	for i, rec := range records {
		id, rerr := e.insertLocked(object, fieldsOf(rec))
		if rerr != nil {
			t.rollback()
			return nil, i, rerr
		}
		ids[i] = id
	}
	t.commit()
	return ids, 0, nil
}

// adminSeed serves POST /__emulator/seed {"object":"Lead","records":[...]}:
// 200 {"ids":[...]}, or 400 {"index":i,"errors":[{statusCode,message,fields}]}
// with nothing created.
func (e *Emulator) adminSeed(c *call) {
	var req struct {
		Object  string           `json:"object"`
		Records []map[string]any `json:"records"`
	}
	if !c.readJSON(&req) {
		return
	}
	if req.Object == "" {
		c.writeError(http.StatusBadRequest, "MISSING_ARGUMENT", "object is required", nil)
		return
	}
	e.mu.Lock()
	ids, i, rerr := e.insertAllLocked(req.Object, req.Records)
	e.mu.Unlock()
	if rerr != nil {
		c.writeJSON(http.StatusBadRequest, map[string]any{"index": i, "errors": errJSON(rerr)})
		return
	}
	c.writeJSON(http.StatusOK, map[string]any{"ids": ids})
}

// ConvertLead converts a lead into a new Account and Contact (see
// convertLeadLocked) and returns their Ids.
func (e *Emulator) ConvertLead(leadID string) (accountID, contactID string, err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.setActorLocked("")
	a, ct, rerr := e.convertLeadLocked(leadID)
	if rerr != nil {
		return "", "", rerr
	}
	return a, ct, nil
}

// adminConvertLead serves POST /__emulator/leads/{id}/convert:
// 200 {"leadId","accountId","contactId"}; 404 NOT_FOUND for an unknown
// lead, 400 with Salesforce's error array otherwise.
func (e *Emulator) adminConvertLead(c *call) {
	id := c.r.PathValue("id")
	e.mu.Lock()
	e.setActorLocked("")
	acct, ct, rerr := e.convertLeadLocked(id)
	e.mu.Unlock()
	if rerr != nil {
		status := http.StatusBadRequest
		if rerr.Code == "NOT_FOUND" || rerr.Code == "ENTITY_IS_DELETED" {
			status = http.StatusNotFound
		}
		c.writeError(status, rerr.Code, rerr.Message, rerr.Fields)
		return
	}
	lead, _ := normalizeID(id)
	c.writeJSON(http.StatusOK, map[string]string{"leadId": lead, "accountId": acct, "contactId": ct})
}

// adminLimits serves POST /__emulator/limits {"used":N,"max":M}; either may
// be omitted to keep it. It answers the resulting {"used","max"}.
func (e *Emulator) adminLimits(c *call) {
	var req struct {
		Used    *int `json:"used"`
		Max     *int `json:"max"`
		Overage *int `json:"overage_percent"`
	}
	if !c.readJSON(&req) {
		return
	}
	if req.Overage != nil {
		if *req.Overage < 0 || *req.Overage > 1000 {
			c.writeError(http.StatusBadRequest, "INVALID_INPUT", "overage_percent must be within 0..1000", nil)
			return
		}
		e.SetAPIOveragePercent(*req.Overage)
	}
	used, mx := e.APIUsage()
	if req.Used != nil {
		used = *req.Used
	}
	if req.Max != nil {
		if *req.Max <= 0 {
			c.writeError(http.StatusBadRequest, "INVALID_INPUT", "max must be positive", nil)
			return
		}
		mx = *req.Max
	}
	e.SetAPIUsage(used, mx)
	used, mx = e.APIUsage()
	c.writeJSON(http.StatusOK, map[string]int{"used": used, "max": mx})
}

// readOptionalJSON decodes a body that may be absent; false when it has
// answered 400.
func (c *call) readOptionalJSON(v any) bool {
	body, err := readBody(c.r, 1<<20)
	if err != nil {
		c.writeError(http.StatusRequestEntityTooLarge, "JSON_PARSER_ERROR", err.Error(), nil)
		return false
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return true
	}
	if err := json.Unmarshal(body, v); err != nil {
		c.writeError(http.StatusBadRequest, "JSON_PARSER_ERROR", jsonErrorMessage(err), nil)
		return false
	}
	return true
}
