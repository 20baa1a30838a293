package emulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Bulk API 2.0 (salesforce-api.md §7): ingest jobs (insert, update, upsert,
// delete, hardDelete from one CSV upload) and query jobs (SOQL to paged CSV).
//
// Jobs live beside the org, not in it: they are not persisted and survive no
// restart, as Salesforce deletes finished jobs after a week anyway. A job's
// metadata is guarded by bulkJobs.mu; record changes happen under e.mu in
// chunks, so a million-row job never blocks other API calls for long. Lock
// order: e.mu may be held when taking bulkJobs.mu, never the reverse.

// Job states.
const (
	jobOpen           = "Open"
	jobUploadComplete = "UploadComplete"
	jobInProgress     = "InProgress"
	jobComplete       = "JobComplete"
	jobFailed         = "Failed"
	jobAborted        = "Aborted"
)

// maxBulkUpload caps one PUT of job data: Salesforce's 150 MB.
const maxBulkUpload = 150 << 20

// bulkJobs is the emulator's set of Bulk API 2.0 jobs and the worker that
// processes them. The zero value is ready to use.
type bulkJobs struct {
	mu   sync.Mutex
	jobs map[string]*bulkJob // by 18-character Id
	// slots bounds the jobs processed at once (bulkConcurrency); each
	// closed job has a runner goroutine of its own (bulkrun.go).
	slots  chan struct{}
	closed bool
	wg     sync.WaitGroup
	stop   chan struct{} // closed by closeBulk
}

// bulkJob is one ingest or query job.
type bulkJob struct {
	id         string
	query      bool   // V2Query (else V2Ingest)
	operation  string // insert, update, upsert, delete, hardDelete; query, queryAll
	object     string // API name as the schema spells it
	extField   string // upsert only
	lineEnding string // LF or CRLF
	delimiter  string // COMMA, TAB, ...
	apiVersion string // "65.0"
	createdBy  string
	created    time.Time

	// Guarded by bulkJobs.mu.
	state        string
	modstamp     time.Time
	errorMessage string
	processed    int
	failed       int
	totalMS      int64 // totalProcessingTime
	apiMS        int64 // apiActiveProcessingTime
	uploaded     bool
	// claimed is set when a processor (the worker, or a request finishing
	// the job at once) has taken the job, so nobody else runs it.
	claimed bool
	// handlerRun is set when a request processes the job itself (the
	// finish-at-once knob): it already holds the composite gate.
	handlerRun bool
	// fault is the bulk fault rule that fired when the job was closed:
	// it fails or stalls the job (bulkpace.go). Set once, at close.
	fault *Fault
	// done is closed when the job reaches a final state after being
	// claimed; waiters use it to see the outcome.
	done chan struct{}

	// Ingest data: the uploaded CSV, kept once; result files are built from
	// it and from rows.
	data []byte
	// headerEnd is the end of the header line in data (without its line
	// terminator); dataStart is where the first record after it starts.
	headerStart, headerEnd int
	dataStart              int
	// rows holds the outcome of each processed record, in input order;
	// entries below processed never change again.
	rows []bulkRow
	// errs interns the sf__Error texts rows refer to.
	errs   []string
	errIdx map[string]uint32
	// nextOffset is the byte offset in data of the first record not yet
	// processed (unprocessedrecords).
	nextOffset int

	// queryText is a query job's SOQL.
	queryText string
	// Query results: CSV bytes (header line included) and the byte offset
	// where each record starts, plus one final offset at the end.
	result     []byte
	resultRows []int
}

// bulkRow is the outcome of one ingest record: compact, since a job can hold
// millions.
type bulkRow struct {
	start, end uint32   // the record's bytes in job.data, without terminator
	id         [18]byte // zero when the record has no Id (failed insert)
	outcome    uint8
	err        uint32 // index in job.errs for a failure
}

const (
	rowUpdated uint8 = iota + 1 // success, sf__Created false
	rowCreated                  // success, sf__Created true
	rowFailed
)

func (r *bulkRow) setID(id string) { copy(r.id[:], id) }

// appendQuotedID appends the row's Id (empty when none) quoted, as
// bulkQuote would, without making a string of it.
func (r *bulkRow) appendQuotedID(b []byte) []byte {
	b = append(b, '"')
	if r.id[0] != 0 {
		b = append(b, r.id[:]...)
	}
	return append(b, '"')
}

func (r *bulkRow) idString() string {
	if r.id[0] == 0 {
		return ""
	}
	return string(r.id[:])
}

// jobInfo is the JSON shape of a job, keys in Salesforce's order: the
// listing's keys (jobListEntry, bulklist.go), then the counts.
type jobInfo struct {
	jobListEntry
	Retries                 int    `json:"retries"`
	NumberRecordsProcessed  int    `json:"numberRecordsProcessed"`
	NumberRecordsFailed     *int   `json:"numberRecordsFailed,omitempty"`
	TotalProcessingTime     int64  `json:"totalProcessingTime"`
	APIActiveProcessingTime *int64 `json:"apiActiveProcessingTime,omitempty"`
	ApexProcessingTime      *int64 `json:"apexProcessingTime,omitempty"`
	IsPkChunkingSupported   *bool  `json:"isPkChunkingSupported,omitempty"`
	ErrorMessage            string `json:"errorMessage,omitempty"`
}

// bulkTime renders a time as Salesforce does in JSON.
func bulkTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000-0700")
}

