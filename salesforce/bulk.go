package salesforce

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Bulk API 2.0 (salesforce-api.md §7). Every path here streams: uploads are
// written into the request body as records are produced, result and query
// files are parsed from the response body as they arrive. Memory stays flat
// whatever the number of records: one row, one encoder buffer and one
// 64 KiB write buffer per upload in flight.

// BulkOperation is the operation of a Bulk API 2.0 job.
type BulkOperation string

// Operations of ingest jobs and query jobs.
const (
	BulkInsert     BulkOperation = "insert"
	BulkUpdate     BulkOperation = "update"
	BulkUpsert     BulkOperation = "upsert"
	BulkDelete     BulkOperation = "delete"
	BulkHardDelete BulkOperation = "hardDelete"
	BulkQuery      BulkOperation = "query"
	BulkQueryAll   BulkOperation = "queryAll"
)

// JobState is the state of a Bulk API 2.0 job: Open -> UploadComplete ->
// InProgress -> JobComplete | Failed | Aborted.
type JobState string

// Job states.
const (
	JobOpen           JobState = "Open"
	JobUploadComplete JobState = "UploadComplete"
	JobInProgress     JobState = "InProgress"
	JobComplete       JobState = "JobComplete"
	JobFailed         JobState = "Failed"
	JobAborted        JobState = "Aborted"
)

// Terminal reports whether the job will not change state again.
func (s JobState) Terminal() bool {
	return s == JobComplete || s == JobFailed || s == JobAborted
}

// JobInfo is Salesforce's description of a Bulk API 2.0 job. Times are kept
// as Salesforce writes them ("2020-03-21T20:03:25.000+0000").
type JobInfo struct {
	ID                      string        `json:"id"`
	Operation               BulkOperation `json:"operation"`
	Object                  string        `json:"object"`
	CreatedByID             string        `json:"createdById"`
	CreatedDate             string        `json:"createdDate"`
	SystemModstamp          string        `json:"systemModstamp"`
	State                   JobState      `json:"state"`
	ExternalIDFieldName     string        `json:"externalIdFieldName,omitempty"`
	ConcurrencyMode         string        `json:"concurrencyMode"`
	ContentType             string        `json:"contentType"`
	APIVersion              float64       `json:"apiVersion"`
	JobType                 string        `json:"jobType"` // V2Ingest or V2Query
	ContentURL              string        `json:"contentUrl,omitempty"`
	LineEnding              string        `json:"lineEnding"`
	ColumnDelimiter         string        `json:"columnDelimiter"`
	Query                   string        `json:"query,omitempty"` // query jobs
	Retries                 int           `json:"retries"`
	NumberRecordsProcessed  int64         `json:"numberRecordsProcessed"`
	NumberRecordsFailed     int64         `json:"numberRecordsFailed"`
	TotalProcessingTime     int64         `json:"totalProcessingTime"` // milliseconds
	APIActiveProcessingTime int64         `json:"apiActiveProcessingTime"`
	ApexProcessingTime      int64         `json:"apexProcessingTime"`
	ErrorMessage            string        `json:"errorMessage,omitempty"` // when Failed
}

// JobError reports a job that ended Failed or Aborted. Records of a Failed
// or Aborted job that were not processed can be sent again with
// Bulk.ResubmitUnprocessed.
type JobError struct {
	JobID   string
	State   JobState
	Message string // the job's errorMessage, if any
}

func (e *JobError) Error() string {
	s := fmt.Sprintf("salesforce: bulk job %s ended %s", e.JobID, e.State)
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// IngestJob describes the ingest jobs to create. Uploads are always
// comma-separated with LF line endings: the client writes the CSV itself.
type IngestJob struct {
	Object    string        // sObject API name, e.g. "Lead"
	Operation BulkOperation // insert, update, upsert, delete, hardDelete
	// ExternalIDField is required for upsert (and only allowed there).
	ExternalIDField string
	// AssignmentRuleID, when set, runs that lead or case assignment rule.
	AssignmentRuleID string
}

func (j IngestJob) validate() error {
	switch j.Operation {
	case BulkInsert, BulkUpdate, BulkDelete, BulkHardDelete:
		if j.ExternalIDField != "" {
			return fmt.Errorf("salesforce: bulk %s takes no external id field", j.Operation)
		}
	case BulkUpsert:
		if j.ExternalIDField == "" {
			return errors.New("salesforce: bulk upsert needs an external id field")
		}
	default:
		return fmt.Errorf("salesforce: %q is not a bulk ingest operation", j.Operation)
	}
	if !isAPIName(j.Object) {
		return fmt.Errorf("salesforce: %q is not an sObject name", j.Object)
	}
	if j.ExternalIDField != "" && !isAPIName(j.ExternalIDField) {
		return fmt.Errorf("salesforce: %q is not a field name", j.ExternalIDField)
	}
	return nil
}

// isAPIName accepts Salesforce API names (Lead, Foo__c, ns__Bar__c), which
// are placed in URLs and JSON and so must not carry anything else.
func isAPIName(s string) bool {
	if s == "" || len(s) > 120 {
		return false
	}
	for i, c := range s {
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z':
		case (c >= '0' && c <= '9' || c == '_') && i > 0:
		default:
			return false
		}
	}
	return true
}

