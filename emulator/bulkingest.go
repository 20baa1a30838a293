package emulator

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
)

// Ingest jobs: /services/data/vNN.N/jobs/ingest (v41.0 and later).

// minIngestVersion and minQueryVersion are the first API versions serving
// Bulk API 2.0 ingest and query jobs.
const (
	minIngestVersion = 41
	minQueryVersion  = 47
)

var ingestOperations = map[string]bool{
	"insert": true, "update": true, "upsert": true, "delete": true, "hardDelete": true,
}

// ingestRequest is the body of POST /jobs/ingest.
type ingestRequest struct {
	Object              string `json:"object"`
	Operation           string `json:"operation"`
	ExternalIDFieldName string `json:"externalIdFieldName"`
	ContentType         string `json:"contentType"`
	LineEnding          string `json:"lineEnding"`
	ColumnDelimiter     string `json:"columnDelimiter"`
	AssignmentRuleID    string `json:"assignmentRuleId"`
}

// bulkVersionOK answers 404 for API versions older than Bulk API 2.0's
// resource; it returns false when it answered.
func bulkVersionOK(c *call, min int) bool {
	if versionNumber(c.version) < min {
		c.writeError(http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist", nil)
		return false
	}
	return true
}

// createIngestJob answers POST /jobs/ingest, with a JSON body (state Open)
// or a multipart body holding the job and its data (state UploadComplete).
func (e *Emulator) createIngestJob(c *call) {
	if !bulkVersionOK(c, minIngestVersion) {
		return
	}
	mt, params, _ := mime.ParseMediaType(c.r.Header.Get("Content-Type"))
	if mt == "multipart/form-data" {
		e.createIngestMultipart(c, params["boundary"])
		return
	}
	var req ingestRequest
	if !c.readJSON(&req) {
		return
	}
	j, ok := e.newIngestJob(c, req)
	if !ok {
		return
	}
	e.addJob(j)
	e.writeJobInfo(c, j)
}

// newIngestJob validates a job request the way Salesforce does; it answers
// the error itself and returns false when the request is refused.
func (e *Emulator) newIngestJob(c *call, req ingestRequest) (*bulkJob, bool) {
	if !ingestOperations[req.Operation] {
		bulkBadValue(c, "operation", req.Operation)
		return nil, false
	}
	if req.ContentType != "" && !strings.EqualFold(req.ContentType, "CSV") {
		bulkBadValue(c, "contentType", req.ContentType)
		return nil, false
	}
	lineEnding, ok := bulkOption(bulkLineEndings, req.LineEnding, "LF")
	if !ok {
		bulkBadValue(c, "lineEnding", req.LineEnding)
		return nil, false
	}
	delim, ok := bulkOption(bulkDelimiters, req.ColumnDelimiter, "COMMA")
	if !ok {
		bulkBadValue(c, "columnDelimiter", req.ColumnDelimiter)
		return nil, false
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	obj := e.sobjectLocked(req.Object)
	if obj == nil {
		c.writeError(http.StatusBadRequest, "INVALIDJOB", "InvalidJob : Unable to find object: "+req.Object, nil)
		return nil, false
	}
	j := &bulkJob{
		operation:  req.Operation,
		object:     obj.Name,
		lineEnding: lineEnding,
		delimiter:  delim,
		apiVersion: c.version,
		createdBy:  bulkCreator(c),
		state:      jobOpen,
	}
	if req.Operation == "upsert" {
		if req.ExternalIDFieldName == "" {
			c.writeError(http.StatusBadRequest, "INVALIDJOB",
				fmt.Sprintf("InvalidJob : External ID was blank for %s. An External ID must be specified for upsert.", obj.Name), nil)
			return nil, false
		}
		f := obj.field(req.ExternalIDFieldName)
		if f == nil || !(f.ExternalID || f.Name == "Id") {
			c.writeError(http.StatusBadRequest, "INVALIDJOB",
				fmt.Sprintf("Field name provided, %s does not match an External ID for %s", req.ExternalIDFieldName, obj.Name), nil)
			return nil, false
		}
		j.extField = f.Name
	}
	now := e.now()
	j.id = e.newIDLocked("750")
	j.created, j.modstamp = now, now
	return j, true
}

// createIngestMultipart creates a job from a multipart body: a "job" part
// (JSON) and a "content" part (CSV). The job starts UploadComplete.
func (e *Emulator) createIngestMultipart(c *call, boundary string) {
	if boundary == "" {
		c.writeError(http.StatusBadRequest, "API_ERROR", "Multipart request is missing its boundary", nil)
		return
	}
	mr := multipart.NewReader(io.LimitReader(c.r.Body, maxBulkUpload+1<<20), boundary)
	var jobJSON, content []byte
	var haveContent bool
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			c.writeError(http.StatusBadRequest, "API_ERROR", "Invalid multipart request: "+err.Error(), nil)
			return
		}
		switch p.FormName() {
		case "job":
			jobJSON, err = io.ReadAll(io.LimitReader(p, maxJSONBody))
		case "content":
			content, err = readLimited(p, maxBulkUpload)
			haveContent = true
		default:
			_, err = io.Copy(io.Discard, p)
		}
		if err != nil {
			c.writeError(http.StatusBadRequest, "API_ERROR", "Invalid multipart request: "+err.Error(), nil)
			return
		}
	}
	if jobJSON == nil {
		c.writeError(http.StatusBadRequest, "API_ERROR", "The multipart request has no 'job' part", nil)
		return
	}
	if !haveContent {
		c.writeError(http.StatusBadRequest, "API_ERROR", "The multipart request has no 'content' part", nil)
		return
	}
	var req ingestRequest
	if err := bulkDecodeJSON(jobJSON, &req); err != nil {
		c.writeError(http.StatusBadRequest, "JSON_PARSER_ERROR", jsonErrorMessage(err), nil)
		return
	}
	j, ok := e.newIngestJob(c, req)
	if !ok {
		return
	}
	j.setDataLocked(content) // not yet shared: no lock needed
	j.uploaded = true
	e.addJob(j)
	c.writeJSON(http.StatusOK, e.closeJob(c, j))
}

