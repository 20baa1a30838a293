package emulator

import (
	"fmt"
	"runtime"
	"strings"
	"time"
)

// Processing of closed jobs. One worker goroutine per emulator takes closed
// jobs in order; it is started by the first closed job, exits when nothing
// is queued, and is stopped by closeBulk. With the finish-at-once knob the
// request that closes (or polls) a job processes it itself instead.

// bulkPickupDelay is how long a closed job waits in UploadComplete before
// processing starts when no start delay is configured: long enough that a
// client polling at once sees the asynchronous states, short enough to
// keep tests and demos fast.
const bulkPickupDelay = 5 * time.Millisecond

// bulkChunk is how many records are applied per hold of e.mu, so other API
// calls proceed while a large job runs.
const bulkChunk = 500

// bulkConcurrency is how many jobs are processed at once. Salesforce runs
// an org's jobs in parallel (its limit is on concurrent batches, far above
// what a test starts); the emulator caps them so a burst of jobs cannot
// starve the other API calls.
const bulkConcurrency = 8

// closeJob moves an Open ingest job (or a new query job) to UploadComplete
// and hands it to a runner of its own, or processes it at once when the
// finish-at-once knob is on. A bulk fault rule that fired for the call (c)
// makes the job fail or stall (bulkpace.go). It returns the JobInfo as of
// the close.
func (e *Emulator) closeJob(c *call, j *bulkJob) jobInfo {
	b := &e.bulk
	b.mu.Lock()
	j.fault = bulkFaultOf(c)
	j.setStateLocked(jobUploadComplete, e.now())
	info := j.infoLocked()
	atOnce := e.FinishBulkJobsAtOnce() && j.fault == nil
	if atOnce {
		j.claimed, j.handlerRun = true, true
	} else if !b.closed {
		if b.stop == nil {
			b.stop = make(chan struct{})
		}
		if b.slots == nil {
			b.slots = make(chan struct{}, bulkConcurrency)
		}
		b.wg.Add(1)
		go e.bulkRunner(j, b.stop, b.slots)
	}
	b.mu.Unlock()
	if atOnce {
		e.runJob(j)
	}
	return info
}

// finishNow brings a job to a final state before a poll answers (the
// finish-at-once knob): it runs a job nobody has started, or waits for the
// one being run. An Open job stays Open, and a job a fault rule stalls
// stays where it is.
func (e *Emulator) finishNow(c *call, j *bulkJob) {
	b := &e.bulk
	b.mu.Lock()
	if jobFinal(j.state) || j.state == jobOpen || j.fault != nil {
		b.mu.Unlock()
		return
	}
	if !j.claimed {
		j.claimed, j.handlerRun = true, true
		b.mu.Unlock()
		e.runJob(j)
		return
	}
	b.mu.Unlock()
	select {
	case <-j.done:
	case <-c.r.Context().Done():
	}
}

// bulkRunner waits out the job's start delay, takes one of the runner
// slots and processes the job, unless someone else claimed it meanwhile
// (the finish-at-once knob) or the emulator closes.
func (e *Emulator) bulkRunner(j *bulkJob, stop <-chan struct{}, slots chan struct{}) {
	b := &e.bulk
	defer b.wg.Done()
	pace := e.bulkPace()
	delay := bulkPickupDelay
	if pace.StartDelay > 0 {
		delay = pace.StartDelay
	}
	t := time.NewTimer(delay)
	select {
	case <-t.C:
	case <-stop:
		t.Stop()
		return
	}
	select {
	case slots <- struct{}{}:
	case <-stop:
		return
	}
	defer func() { <-slots }()
	b.mu.Lock()
	if j.claimed || j.state != jobUploadComplete || b.closed {
		b.mu.Unlock()
		return
	}
	j.claimed = true
	b.mu.Unlock()
	// Like every handler, a runner writes under the gate's read lock, so
	// an all-or-none /composite call (which holds the gate for writing)
	// never rolls back rows of a job applied meanwhile. Held per chunk, so
	// a paced job does not keep such a call waiting for its whole run.
	e.runJob(j)
}

// stopping reports whether closeBulk was called.
func (e *Emulator) stopping() bool {
	b := &e.bulk
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.closed
}

// runJob processes a claimed job to a final state.
func (e *Emulator) runJob(j *bulkJob) {
	start := time.Now()
	b := &e.bulk
	b.mu.Lock()
	if j.state != jobUploadComplete {
		b.mu.Unlock()
		return
	}
	j.setStateLocked(jobInProgress, e.now())
	b.mu.Unlock()

	var failMsg string
	switch cont, msg := e.applyBulkFault(j); {
	case !cont:
		return // stalled until aborted, reset or closed
	case msg != "":
		failMsg = msg
	case j.query:
		failMsg = e.runQueryJob(j)
	default:
		failMsg = e.runIngestJob(j, start)
	}

	b.mu.Lock()
	defer b.mu.Unlock()
	ms := time.Since(start).Milliseconds()
	j.totalMS, j.apiMS = ms, ms
	if j.state != jobInProgress {
		return // aborted or reset meanwhile
	}
	if failMsg != "" {
		j.errorMessage = failMsg
		j.setStateLocked(jobFailed, e.now())
	} else {
		j.setStateLocked(jobComplete, e.now())
	}
	e.finishLocked(j)
}

// bulkColumn is how one CSV header maps onto the job's object.
type bulkColumn struct {
	name  string // header as written
	field *field // target field; the reference field for a relationship column
	isID  bool
	// Relationship columns (Account.Ext__c, Owner:User.Username) find the
	// referenced record by relField of relObj.
	relObj   *sobject
	relField *field
}