// BulkConfig tunes a Bulk handle. The zero value is the default.
type BulkConfig struct {
	// MaxBytesPerJob caps the CSV bytes uploaded to one job; more data is
	// split across several jobs, each with the header. 0 means 100,000,000
	// (Salesforce's recommended raw size under its 150 MB limit).
	MaxBytesPerJob int64
	// MaxRecordsPerJob caps the records of one job. 0 means no cap beyond
	// MaxBytesPerJob.
	MaxRecordsPerJob int
	// PollInitial is the first wait between two polls of a job. 0 means 250ms.
	PollInitial time.Duration
	// PollMax caps the wait between polls; waits grow by PollMultiplier up
	// to it. 0 means 5s.
	PollMax time.Duration
	// PollMultiplier grows the wait after each poll. 0 means 1.5.
	PollMultiplier float64
	// PollMin is the shortest wait between polls once the client paces
	// ingest polls by what it learned of the org. 0 means 20ms.
	PollMin time.Duration
	// Sleep waits d or until ctx ends, returning ctx.Err() then. Nil means a
	// timer. Tests inject one to poll without waiting.
	Sleep func(ctx context.Context, d time.Duration) error
	// HeaderTimeout bounds the wait for the response headers of a streamed
	// download (results, query pages); the body itself is bounded only by
	// ctx, so a slow consumer is never cut off. 0 means 2 minutes.
	HeaderTimeout time.Duration
	// OnJob, when set, receives each ingest job right after it is created,
	// before any data is sent, so the caller can note it durably and find
	// it after a crash. An error stops the ingest (the job is aborted).
	OnJob func(JobInfo) error
}

// DefaultMaxBytesPerJob is the upload cap used when BulkConfig leaves it 0.
const DefaultMaxBytesPerJob = 100_000_000

// Bulk runs Bulk API 2.0 jobs through a Client. It is safe for concurrent
// use; each method call is independent.
type Bulk struct {
	c   *Client
	cfg BulkConfig
}

// Bulk returns a handle for Bulk API 2.0 with cfg.
func (c *Client) Bulk(cfg BulkConfig) *Bulk {
	if cfg.MaxBytesPerJob <= 0 {
		cfg.MaxBytesPerJob = DefaultMaxBytesPerJob
	}
	if cfg.PollInitial <= 0 {
		cfg.PollInitial = 250 * time.Millisecond
	}
	if cfg.PollMax <= 0 {
		cfg.PollMax = 5 * time.Second
	}
	if cfg.PollMax < cfg.PollInitial {
		cfg.PollMax = cfg.PollInitial
	}
	if cfg.PollMultiplier < 1 {
		cfg.PollMultiplier = 1.5
	}
	if cfg.PollMin <= 0 {
		cfg.PollMin = 20 * time.Millisecond
	}
	if cfg.HeaderTimeout <= 0 {
		cfg.HeaderTimeout = 2 * time.Minute
	}
	return &Bulk{c: c, cfg: cfg}
}

