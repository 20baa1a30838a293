package emulator

import (
	"fmt"
	"net/http"
)

// The daily API allowance. Every authenticated call under /services/data
// (and the other counted APIs) spends one call; the version list and OAuth
// endpoints do not. The count is a plain counter of the org's "rolling 24
// hours"; tests move it with SetAPIUsage.

// spendAPICall counts one call against the allowance and sets
// Sforce-Limit-Info. When the allowance is spent it answers 403
// REQUEST_LIMIT_EXCEEDED and returns false.
func (e *Emulator) spendAPICall(c *call) bool {
	if !e.spendCall(c) {
		c.writeError(http.StatusForbidden, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.", nil)
		return false
	}
	return true
}

// spendCall counts one call against the allowance, unless it is spent,
// and sets c's Sforce-Limit-Info either way; it reports whether the call
// was counted.
func (e *Emulator) spendCall(c *call) bool {
	e.mu.Lock()
	o := e.org
	ok := o.apiUsed < o.apiMax+e.apiOverageLocked()
	if ok {
		o.apiUsed++
		e.changedLocked()
	}
	used, max := o.apiUsed, o.apiMax
	e.mu.Unlock()
	c.w.Header().Set("Sforce-Limit-Info", fmt.Sprintf("api-usage=%d/%d", used, max))
	return ok
}

// SetAPIUsage sets the calls used and the daily allowance (max <= 0 keeps
// the current allowance).
func (e *Emulator) SetAPIUsage(used, max int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if max > 0 {
		e.org.apiMax = max
	}
	if used < 0 {
		used = 0
	}
	e.org.apiUsed = used
	e.changedLocked()
}

// APIUsage returns the calls used and the daily allowance.
func (e *Emulator) APIUsage() (used, max int) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.org.apiUsed, e.org.apiMax
}

// limitsBody is the /limits resource. DailyApiRequests shares the counter
// of Sforce-Limit-Info; the others are the typical Enterprise values.
func (e *Emulator) limitsBodyLocked() map[string]any {
	o := e.org
	lim := func(max, remaining int) map[string]int { return map[string]int{"Max": max, "Remaining": remaining} }
	return map[string]any{
		"ConcurrentAsyncGetReportInstances":     lim(200, 200),
		"ConcurrentSyncReportRuns":              lim(20, 20),
		"DailyApiRequests":                      lim(o.apiMax, max(0, o.apiMax-o.apiUsed)),
		"DailyAsyncApexExecutions":              lim(250000, 250000),
		"DailyBulkApiBatches":                   lim(15000, 15000),
		"DailyBulkV2QueryFileStorageMB":         lim(976562, 976562),
		"DailyBulkV2QueryJobs":                  lim(10000, 10000),
		"DailyDurableGenericStreamingApiEvents": lim(10000, 10000),
		"DailyDurableStreamingApiEvents":        lim(10000, 10000),
		"DailyGenericStreamingApiEvents":        lim(10000, 10000),
		"DailyStandardVolumePlatformEvents":     lim(10000, 10000),
		"DailyStreamingApiEvents":               lim(10000, 10000),
		"DailyWorkflowEmails":                   lim(2000000, 2000000),
		"DataStorageMB":                         lim(1024, 1024-min(1024, o.liveCount()*2/1024)),
		"FileStorageMB":                         lim(1024, 1024),
		"HourlyAsyncReportRuns":                 lim(1200, 1200),
		"HourlyDashboardRefreshes":              lim(200, 200),
		"HourlyDashboardResults":                lim(5000, 5000),
		"HourlyDashboardStatuses":               lim(999999999, 999999999),
		"HourlyODataCallout":                    lim(10000, 10000),
		"HourlySyncReportRuns":                  lim(500, 500),
		"HourlyTimeBasedWorkflow":               lim(1000, 1000),
		"MassEmail":                             lim(5000, 5000),
		"SingleEmail":                           lim(5000, 5000),
		"StreamingApiConcurrentClients":         lim(2000, 2000),
	}
}

// liveCount is the number of live records in the org (2 KB each for
// DataStorageMB, as Salesforce counts most records).
func (o *org) liveCount() int {
	n := 0
	for _, obj := range o.objects {
		n += obj.live
	}
	return n
}

// apiOverageLocked is how many calls past apiMax are still served
// (Config.DailyAPIOveragePercent, or the admin API's override).
func (e *Emulator) apiOverageLocked() int {
	pct := e.cfg.DailyAPIOveragePercent
	if p := e.admin.overagePercent.Load(); p >= 0 {
		pct = int(p)
	}
	return e.org.apiMax * pct / 100
}

// SetAPIOveragePercent overrides Config.DailyAPIOveragePercent; a negative
// value returns to the configured one.
func (e *Emulator) SetAPIOveragePercent(pct int) { e.admin.overagePercent.Store(int32(max(pct, -1))) }
