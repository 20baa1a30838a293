package emulator

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/forcesync/forcesync/emulator/soql"
)

// Query jobs: /services/data/vNN.N/jobs/query (v47.0 and later). The SOQL is
// checked when the job is created (a bad query is refused at once, as
// Salesforce does); the worker runs it and keeps the result as CSV bytes
// with the offset of each row, so pages are slices of one buffer.

// bulkQueryPage is the page size when the client sends no maxRecords.
const bulkQueryPage = 50000

// queryRequest is the body of POST /jobs/query.
type queryRequest struct {
	Operation       string `json:"operation"`
	Query           string `json:"query"`
	ContentType     string `json:"contentType"`
	ColumnDelimiter string `json:"columnDelimiter"`
	LineEnding      string `json:"lineEnding"`
}

// createQueryJob answers POST /jobs/query with the new job (UploadComplete).
func (e *Emulator) createQueryJob(c *call) {
	if !bulkVersionOK(c, minQueryVersion) {
		return
	}
	var req queryRequest
	if !c.readJSON(&req) {
		return
	}
	if req.Operation != "query" && req.Operation != "queryAll" {
		bulkBadValue(c, "operation", req.Operation)
		return
	}
	if req.ContentType != "" && !strings.EqualFold(req.ContentType, "CSV") {
		bulkBadValue(c, "contentType", req.ContentType)
		return
	}
	lineEnding, ok := bulkOption(bulkLineEndings, req.LineEnding, "LF")
	if !ok {
		bulkBadValue(c, "lineEnding", req.LineEnding)
		return
	}
	delim, ok := bulkOption(bulkDelimiters, req.ColumnDelimiter, "COMMA")
	if !ok {
		bulkBadValue(c, "columnDelimiter", req.ColumnDelimiter)
		return
	}
	if strings.TrimSpace(req.Query) == "" {
		bulkBadValue(c, "query", req.Query)
		return
	}
	e.mu.Lock()
	object, qerr := e.bulkCheckQueryLocked(req.Query)
	if qerr != nil {
		e.mu.Unlock()
		c.writeError(http.StatusBadRequest, qerr.Code, qerr.Message, nil)
		return
	}
	now := e.now()
	j := &bulkJob{
		id:         e.newIDLocked("750"),
		query:      true,
		operation:  req.Operation,
		object:     object,
		queryText:  req.Query,
		lineEnding: lineEnding,
		delimiter:  delim,
		apiVersion: c.version,
		createdBy:  bulkCreator(c),
		created:    now,
		modstamp:   now,
		state:      jobOpen,
	}
	e.mu.Unlock()
	e.addJob(j)
	c.writeJSON(http.StatusOK, e.closeJob(c, j))
}

// runQueryJob runs the job's query and stores the result CSV; it returns
// the job's errorMessage on failure.
func (e *Emulator) runQueryJob(j *bulkJob) string {
	delim := bulkDelimiters[j.delimiter]
	eol := bulkLineEndings[j.lineEnding]
	if !j.handlerRun {
		e.gate.RLock()
	}
	unlock := func() {
		e.mu.RUnlock()
		if !j.handlerRun {
			e.gate.RUnlock()
		}
	}
	e.mu.RLock()
	cols, rows, qerr := e.runQueryLocked(j.queryText, j.operation == "queryAll")
	if qerr != nil {
		unlock()
		return "InvalidBatch : Failed to process query: " + qerr.Code + ": " + qerr.Message
	}
	var out []byte
	for i, col := range cols {
		if i > 0 {
			out = append(out, delim)
		}
		out = bulkQuote(out, col)
	}
	out = append(out, eol...)
	var offsets []int
	for row := range rows {
		offsets = append(offsets, len(out))
		for i, v := range row {
			if i > 0 {
				out = append(out, delim)
			}
			out = bulkQuote(out, v)
		}
		out = append(out, eol...)
	}
	unlock()
	n := len(offsets)
	offsets = append(offsets, len(out))
	// A paced job reports its rows as they would be produced (bulkpace.go).
	if !e.paceQueryJob(j, n) {
		return ""
	}
	b := &e.bulk
	b.mu.Lock()
	j.result = out
	j.resultRows = offsets
	j.processed = n
	b.mu.Unlock()
	return ""
}

// bulkStateName spells a state the way the results error message does.
func bulkStateName(s string) string {
	switch s {
	case jobUploadComplete:
		return "UPLOAD_COMPLETE"
	case jobInProgress:
		return "IN_PROGRESS"
	case jobComplete:
		return "JOB_COMPLETE"
	}
	return strings.ToUpper(s)
}