// infoLocked renders the job; bulkJobs.mu must be held.
func (j *bulkJob) infoLocked() jobInfo {
	ji := jobInfo{
		jobListEntry: jobListEntry{
			ID:              j.id,
			Operation:       j.operation,
			Object:          j.object,
			CreatedByID:     j.createdBy,
			CreatedDate:     bulkTime(j.created),
			SystemModstamp:  bulkTime(j.modstamp),
			State:           j.state,
			ConcurrencyMode: "Parallel",
			ContentType:     "CSV",
			APIVersion:      json.Number(j.apiVersion),
			LineEnding:      j.lineEnding,
			ColumnDelimiter: j.delimiter,
		},
		NumberRecordsProcessed: j.processed,
		TotalProcessingTime:    j.totalMS,
	}
	if j.query {
		ji.JobType = "V2Query"
		f := false
		ji.IsPkChunkingSupported = &f
	} else {
		ji.JobType = "V2Ingest"
		ji.ExternalIDFieldName = j.extField
		ji.ContentURL = "services/data/v" + j.apiVersion + "/jobs/ingest/" + j.id + "/batches"
		failed, api, apex := j.failed, j.apiMS, int64(0)
		ji.NumberRecordsFailed, ji.APIActiveProcessingTime, ji.ApexProcessingTime = &failed, &api, &apex
	}
	if j.state == jobFailed {
		ji.ErrorMessage = j.errorMessage
	}
	return ji
}

// setStateLocked moves the job to state; bulkJobs.mu must be held.
func (j *bulkJob) setStateLocked(state string, now time.Time) {
	j.state = state
	j.modstamp = now
}

func jobFinal(state string) bool {
	return state == jobComplete || state == jobFailed || state == jobAborted
}

// bulkDecodeJSON decodes a JSON document the way readJSON does (numbers kept
// as json.Number), for bodies that arrive inside multipart requests.
func bulkDecodeJSON(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	return dec.Decode(v)
}

// setDataLocked stores the job's upload and notes where its header and
// first record are, for unprocessedrecords of a job never run.
// bulkJobs.mu must be held.
func (j *bulkJob) setDataLocked(data []byte) {
	j.data = data
	// Try the job's line ending, then the other one: data with the wrong
	// line ending fails the job, yet its records are still unprocessed.
	for _, crlf := range []bool{j.lineEnding == "CRLF", j.lineEnding != "CRLF"} {
		sc := newCSVScanner(data, bulkDelimiters[j.delimiter], crlf)
		if _, s, en, ok, err := sc.next(nil); ok && err == nil {
			j.headerStart, j.headerEnd, j.dataStart = s, en, sc.pos
			j.nextOffset = sc.pos
			return
		}
	}
}

// --- job registry -------------------------------------------------------------

// addJob registers a new job and returns it.
func (e *Emulator) addJob(j *bulkJob) {
	b := &e.bulk
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.jobs == nil {
		b.jobs = map[string]*bulkJob{}
	}
	j.done = make(chan struct{})
	b.jobs[j.id] = j
}