func (b *Bulk) sleep(ctx context.Context, d time.Duration) error {
	if b.cfg.Sleep != nil {
		return b.cfg.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func (b *Bulk) ingestPath(rest string) string {
	return b.c.DataPath("jobs/ingest" + rest)
}

func (b *Bulk) queryPath(rest string) string {
	return b.c.DataPath("jobs/query" + rest)
}

// jobIDOK guards job Ids placed in paths: Ids are alphanumeric.
func jobIDOK(id string) error {
	if len(id) != 15 && len(id) != 18 {
		return fmt.Errorf("salesforce: %q is not a job Id", id)
	}
	for _, c := range id {
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z') {
			return fmt.Errorf("salesforce: %q is not a job Id", id)
		}
	}
	return nil
}

// --- ingest job resources ---------------------------------------------------

// CreateIngestJob creates an Open ingest job expecting comma-separated,
// LF-terminated CSV.
func (b *Bulk) CreateIngestJob(ctx context.Context, job IngestJob) (*JobInfo, error) {
	if err := job.validate(); err != nil {
		return nil, err
	}
	body := map[string]string{
		"object":          job.Object,
		"operation":       string(job.Operation),
		"contentType":     "CSV",
		"lineEnding":      "LF",
		"columnDelimiter": "COMMA",
	}
	if job.ExternalIDField != "" {
		body["externalIdFieldName"] = job.ExternalIDField
	}
	if job.AssignmentRuleID != "" {
		body["assignmentRuleId"] = job.AssignmentRuleID
	}
	var info JobInfo
	// A POST is not retried after an ambiguous failure: a lost answer could
	// leave an Open job behind, which is harmless (it expires) but would
	// make us upload twice if we retried blindly.
	if _, err := b.c.doJSON(ctx, KindBulk, http.MethodPost, b.ingestPath(""), body, &info); err != nil {
		return nil, fmt.Errorf("create bulk %s job on %s: %w", job.Operation, job.Object, err)
	}
	if info.ID == "" {
		return nil, fmt.Errorf("create bulk %s job on %s: answer has no job id", job.Operation, job.Object)
	}
	if b.cfg.OnJob != nil {
		if err := b.cfg.OnJob(info); err != nil {
			b.abandon(ctx, info.ID)
			return nil, fmt.Errorf("create bulk %s job on %s: noting job %s: %w", job.Operation, job.Object, info.ID, err)
		}
	}
	return &info, nil
}

// UploadJobData streams r as the job's one CSV upload (PUT .../batches,
// Content-Type text/csv). r must be CSV in the job's dialect with a header
// row. It is read once, never buffered whole.
func (b *Bulk) UploadJobData(ctx context.Context, jobID string, r io.Reader) error {
	if err := jobIDOK(jobID); err != nil {
		return err
	}
	h := http.Header{"Content-Type": {"text/csv"}}
	resp, err := b.c.doStream(ctx, http.MethodPut, b.ingestPath("/"+jobID+"/batches"), r, h, 0)
	if err != nil {
		return fmt.Errorf("upload bulk job %s: %w", jobID, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return nil
}

// CloseJob marks the ingest job UploadComplete so Salesforce processes it.
func (b *Bulk) CloseJob(ctx context.Context, jobID string) (*JobInfo, error) {
	return b.setState(ctx, false, jobID, JobUploadComplete)
}

// AbortJob aborts an ingest job. Records not yet processed stay unprocessed.
func (b *Bulk) AbortJob(ctx context.Context, jobID string) (*JobInfo, error) {
	return b.setState(ctx, false, jobID, JobAborted)
}

// AbortQueryJob aborts a query job.
func (b *Bulk) AbortQueryJob(ctx context.Context, jobID string) (*JobInfo, error) {
	return b.setState(ctx, true, jobID, JobAborted)
}

func (b *Bulk) setState(ctx context.Context, query bool, jobID string, state JobState) (*JobInfo, error) {
	if err := jobIDOK(jobID); err != nil {
		return nil, err
	}
	p := b.ingestPath("/" + jobID)
	if query {
		p = b.queryPath("/" + jobID)
	}
	var info JobInfo
	if _, err := b.c.doJSON(ctx, KindBulk, http.MethodPatch, p, map[string]string{"state": string(state)}, &info); err != nil {
		return nil, fmt.Errorf("set bulk job %s to %s: %w", jobID, state, err)
	}
	return &info, nil
}

// IngestJobInfo returns the current description of an ingest job.
func (b *Bulk) IngestJobInfo(ctx context.Context, jobID string) (*JobInfo, error) {
	return b.jobInfo(ctx, false, jobID)
}

// QueryJobInfo returns the current description of a query job.
func (b *Bulk) QueryJobInfo(ctx context.Context, jobID string) (*JobInfo, error) {
	return b.jobInfo(ctx, true, jobID)
}

func (b *Bulk) jobInfo(ctx context.Context, query bool, jobID string) (*JobInfo, error) {
	if err := jobIDOK(jobID); err != nil {
		return nil, err
	}
	p := b.ingestPath("/" + jobID)
	if query {
		p = b.queryPath("/" + jobID)
	}
	var info JobInfo
	if _, err := b.c.doJSON(ctx, KindBulk, http.MethodGet, p, nil, &info); err != nil {
		return nil, fmt.Errorf("get bulk job %s: %w", jobID, err)
	}
	return &info, nil
}

// IngestJobs lists the org's ingest jobs (GET /jobs/ingest), following
// nextRecordsUrl until done; at most maxPages pages.
func (b *Bulk) IngestJobs(ctx context.Context) ([]JobInfo, error) {
	const maxPages = 100
	var out []JobInfo
	// Salesforce lists Bulk API 1.0 jobs here too (jobType Classic); this
	// client neither opens nor closes those, so it asks for 2.0 ones only.
	p := b.ingestPath("") + "?jobType=V2Ingest"
	for range maxPages {
		var page struct {
			Done           bool      `json:"done"`
			Records        []JobInfo `json:"records"`
			NextRecordsURL *string   `json:"nextRecordsUrl"`
		}
		if _, err := b.c.doJSON(ctx, KindBulk, http.MethodGet, p, nil, &page); err != nil {
			return nil, fmt.Errorf("list bulk ingest jobs: %w", err)
		}
		for _, j := range page.Records {
			if j.JobType == "" || j.JobType == "V2Ingest" {
				out = append(out, j)
			}
		}
		if page.Done || page.NextRecordsURL == nil || *page.NextRecordsURL == "" {
			return out, nil
		}
		p = *page.NextRecordsURL
	}
	return out, nil
}

// DeleteJob deletes a closed or aborted ingest job and its data.
func (b *Bulk) DeleteJob(ctx context.Context, jobID string) error {
	return b.deleteJob(ctx, false, jobID)
}

// DeleteQueryJob deletes a finished query job and its results.
func (b *Bulk) DeleteQueryJob(ctx context.Context, jobID string) error {
	return b.deleteJob(ctx, true, jobID)
}

func (b *Bulk) deleteJob(ctx context.Context, query bool, jobID string) error {
	if err := jobIDOK(jobID); err != nil {
		return err
	}
	p := b.ingestPath("/" + jobID)
	if query {
		p = b.queryPath("/" + jobID)
	}
	if _, err := b.c.doJSON(ctx, KindBulk, http.MethodDelete, p, nil, nil); err != nil {
		return fmt.Errorf("delete bulk job %s: %w", jobID, err)
	}
	return nil
}

// WaitJob polls an ingest job until it is JobComplete, Failed or Aborted,
// waiting PollInitial at first and longer after each poll up to PollMax.
// It returns the final JobInfo; the state is the caller's to judge.
func (b *Bulk) WaitJob(ctx context.Context, jobID string) (*JobInfo, error) {
	return b.wait(ctx, false, jobID)
}

// WaitQueryJob polls a query job like WaitJob.
func (b *Bulk) WaitQueryJob(ctx context.Context, jobID string) (*JobInfo, error) {
	return b.wait(ctx, true, jobID)
}

func (b *Bulk) wait(ctx context.Context, query bool, jobID string) (*JobInfo, error) {
	d := b.cfg.PollInitial
	for {
		info, err := b.jobInfo(ctx, query, jobID)
		if err != nil {
			return nil, err
		}
		if info.State.Terminal() {
			return info, nil
		}
		if err := b.sleep(ctx, d); err != nil {
			return info, fmt.Errorf("wait for bulk job %s (%s): %w", jobID, info.State, err)
		}
		d = min(time.Duration(float64(d)*b.cfg.PollMultiplier), b.cfg.PollMax)
	}
}

// waitIngest waits for an ingest job of n records closed at closed. Its
// first poll comes when the job should be done by the pace the client has
// learned from earlier jobs (at once before any job completed); then each
// wait follows the job's own progress (jobPolls), or grows by half when it
// shows none (it may be queued). Waits stay within [PollMin, PollMax].
func (b *Bulk) waitIngest(ctx context.Context, jobID string, n int64, closed time.Time) (*JobInfo, error) {
	d, _ := b.c.bulkPace.firstWait(n)
	d -= time.Since(closed) // jobs of one ingest are waited for in turn
	plan := jobPolls{n: n}
	for {
		if d > 0 {
			if err := b.sleep(ctx, min(max(d, b.cfg.PollMin), b.cfg.PollMax)); err != nil {
				return nil, fmt.Errorf("wait for bulk job %s: %w", jobID, err)
			}
		}
		info, err := b.jobInfo(ctx, false, jobID)
		if err != nil {
			return nil, err
		}
		elapsed := time.Since(closed)
		if info.State.Terminal() {
			if info.State == JobComplete {
				per := b.c.bulkPace.learn(n, elapsed)
				if h := b.c.cfg.Hooks.OnBulkPace; h != nil && per > 0 {
					h(per)
				}
			}
			return info, nil
		}
		d = plan.next(info.NumberRecordsProcessed, elapsed)
	}
}

// --- high-level ingest ------------------------------------------------------

// IngestResult is the outcome of an ingest split over one or more jobs.
type IngestResult struct {
	// Jobs holds the last known JobInfo of every job created, in order.
	Jobs []JobInfo
	// Uploaded counts the records sent (header rows excluded).
	Uploaded int64
}

// JobIDs returns the Ids of the jobs, in order.
func (r *IngestResult) JobIDs() []string {
	ids := make([]string, len(r.Jobs))
	for i, j := range r.Jobs {
		ids[i] = j.ID
	}
	return ids
}

// Processed sums numberRecordsProcessed over the jobs (successes and
// failures).
func (r *IngestResult) Processed() int64 {
	var n int64
	for _, j := range r.Jobs {
		n += j.NumberRecordsProcessed
	}
	return n
}

// Failed sums numberRecordsFailed over the jobs.
func (r *IngestResult) Failed() int64 {
	var n int64
	for _, j := range r.Jobs {
		n += j.NumberRecordsFailed
	}
	return n
}

// IngestCSV uploads CSV text (comma-separated, a header row first, any line
// ending) in as many jobs as BulkConfig's caps require, closes each job as
// soon as its upload ends (so Salesforce works on it while the next is
// sent), then waits for all of them.
//
// The result lists every job created, also when an error is returned. A
// job that ends Failed or Aborted makes the error a *JobError (the first
// such job); per-record failures are not errors: read them with
// FailedResults.
func (b *Bulk) IngestCSV(ctx context.Context, job IngestJob, r io.Reader) (*IngestResult, error) {
	if err := job.validate(); err != nil {
		return nil, err
	}
	src, err := newCSVSource(r)
	if err != nil {
		return nil, err
	}
	return b.ingest(ctx, job, src)
}

// IngestRecords uploads records, rendered to CSV on the fly with fields as
// the header (see Record for how values are written), like IngestCSV. The
// sequence is read once, as the upload proceeds; an error it yields stops
// the ingest, aborting the job being uploaded.
func (b *Bulk) IngestRecords(ctx context.Context, job IngestJob, fields []string, records iter.Seq2[Record, error]) (*IngestResult, error) {
	if err := job.validate(); err != nil {
		return nil, err
	}
	if err := checkHeader(fields); err != nil {
		return nil, err
	}
	next, stop := iter.Pull2(records)
	defer stop()
	src := &recordSource{fields: fields, pull: next, row: make([]string, len(fields))}
	return b.ingest(ctx, job, src)
}

// ResubmitUnprocessed sends the unprocessed records of a job (one that was
// aborted, or failed part way) as new jobs with the same object, operation
// and external id field, streaming them from the old job's file into the
// new upload. With nothing unprocessed it creates no job and returns an
// empty result.
func (b *Bulk) ResubmitUnprocessed(ctx context.Context, old JobInfo) (*IngestResult, error) {
	job := IngestJob{Object: old.Object, Operation: old.Operation, ExternalIDField: old.ExternalIDFieldName}
	if err := job.validate(); err != nil {
		return nil, err
	}
	resp, err := b.download(ctx, b.ingestPath("/"+old.ID+"/unprocessedrecords/"))
	if err != nil {
		return nil, fmt.Errorf("resubmit unprocessed records of job %s: %w", old.ID, err)
	}
	defer resp.Body.Close()
	// The old job's file is in its own dialect; the new jobs get ours.
	br := bufio.NewReader(resp.Body)
	if _, err := br.Peek(1); err == io.EOF {
		return &IngestResult{}, nil
	}
	src, err := newCSVSource(br)
	if err != nil {
		return nil, err
	}
	src.r.Comma = delimiterRune(old.ColumnDelimiter)
	return b.ingest(ctx, job, src)
}

// ingest is the loop behind IngestCSV and IngestRecords.
func (b *Bulk) ingest(ctx context.Context, job IngestJob, src rowSource) (*IngestResult, error) {
	enc := newRowEncoder()
	hb, err := enc.encode(src.header())
	if err != nil {
		return nil, fmt.Errorf("salesforce: encoding bulk header: %w", err)
	}
	head := append([]byte(nil), hb...)
	res := &IngestResult{}
	up := &uploader{b: b, src: src, enc: enc, head: head}
	var sent []int64 // records uploaded to each job
	var closedAt []time.Time
	for {
		// Only create a job when there is a row for it.
		if !up.havePending {
			more, err := up.pull()
			if err != nil {
				return res, err
			}
			if !more {
				break
			}
		}
		info, err := b.CreateIngestJob(ctx, job)
		if err != nil {
			return res, err
		}
		res.Jobs = append(res.Jobs, *info)
		n, more, err := up.uploadOne(ctx, info.ID)
		res.Uploaded += n
		if err != nil {
			b.abandon(ctx, info.ID)
			res.Jobs[len(res.Jobs)-1].State = JobAborted
			return res, err
		}
		closed, err := b.CloseJob(ctx, info.ID)
		if err != nil {
			b.abandon(ctx, info.ID)
			return res, err
		}
		res.Jobs[len(res.Jobs)-1] = *closed
		sent = append(sent, n)
		closedAt = append(closedAt, time.Now())
		if !more {
			break
		}
	}
	var first error
	for i := range res.Jobs {
		info, err := b.waitIngest(ctx, res.Jobs[i].ID, sent[i], closedAt[i])
		if err != nil {
			return res, err
		}
		res.Jobs[i] = *info
		if first == nil && (info.State == JobFailed || info.State == JobAborted) {
			first = &JobError{JobID: info.ID, State: info.State, Message: info.ErrorMessage}
		}
	}
	return res, first
}

// abandon aborts a job whose upload or close failed, so it does not sit
// Open for a day. It runs even when ctx was canceled, briefly.
func (b *Bulk) abandon(ctx context.Context, jobID string) {
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	b.AbortJob(actx, jobID) // best effort: the job also expires on its own
}

// uploader cuts the row stream into job uploads.
type uploader struct {
	b    *Bulk
	src  rowSource
	enc  *rowEncoder
	head []byte
	// pending is the encoded row read but not yet sent: it did not fit the
	// previous job, or it was read to learn that a job is needed at all.
	pending     []byte
	havePending bool
}

// pull reads and encodes the next row into pending; false at the end.
func (u *uploader) pull() (bool, error) {
	row, ok, err := u.src.next()
	if err != nil || !ok {
		return false, err
	}
	b, err := u.enc.encode(row)
	if err != nil {
		return false, fmt.Errorf("salesforce: encoding bulk row: %w", err)
	}
	u.pending = append(u.pending[:0], b...)
	u.havePending = true
	return true, nil
}

// uploadOne streams the header, the pending row and following rows to the
// job until a cap is reached or the rows end. It returns the rows sent and
// whether rows remain (one is then pending).
func (u *uploader) uploadOne(ctx context.Context, jobID string) (sent int64, more bool, err error) {
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := u.b.UploadJobData(ctx, jobID, pr)
		// Unblock the writer if the request ended before reading everything.
		pr.CloseWithError(errUploadEnded)
		done <- err
	}()
	bw := bufio.NewWriterSize(pw, 64<<10)
	maxBytes, maxRecs := u.b.cfg.MaxBytesPerJob, int64(u.b.cfg.MaxRecordsPerJob)
	size := int64(len(u.head))
	werr := func() error {
		if _, err := bw.Write(u.head); err != nil {
			return err
		}
		for u.havePending {
			if sent > 0 && (size+int64(len(u.pending)) > maxBytes || (maxRecs > 0 && sent >= maxRecs)) {
				more = true
				return nil
			}
			if _, err := bw.Write(u.pending); err != nil {
				return err
			}
			size += int64(len(u.pending))
			sent++
			u.havePending = false
			if _, err := u.pull(); err != nil {
				return err
			}
		}
		return nil
	}()
	if werr == nil {
		werr = bw.Flush()
	}
	var srcErr error
	if werr != nil && !errors.Is(werr, errUploadEnded) {
		// The rows failed (bad CSV, a value we cannot write, the caller's
		// iterator erred): fail the request so the job is not closed with a
		// partial upload.
		srcErr = werr
		pw.CloseWithError(werr)
	} else {
		pw.Close()
	}
	upErr := <-done
	switch {
	case srcErr != nil:
		return sent, false, srcErr
	case upErr != nil:
		return sent, false, upErr
	case werr != nil:
		return sent, false, fmt.Errorf("upload bulk job %s: %w", jobID, werr)
	}
	return sent, more, nil
}

var errUploadEnded = errors.New("salesforce: upload request ended")

// --- results ----------------------------------------------------------------

// SuccessfulResults streams the successfulResults file of each job in turn.
// Rows come as they are parsed from the response; the sequence stops at the
// first error, which it yields.
func (b *Bulk) SuccessfulResults(ctx context.Context, jobIDs ...string) iter.Seq2[SuccessResult, error] {
	return jobResults(b, ctx, jobIDs, "successfulResults", func(r layoutRow) SuccessResult {
		return SuccessResult{ID: cell(r.row, r.l.id), Created: strings.EqualFold(cell(r.row, r.l.created), "true"), Row: r.l.dataRow(r.row)}
	})
}

// FailedResults streams the failedResults file of each job in turn, with
// sf__Error parsed into a *RecordError.
func (b *Bulk) FailedResults(ctx context.Context, jobIDs ...string) iter.Seq2[FailedResult, error] {
	return jobResults(b, ctx, jobIDs, "failedResults", func(r layoutRow) FailedResult {
		return FailedResult{ID: cell(r.row, r.l.id), Error: ParseBulkError(cell(r.row, r.l.errCol)), Row: r.l.dataRow(r.row)}
	})
}

// UnprocessedRecords streams the unprocessedrecords file of each job in turn:
// the uploaded rows Salesforce never got to (aborted or failed jobs).
func (b *Bulk) UnprocessedRecords(ctx context.Context, jobIDs ...string) iter.Seq2[Row, error] {
	return jobResults(b, ctx, jobIDs, "unprocessedrecords", func(r layoutRow) Row { return r.row })
}

// jobResults streams one result file of each job in turn, converting each
// row; the sequence stops at the first error, which it yields.
func jobResults[T any](b *Bulk, ctx context.Context, jobIDs []string, file string, conv func(layoutRow) T) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		for _, id := range jobIDs {
			for r, err := range b.resultRows(ctx, id, file) {
				if err != nil {
					var zero T
					yield(zero, err)
					return
				}
				if !yield(conv(r), nil) {
					return
				}
			}
		}
	}
}