// bulkLocator encodes a row offset as an opaque locator.
func bulkLocator(n int) string {
	return base64.RawStdEncoding.EncodeToString([]byte(strconv.Itoa(n)))
}

// parseBulkLocator decodes a locator; ok false if it is not one of ours.
func parseBulkLocator(s string) (int, bool) {
	b, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "="))
	if err != nil {
		return 0, false
	}
	n, err := strconv.Atoi(string(b))
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}

// queryResults answers GET /jobs/query/{id}/results?locator=&maxRecords=: a
// page of the result CSV (header row first), with Sforce-NumberOfRecords and
// Sforce-Locator ("null" on the last page).
func (e *Emulator) queryResults(c *call) {
	j := e.jobFromPath(c, true)
	if j == nil {
		return
	}
	if c.version != j.apiVersion {
		c.writeError(http.StatusConflict, "API_ERROR",
			fmt.Sprintf("Query job results must be retrieved with the API version the job was created with: v%s", j.apiVersion), nil)
		return
	}
	q := c.r.URL.Query()
	max := bulkQueryPage
	if s := q.Get("maxRecords"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			bulkBadValue(c, "maxRecords", s)
			return
		}
		max = n
	}
	from := 0
	if s := q.Get("locator"); s != "" && s != "null" {
		n, ok := parseBulkLocator(s)
		if !ok {
			c.writeError(http.StatusBadRequest, "INVALID_LOCATOR", "Invalid locator: "+s, nil)
			return
		}
		from = n
	}
	if e.FinishBulkJobsAtOnce() {
		e.finishNow(c, j)
	}
	b := &e.bulk
	b.mu.Lock()
	state := j.state
	result, offs := j.result, j.resultRows
	b.mu.Unlock()
	if state != jobComplete {
		c.writeError(http.StatusPreconditionFailed, "JOB_NOT_COMPLETE",
			"can only download query results of successfully completed bulk job with status: JOB_COMPLETE. Current status: "+bulkStateName(state), nil)
		return
	}
	total := len(offs) - 1
	if from > total {
		c.writeError(http.StatusBadRequest, "INVALID_LOCATOR", "Invalid locator: "+q.Get("locator"), nil)
		return
	}
	to := min(from+max, total)
	next := "null"
	if to < total {
		next = bulkLocator(to)
	}
	h := c.w.Header()
	h.Set("Content-Type", "text/csv")
	h.Set("Sforce-NumberOfRecords", strconv.Itoa(to-from))
	h.Set("Sforce-Locator", next)
	c.w.WriteHeader(http.StatusOK)
	if c.r.Method == http.MethodHead {
		return
	}
	c.w.Write(result[:offs[0]])
	c.w.Write(result[offs[from]:offs[to]])
}

// bulkCheckQueryLocked validates a query job's SOQL at creation, refusing
// what Bulk API 2.0 query does not run, and returns the queried object's
// name.
func (e *Emulator) bulkCheckQueryLocked(text string) (string, *queryError) {
	plan, qerr := e.compileQueryLocked(text)
	if qerr != nil {
		return "", qerr
	}
	// What query jobs refuse is the Bulk API 2.0 guide's list; the code
	// and wording of each refusal are UNCONFIRMED.
	if plan.CountOnly || plan.Aggregate {
		return "", &queryError{Code: soql.CodeMalformedQuery, Message: "Aggregate functions are not supported by Bulk API 2.0 query jobs."}
	}
	if plan.Query.Offset != nil {
		return "", &queryError{Code: soql.CodeMalformedQuery, Message: "OFFSET is not supported by Bulk API 2.0 query jobs."}
	}
	if len(plan.Subqueries) > 0 {
		// The Bulk API 2.0 guide ("Understanding Bulk API 2.0 Query") lists
		// parent-to-child relationship queries among what query jobs do
		// not run, and the Bulk API 1.0 guide nested SOQL ("Use Bulk
		// Query"): a CSV row has no place for a list of children. Code and
		// wording UNCONFIRMED, as above.
		return "", &queryError{Code: soql.CodeMalformedQuery, Message: "Parent-to-child relationship queries are not supported by Bulk API query jobs."}
	}
	for _, col := range plan.Columns {
		if col.TypeOf != nil {
			// The Bulk API 2.0 guide lists TYPEOF among what query jobs do
			// not support; code and wording UNCONFIRMED.
			return "", &queryError{Code: soql.CodeMalformedQuery, Message: "TYPEOF is not supported by Bulk API query jobs."}
		}
	}
	return plan.Object.Name(), nil
}
