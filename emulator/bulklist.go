package emulator

import (
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// GET /jobs/ingest and GET /jobs/query: the org's jobs, Bulk API 2.0 and
// Bulk API 1.0 alike. The Bulk API 2.0 guide ("Get Information About All
// Ingest Jobs", "... All Query Jobs") says the ingest listing holds
// BigObjectIngest, Classic (Bulk API 1.0) and V2Ingest jobs and the query
// listing "Bulk API 2.0 query jobs and all Bulk API jobs"; both filter by
// jobType, isPkChunkingEnabled and concurrencyMode and page 1,000 jobs at
// a time through nextRecordsUrl (?queryLocator=). A record carries the
// JobInfo keys the guide lists for the listing (no record counts).
//
// The order is the creation order (the guide: "indeterminate"); the
// locator is the Id of the last job served and the count served so far
// ("<id>-<n>", the shape of Salesforce's "01gR0000000opRTIAY-2000"), so a
// job deleted between pages moves no other job across a page boundary.

// jobListPage is how many jobs one page of the listing holds.
const jobListPage = 1000

// jobListEntry is one record of the listing, keys in Salesforce's order;
// a job's own description (jobInfo) starts with the same keys.
type jobListEntry struct {
	ID                  string      `json:"id"`
	Operation           string      `json:"operation"`
	Object              string      `json:"object"`
	CreatedByID         string      `json:"createdById"`
	CreatedDate         string      `json:"createdDate"`
	SystemModstamp      string      `json:"systemModstamp"`
	State               string      `json:"state"`
	ExternalIDFieldName string      `json:"externalIdFieldName,omitempty"`
	ConcurrencyMode     string      `json:"concurrencyMode"`
	ContentType         string      `json:"contentType"`
	APIVersion          json.Number `json:"apiVersion"`
	JobType             string      `json:"jobType"`
	ContentURL          string      `json:"contentUrl,omitempty"`
	LineEnding          string      `json:"lineEnding"`
	ColumnDelimiter     string      `json:"columnDelimiter"`
}

// jobTypes are the jobType filter's values, by their lower-case spelling.
var jobTypes = map[string]string{
	"v2ingest": "V2Ingest", "v2query": "V2Query", "classic": "Classic", "bigobjectingest": "BigObjectIngest",
}

// jobListFilter is a listing's query parameters, checked.
type jobListFilter struct {
	jobType    string // "" = any
	pkChunking bool   // isPkChunkingEnabled=true: PK-chunked jobs only
	mode       string // "Parallel", "Serial" or "" = any
	after      string // the locator's job Id: list jobs after it
	served     int    // jobs served by earlier pages
}

// parseJobListFilter reads the listing's parameters, answering 400 for a
// bad one (the error code and wording are UNCONFIRMED: those of a bad job
// property). It returns false when it answered.
func parseJobListFilter(c *call) (jobListFilter, bool) {
	q := c.r.URL.Query()
	var f jobListFilter
	if v := q.Get("jobType"); v != "" {
		t, ok := jobTypes[strings.ToLower(v)]
		if !ok {
			bulkBadValue(c, "jobType", v)
			return f, false
		}
		f.jobType = t
	}
	switch v := q.Get("isPkChunkingEnabled"); {
	case v == "" || strings.EqualFold(v, "false"):
	case strings.EqualFold(v, "true"):
		f.pkChunking = true
	default:
		bulkBadValue(c, "isPkChunkingEnabled", v)
		return f, false
	}
	switch v := q.Get("concurrencyMode"); strings.ToLower(v) {
	case "":
	case "parallel":
		f.mode = "Parallel"
	case "serial":
		f.mode = "Serial"
	default:
		bulkBadValue(c, "concurrencyMode", v)
		return f, false
	}
	if loc := q.Get("queryLocator"); loc != "" {
		id, n, _ := strings.Cut(loc, "-")
		norm, okID := normalizeID(id)
		served, err := strconv.Atoi(n)
		if !okID || err != nil || served < 0 {
			// The REST API's code for a locator it does not know; here
			// UNCONFIRMED.
			c.writeError(http.StatusBadRequest, "INVALID_QUERY_LOCATOR", "invalid query locator", nil)
			return f, false
		}
		f.after, f.served = norm, served
	}
	return f, true
}

// listJobs answers GET /jobs/ingest (query false) and GET /jobs/query.
func (e *Emulator) listJobs(c *call, query bool) {
	if !bulkVersionOK(c, bulkMinVersion(query)) {
		return
	}
	f, ok := parseJobListFilter(c)
	if !ok {
		return
	}
	all := e.listedJobs(query)
	// The emulator runs every job in parallel and chunks none by PK.
	if f.pkChunking || f.mode == "Serial" {
		all = nil
	}
	jobs := all[:0]
	for _, j := range all {
		if (f.jobType == "" || j.JobType == f.jobType) && (f.after == "" || j.ID > f.after) {
			jobs = append(jobs, j)
		}
	}
	page := struct {
		Done           bool           `json:"done"`
		Records        []jobListEntry `json:"records"`
		NextRecordsURL *string        `json:"nextRecordsUrl"`
	}{Done: len(jobs) <= jobListPage, Records: jobs[:min(len(jobs), jobListPage)]}
	if !page.Done {
		next := c.r.URL.Query()
		last := page.Records[len(page.Records)-1].ID
		next.Set("queryLocator", last+"-"+strconv.Itoa(f.served+len(page.Records)))
		kind := "ingest"
		if query {
			kind = "query"
		}
		u := "/services/data/v" + c.version + "/jobs/" + kind + "?" + encodeLocatorLast(next)
		page.NextRecordsURL = &u
	}
	c.writeJSON(http.StatusOK, page)
}

// encodeLocatorLast encodes q with queryLocator last, as Salesforce's
// nextRecordsUrl ends with it.
func encodeLocatorLast(q url.Values) string {
	loc := q.Get("queryLocator")
	q.Del("queryLocator")
	s := q.Encode()
	if s != "" {
		s += "&"
	}
	return s + "queryLocator=" + url.QueryEscape(loc)
}

// listedJobs is every job the listing can show, in creation (Id) order:
// the Bulk API 2.0 jobs of the kind and every Bulk API 1.0 job.
func (e *Emulator) listedJobs(query bool) []jobListEntry {
	var out []jobListEntry
	e.bulk.mu.Lock()
	for _, j := range e.bulk.jobs {
		if j.query != query {
			continue
		}
		ji := j.infoLocked()
		out = append(out, ji.jobListEntry)
	}
	e.bulk.mu.Unlock()
	s := e.bulkV1()
	s.mu.Lock()
	for _, j := range s.jobs {
		// A Bulk API 1.0 job in the REST listing: its own state (Open,
		// Closed, Aborted) and content type; Bulk 1.0 has no line ending
		// or delimiter option, so the CSV defaults stand (UNCONFIRMED).
		out = append(out, jobListEntry{
			ID: j.id, Operation: j.operation, Object: j.object, CreatedByID: j.createdBy,
			CreatedDate: bulkTime(j.created), SystemModstamp: bulkTime(j.modstamp), State: j.state,
			ExternalIDFieldName: j.extField, ConcurrencyMode: "Parallel", ContentType: j.contentType,
			APIVersion: json.Number(j.apiVersion), JobType: "Classic", LineEnding: "LF", ColumnDelimiter: "COMMA",
		})
	}
	s.mu.Unlock()
	sort.Slice(out, func(a, b int) bool { return out[a].ID < out[b].ID })
	return out
}