type layoutRow struct {
	row Row
	l   *sfLayout
}

// resultRows streams one result file of one ingest job.
func (b *Bulk) resultRows(ctx context.Context, jobID, file string) iter.Seq2[layoutRow, error] {
	return func(yield func(layoutRow, error) bool) {
		if err := jobIDOK(jobID); err != nil {
			yield(layoutRow{}, err)
			return
		}
		resp, err := b.download(ctx, b.ingestPath("/"+jobID+"/"+file+"/"))
		if err != nil {
			yield(layoutRow{}, fmt.Errorf("read %s of bulk job %s: %w", file, jobID, err))
			return
		}
		defer resp.Body.Close()
		// Result files are written in the job's own delimiter; ours are
		// always comma jobs, and a file from another client's job still
		// starts with a header we can sniff.
		br := bufio.NewReader(resp.Body)
		rr, err := newResultReader(br, sniffDelimiter(br))
		if err != nil {
			yield(layoutRow{}, fmt.Errorf("read %s of bulk job %s: %w", file, jobID, err))
			return
		}
		l, err := layoutOf(rr.cols)
		if err != nil {
			yield(layoutRow{}, err)
			return
		}
		for {
			row, ok, err := rr.next()
			if err != nil {
				yield(layoutRow{}, fmt.Errorf("read %s of bulk job %s: %w", file, jobID, err))
				return
			}
			if !ok || !yield(layoutRow{row: row, l: l}, nil) {
				return
			}
		}
	}
}