// errTooLarge reports an upload over maxBulkUpload.
var errTooLarge = errors.New("upload too large")

// readLimited reads r into memory, failing when it holds more than limit bytes.
func readLimited(r io.Reader, limit int64) ([]byte, error) {
	var buf bytes.Buffer
	n, err := buf.ReadFrom(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if n > limit {
		return nil, errTooLarge
	}
	return buf.Bytes(), nil
}

// uploadJobData answers PUT /jobs/ingest/{id}/batches: the job's one CSV
// upload, answered 201 with no body.
func (e *Emulator) uploadJobData(c *call) {
	if !bulkVersionOK(c, minIngestVersion) {
		return
	}
	j := e.jobFromPath(c, false)
	if j == nil {
		return
	}
	ct := c.r.Header.Get("Content-Type")
	if mt, _, _ := mime.ParseMediaType(ct); mt != "text/csv" {
		c.writeError(http.StatusUnsupportedMediaType, "INVALIDCONTENTTYPE",
			fmt.Sprintf("Content type '%s' not supported; upload job data as text/csv", ct), nil)
		return
	}
	b := &e.bulk
	b.mu.Lock()
	switch {
	case j.uploaded:
		b.mu.Unlock()
		c.writeError(http.StatusBadRequest, "BULK_API_ERROR", multipleContents(j.id), nil)
		return
	case j.state != jobOpen:
		st := j.state
		b.mu.Unlock()
		c.writeError(http.StatusBadRequest, "INVALIDJOBSTATE",
			fmt.Sprintf("Job data can only be uploaded to an Open job; this job is %s", st), nil)
		return
	}
	// Reserve the one upload before reading, so a concurrent second PUT
	// gets the error rather than racing this one.
	j.uploaded = true
	b.mu.Unlock()

	data, err := readLimited(c.r.Body, maxBulkUpload)
	if err != nil {
		b.mu.Lock()
		j.uploaded = false
		b.mu.Unlock()
		if errors.Is(err, errTooLarge) {
			c.writeError(http.StatusRequestEntityTooLarge, "BULK_API_ERROR",
				fmt.Sprintf("Job data exceeds the maximum upload size of %d bytes", maxBulkUpload), nil)
			return
		}
		c.writeError(http.StatusBadRequest, "BULK_API_ERROR", "Unable to read job data: "+err.Error(), nil)
		return
	}
	b.mu.Lock()
	if j.state == jobOpen {
		j.setDataLocked(data)
		j.modstamp = e.now()
	}
	b.mu.Unlock()
	c.w.WriteHeader(http.StatusCreated)
}

// multipleContents is Salesforce's message (typo included) for a second upload.
func multipleContents(id string) string {
	return fmt.Sprintf("Found multipe contents for job: <%s>, please 'Close' / 'Abort' / 'Delete' the current Job then create a new Job and make sure you only do 'PUT' once on a given Job.", id[:15])
}

// patchJob answers PATCH /jobs/{ingest|query}/{id} {"state": ...}: close an
// ingest job (UploadComplete) or abort either kind.
func (e *Emulator) patchJob(c *call, query bool) {
	j := e.jobFromPath(c, query)
	if j == nil {
		return
	}
	var req struct {
		State string `json:"state"`
	}
	if !c.readJSON(&req) {
		return
	}
	b := &e.bulk
	switch req.State {
	case jobUploadComplete:
		if query {
			c.writeError(http.StatusBadRequest, "INVALIDJOBSTATE", "A query job cannot be closed; it is closed when created", nil)
			return
		}
		b.mu.Lock()
		if j.state != jobOpen {
			st := j.state
			b.mu.Unlock()
			c.writeError(http.StatusBadRequest, "INVALIDJOBSTATE",
				fmt.Sprintf("Closing an already %s job is not allowed", st), nil)
			return
		}
		b.mu.Unlock()
		info := e.closeJob(c, j)
		c.writeJSON(http.StatusOK, info)
	case jobAborted:
		b.mu.Lock()
		if jobFinal(j.state) {
			st := j.state
			b.mu.Unlock()
			c.writeError(http.StatusBadRequest, "INVALIDJOBSTATE",
				fmt.Sprintf("Aborting an already %s job is not allowed", st), nil)
			return
		}
		j.setStateLocked(jobAborted, e.now())
		e.finishLocked(j)
		info := j.infoLocked()
		b.mu.Unlock()
		c.writeJSON(http.StatusOK, info)
	case jobOpen, jobInProgress, jobComplete, jobFailed:
		c.writeError(http.StatusBadRequest, "INVALIDJOBSTATE",
			fmt.Sprintf("A job cannot be moved to state %s", req.State), nil)
	default:
		bulkBadValue(c, "state", req.State)
	}
}

// getJob answers GET of a job. With the finish-at-once knob on, a job not
// yet final is finished before answering.
func (e *Emulator) getJob(c *call, query bool) {
	j := e.jobFromPath(c, query)
	if j == nil {
		return
	}
	if e.FinishBulkJobsAtOnce() {
		e.finishNow(c, j)
	}
	e.writeJobInfo(c, j)
}

// jobResults answers successfulResults, failedResults and unprocessedrecords
// of an ingest job as CSV in the job's delimiter and line ending.
func (e *Emulator) jobResults(c *call, kind string) {
	if !bulkVersionOK(c, minIngestVersion) {
		return
	}
	j := e.jobFromPath(c, false)
	if j == nil {
		return
	}
	b := &e.bulk
	b.mu.Lock()
	// Entries below processed, the data and the interned errors are never
	// changed again, so they can be written out without the lock.
	rows := j.rows[:j.processed]
	errs := j.errs
	data := j.data
	hs, he, next := j.headerStart, j.headerEnd, j.nextOffset
	if next < j.dataStart {
		next = j.dataStart
	}
	version := versionNumber(j.apiVersion)
	op := j.operation
	b.mu.Unlock()

	delim := bulkDelimiters[j.delimiter]
	eol := bulkLineEndings[j.lineEnding]
	c.w.Header().Set("Content-Type", "text/csv")
	c.w.WriteHeader(http.StatusOK)
	if c.r.Method == http.MethodHead || he <= hs {
		return
	}
	w := bufio.NewWriterSize(c.w, 64<<10)
	defer w.Flush()
	header := data[hs:he]
	line := make([]byte, 0, 256)
	switch kind {
	case "unprocessedrecords":
		w.Write(header)
		w.WriteString(eol)
		if next < len(data) {
			w.Write(data[next:])
		}
	case "successfulResults":
		line = bulkQuote(line, "sf__Id")
		line = append(line, delim)
		line = bulkQuote(line, "sf__Created")
		line = append(line, delim)
		line = append(line, header...)
		line = append(line, eol...)
		w.Write(line)
		for i := range rows {
			r := &rows[i]
			if r.outcome != rowCreated && r.outcome != rowUpdated {
				continue
			}
			line = r.appendQuotedID(line[:0])
			line = append(line, delim)
			if r.outcome == rowCreated {
				line = bulkQuote(line, "true")
			} else {
				line = bulkQuote(line, "false")
			}
			line = append(line, delim)
			line = append(line, data[r.start:r.end]...)
			line = append(line, eol...)
			w.Write(line)
		}
	case "failedResults":
		line = bulkQuote(line, "sf__Id")
		line = append(line, delim)
		line = bulkQuote(line, "sf__Error")
		line = append(line, delim)
		line = append(line, header...)
		line = append(line, eol...)
		w.Write(line)
		for i := range rows {
			r := &rows[i]
			if r.outcome != rowFailed {
				continue
			}
			// Failed updates and deletes name their record from v53.0.
			if version < 53 || op == "insert" {
				line = bulkQuote(line[:0], "")
			} else {
				line = r.appendQuotedID(line[:0])
			}
			line = append(line, delim)
			line = bulkQuote(line, errs[r.err])
			line = append(line, delim)
			line = append(line, data[r.start:r.end]...)
			line = append(line, eol...)
			w.Write(line)
		}
	}
}