// bulkColumnsLocked maps the header onto obj's fields (case-insensitively).
// It returns the job's errorMessage when the header is unusable.
func (e *Emulator) bulkColumnsLocked(obj *sobject, header []string) ([]bulkColumn, string) {
	cols := make([]bulkColumn, len(header))
	seen := map[string]bool{}
	for i, h := range header {
		name := strings.TrimSpace(h)
		key := strings.ToLower(name)
		if name == "" {
			return nil, "InvalidBatch : Field name not found : " + h
		}
		if seen[key] {
			return nil, "InvalidBatch : Duplicate field name: " + name
		}
		seen[key] = true
		cols[i].name = name
		if dot := strings.IndexByte(name, '.'); dot > 0 {
			rel, target := name[:dot], name[dot+1:]
			typ := ""
			if colon := strings.IndexByte(rel, ':'); colon > 0 {
				rel, typ = rel[:colon], rel[colon+1:]
			}
			var ref *field
			for _, f := range obj.Fields {
				if f.Type == "reference" && strings.EqualFold(f.RelationshipName, rel) {
					ref = f
					break
				}
			}
			if ref == nil || len(ref.ReferenceTo) == 0 {
				return nil, "InvalidBatch : Field name not found : " + name
			}
			objName := ref.ReferenceTo[0]
			if typ != "" {
				objName = ""
				for _, t := range ref.ReferenceTo {
					if strings.EqualFold(t, typ) {
						objName = t
					}
				}
			}
			ro := e.sobjectLocked(objName)
			if ro == nil {
				return nil, "InvalidBatch : Field name not found : " + name
			}
			rf := ro.field(target)
			if rf == nil || !(rf.ExternalID || rf.IDLookup) {
				return nil, "InvalidBatch : Field name not found : " + name
			}
			cols[i].field, cols[i].relObj, cols[i].relField = ref, ro, rf
			continue
		}
		f := obj.field(name)
		if f == nil {
			return nil, "InvalidBatch : Field name not found : " + name
		}
		cols[i].field = f
		cols[i].isID = f.Name == "Id"
	}
	return cols, ""
}

// runIngestJob applies the job's records and returns the job's
// errorMessage when the data as a whole is refused.
func (e *Emulator) runIngestJob(j *bulkJob, start time.Time) string {
	b := &e.bulk
	b.mu.Lock()
	data := j.data
	b.mu.Unlock()
	if len(data) == 0 {
		return "InvalidBatch : No data was uploaded for this job"
	}
	sc := newCSVScanner(data, bulkDelimiters[j.delimiter], j.lineEnding == "CRLF")
	header, _, _, ok, err := sc.next(nil)
	if err != nil {
		return err.Error()
	}
	if !ok {
		return "InvalidBatch : The uploaded data has no header row"
	}
	header = append([]string(nil), header...)
	dataStart := sc.pos

	e.mu.RLock()
	obj := e.sobjectLocked(j.object)
	var cols []bulkColumn
	msg := "InvalidJob : Unable to find object: " + j.object
	if obj != nil {
		cols, msg = e.bulkColumnsLocked(obj, header)
	}
	e.mu.RUnlock()
	if msg != "" {
		return msg
	}

	// First pass: check the whole file and note each record's span, so a
	// malformed file fails the job before any record is written.
	var rows []bulkRow
	for {
		n, s, en, ok, err := sc.skip()
		if err != nil {
			return err.Error()
		}
		if !ok {
			break
		}
		if n != len(header) {
			return fmt.Sprintf("ClientInputError : Line %d has %d columns, the header has %d", sc.line, n, len(header))
		}
		rows = append(rows, bulkRow{start: uint32(s), end: uint32(en)})
	}
	b.mu.Lock()
	j.rows = rows
	j.dataStart = dataStart
	j.nextOffset = dataStart
	b.mu.Unlock()

	// Second pass: apply records in chunks, re-reading them in order.
	sc = newCSVScanner(data, bulkDelimiters[j.delimiter], j.lineEnding == "CRLF")
	sc.pos = dataStart
	p := newIngestApplier(e, j, cols)
	var fields []string
	pacer := e.newBulkPacer()
	chunk := pacer.chunk(bulkChunk)
	for from := 0; from < len(rows); from += chunk {
		to := min(from+chunk, len(rows))
		if !pacer.wait(j, from) {
			return ""
		}
		failed := 0
		if !j.handlerRun {
			e.gate.RLock()
		}
		e.mu.Lock()
		e.setActorLocked(j.createdBy)
		p.refreshLocked()
		for i := from; i < to; i++ {
			fields, _, _, _, _ = sc.next(fields)
			if !p.apply(&rows[i], fields) {
				failed++
			}
		}
		e.setActorLocked("")
		e.mu.Unlock()
		if !j.handlerRun {
			e.gate.RUnlock()
		}

		b.mu.Lock()
		j.processed = to
		j.failed += failed
		if to < len(rows) {
			j.nextOffset = int(rows[to].start)
		} else {
			j.nextOffset = len(data)
		}
		j.errs = p.errs
		j.totalMS = time.Since(start).Milliseconds()
		j.apiMS = j.totalMS
		state := j.state
		b.mu.Unlock()
		if state != jobInProgress || e.stopping() {
			return ""
		}
		runtime.Gosched()
	}
	return ""
}