// sniffDelimiter guesses a result file's column delimiter from its first
// line: the Bulk delimiter that occurs most there (comma when none does).
func sniffDelimiter(br *bufio.Reader) rune {
	peek, _ := br.Peek(4096)
	if i := strings.IndexByte(string(peek), '\n'); i >= 0 {
		peek = peek[:i]
	}
	best, n := ',', strings.Count(string(peek), ",")
	for _, d := range []rune{'\t', '|', ';', '^', '`'} {
		if c := strings.Count(string(peek), string(d)); c > n {
			best, n = d, c
		}
	}
	return best
}

// delimiterRune maps a columnDelimiter name to its character.
func delimiterRune(name string) rune {
	switch strings.ToUpper(name) {
	case "TAB":
		return '\t'
	case "PIPE":
		return '|'
	case "SEMICOLON":
		return ';'
	case "CARET":
		return '^'
	case "BACKQUOTE":
		return '`'
	}
	return ','
}

// download GETs a CSV resource for streaming.
func (b *Bulk) download(ctx context.Context, path string) (*http.Response, error) {
	return b.c.doStream(ctx, http.MethodGet, path, nil, http.Header{"Accept": {"text/csv"}}, b.cfg.HeaderTimeout)
}

// --- query jobs -------------------------------------------------------------