// jobFromPath finds the job named by the {id} path segment, of the right
// kind, answering 404 when there is none. It returns nil when it answered.
func (e *Emulator) jobFromPath(c *call, query bool) *bulkJob {
	if !bulkVersionOK(c, bulkMinVersion(query)) {
		return nil
	}
	raw := c.r.PathValue("id")
	id, ok := normalizeID(raw)
	var j *bulkJob
	if ok {
		e.bulk.mu.Lock()
		j = e.bulk.jobs[id]
		e.bulk.mu.Unlock()
	}
	if j == nil || j.query != query {
		c.writeError(http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist", nil)
		return nil
	}
	return j
}

// bulkMinVersion is the first API version serving the kind of job.
func bulkMinVersion(query bool) int {
	if query {
		return minQueryVersion
	}
	return minIngestVersion
}

// writeJobInfo answers the job's current JobInfo.
func (e *Emulator) writeJobInfo(c *call, j *bulkJob) {
	e.bulk.mu.Lock()
	ji := j.infoLocked()
	e.bulk.mu.Unlock()
	c.writeJSON(http.StatusOK, ji)
}

// deleteJob answers DELETE of a job: allowed once it is closed, as in
// Salesforce; a job still queued or running is aborted first.
func (e *Emulator) deleteJob(c *call, query bool) {
	j := e.jobFromPath(c, query)
	if j == nil {
		return
	}
	b := &e.bulk
	b.mu.Lock()
	if j.state == jobOpen || (query && !jobFinal(j.state)) {
		st := j.state
		b.mu.Unlock()
		c.writeError(http.StatusBadRequest, "INVALIDJOBSTATE",
			fmt.Sprintf("Deleting a job in state %s is not allowed; close or abort it first", st), nil)
		return
	}
	if !jobFinal(j.state) {
		j.setStateLocked(jobAborted, e.now())
		e.finishLocked(j)
	}
	delete(b.jobs, j.id)
	b.mu.Unlock()
	c.writeNoContent()
}

// finishLocked releases waiters of a job that reached a final state.
// bulkJobs.mu must be held.
func (e *Emulator) finishLocked(j *bulkJob) {
	select {
	case <-j.done:
	default:
		close(j.done)
	}
	// The raw upload is only needed for result files of ingest jobs; a
	// query job never has one.
}

// resetBulk forgets every job (the admin API's reset). Jobs being processed
// stop after their current chunk.
func (e *Emulator) resetBulk() {
	b := &e.bulk
	b.mu.Lock()
	defer b.mu.Unlock()
	now := e.now()
	for _, j := range b.jobs {
		if !jobFinal(j.state) {
			j.setStateLocked(jobAborted, now)
			e.finishLocked(j)
		}
	}
	b.jobs = nil
	b.mu.Unlock()
	e.resetBulkV1() // bulkv1.go
	b.mu.Lock()
}

// closeBulk stops the worker and waits for it to exit. Jobs left queued are
// never processed. Safe to call more than once.
func (e *Emulator) closeBulk() {
	b := &e.bulk
	b.mu.Lock()
	if !b.closed {
		b.closed = true
		if b.stop == nil {
			b.stop = make(chan struct{})
		}
		close(b.stop)
	}
	b.mu.Unlock()
	b.wg.Wait()
}

// bulkBadValue is the API_ERROR answer for a bad property value.
func bulkBadValue(c *call, prop, val string) {
	c.writeError(http.StatusBadRequest, "API_ERROR",
		fmt.Sprintf("Invalid value: '%s' supplied for property: '%s'", val, prop), nil)
}

// bulkOption canonicalises an enumerated job option (case-insensitive on
// input, as Salesforce accepts "lf" and "comma"); ok false if unknown.
func bulkOption[T any](m map[string]T, v, def string) (string, bool) {
	if v == "" {
		return def, true
	}
	u := strings.ToUpper(v)
	if _, ok := m[u]; !ok {
		return "", false
	}
	return u, true
}

// bulkCreator is the user a new job belongs to.
func bulkCreator(c *call) string {
	if c.sess != nil {
		return c.sess.UserID
	}
	return ""
}