// QueryJobOptions tunes Bulk.Query.
type QueryJobOptions struct {
	// All runs queryAll: deleted and archived records are included.
	All bool
	// MaxRecords is the page size asked of each results call (maxRecords).
	// 0 lets Salesforce choose.
	MaxRecords int
}

// CreateQueryJob starts a query job (comma-separated, LF results).
func (b *Bulk) CreateQueryJob(ctx context.Context, soql string, all bool) (*JobInfo, error) {
	if strings.TrimSpace(soql) == "" {
		return nil, errors.New("salesforce: bulk query is empty")
	}
	op := BulkQuery
	if all {
		op = BulkQueryAll
	}
	body := map[string]string{"operation": string(op), "query": soql, "columnDelimiter": "COMMA", "lineEnding": "LF", "contentType": "CSV"}
	var info JobInfo
	if _, err := b.c.doJSON(ctx, KindBulk, http.MethodPost, b.queryPath(""), body, &info); err != nil {
		return nil, fmt.Errorf("create bulk query job: %w", err)
	}
	if info.ID == "" {
		return nil, errors.New("create bulk query job: answer has no job id")
	}
	return &info, nil
}

// QueryResults streams the rows of a finished query job page by page,
// following Sforce-Locator until Salesforce answers "null". Each page is
// parsed as it arrives; one page is never held whole.
func (b *Bulk) QueryResults(ctx context.Context, jobID string, maxRecords int) iter.Seq2[Row, error] {
	return func(yield func(Row, error) bool) {
		if err := jobIDOK(jobID); err != nil {
			yield(Row{}, err)
			return
		}
		locator := ""
		for page := 1; ; page++ {
			q := url.Values{}
			if maxRecords > 0 {
				q.Set("maxRecords", strconv.Itoa(maxRecords))
			}
			if locator != "" {
				q.Set("locator", locator)
			}
			p := b.queryPath("/" + jobID + "/results")
			if len(q) > 0 {
				p += "?" + q.Encode()
			}
			next, ok := b.queryPage(ctx, jobID, page, p, yield)
			if !ok {
				return
			}
			if next == "" || next == "null" {
				return
			}
			if next == locator {
				yield(Row{}, fmt.Errorf("salesforce: bulk query job %s: locator %q repeats", jobID, next))
				return
			}
			locator = next
		}
	}
}

// queryPage streams one results page to yield. It returns the next locator
// and false when iteration must stop (error yielded or consumer done).
func (b *Bulk) queryPage(ctx context.Context, jobID string, page int, path string, yield func(Row, error) bool) (string, bool) {
	resp, err := b.download(ctx, path)
	if err != nil {
		yield(Row{}, fmt.Errorf("read page %d of bulk query job %s: %w", page, jobID, err))
		return "", false
	}
	defer resp.Body.Close()
	locator := strings.TrimSpace(resp.Header.Get("Sforce-Locator"))
	rr, err := newResultReader(resp.Body, ',')
	if err != nil {
		yield(Row{}, fmt.Errorf("read page %d of bulk query job %s: %w", page, jobID, err))
		return "", false
	}
	for {
		row, ok, err := rr.next()
		if err != nil {
			yield(Row{}, fmt.Errorf("read page %d of bulk query job %s: %w", page, jobID, err))
			return "", false
		}
		if !ok {
			return locator, true
		}
		if !yield(row, nil) {
			return "", false
		}
	}
}

// Query runs soql as a Bulk API 2.0 query job, waits for it, and streams its
// rows page by page. Cells are text as Salesforce writes them (empty for
// null). A job that ends Failed or Aborted yields a *JobError.
func (b *Bulk) Query(ctx context.Context, soql string, opts QueryJobOptions) iter.Seq2[Row, error] {
	return func(yield func(Row, error) bool) {
		info, err := b.CreateQueryJob(ctx, soql, opts.All)
		if err != nil {
			yield(Row{}, err)
			return
		}
		info, err = b.WaitQueryJob(ctx, info.ID)
		if err != nil {
			yield(Row{}, err)
			return
		}
		if info.State != JobComplete {
			yield(Row{}, &JobError{JobID: info.ID, State: info.State, Message: info.ErrorMessage})
			return
		}
		for row, err := range b.QueryResults(ctx, info.ID, opts.MaxRecords) {
			if !yield(row, err) || err != nil {
				return
			}
		}
	}
}

// --- streaming transport ----------------------------------------------------

// doStream sends one request whose body (if any) is a one-shot stream, or
// whose response body is read for a long time, so neither Client.Do's
// replay buffer nor its per-attempt timeout fits. Differences from Do:
//
//   - the body is never buffered; with a body, the request carries
//     "Expect: 100-continue" so a 401 or other refusal arrives before any
//     of it is sent, and only then is the request repeated (after renewing
//     the token for INVALID_SESSION_ID, or after a backoff for a retryable
//     error); once any of the body has been read there is no second try;
//   - headerTimeout (0: none) bounds the wait for response headers only;
//     the body is bounded by ctx.
func (c *Client) doStream(ctx context.Context, method, path string, body io.Reader, header http.Header, headerTimeout time.Duration) (*http.Response, error) {
	target, err := c.resolve(path)
	if err != nil {
		return nil, err
	}
	renewed := false
	attempts := c.cfg.Retry.attempts()
	for attempt := 1; ; attempt++ {
		tok, gen := c.current()
		x := exchange{kind: KindBulk, method: method, target: target, header: header, tok: tok, attempt: attempt, headerTimeout: headerTimeout}
		var tb *trackedBody
		if body != nil {
			tb = &trackedBody{r: body}
			x.stream = tb
		}
		resp, err := c.exchange(ctx, x)
		if err == nil {
			return resp, nil
		}
		if tb != nil && tb.touched.Load() {
			return nil, err // part of the stream is gone: no replay
		}
		var ae *APIError
		if errors.As(err, &ae) && ae.Status == http.StatusUnauthorized && ae.Code == CodeInvalidSession && !renewed {
			renewed = true
			if rerr := c.renew(ctx, gen); rerr != nil {
				return nil, rerr
			}
			attempt--
			continue
		}
		if ctx.Err() != nil || attempt >= attempts || !Retryable(err) {
			return nil, err
		}
		if method == http.MethodPost && !provesNotCommitted(err) {
			return nil, err
		}
		if serr := c.cfg.Retry.sleep(ctx, c.cfg.Retry.delay(attempt)); serr != nil {
			return nil, err
		}
	}
}

// trackedBody records whether the transport has started reading the body:
// before that, the request may be sent again with the same stream.
type trackedBody struct {
	r       io.Reader
	touched atomic.Bool
}

func (t *trackedBody) Read(p []byte) (int, error) {
	t.touched.Store(true)
	return t.r.Read(p)
}
