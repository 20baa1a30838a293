package emulator

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// Realistic Bulk timing. On Salesforce a job sits in UploadComplete for a
// while, then InProgress for as long as its records take, and several jobs
// run at once; clients poll with back-off and give up after a timeout. By
// default the emulator finishes a job in milliseconds so tests and
// benchmarks stay fast; a pace makes it take a configured time instead:
//
//   - records_per_second: a job processes at most this many records a
//     second (ingest rows applied, query rows produced), reporting
//     numberRecordsProcessed as it goes;
//   - start_delay: how long a closed job waits before processing starts.
//
// Set by Config (bulk_records_per_second, bulk_start_delay in the YAML
// file; --bulk-records-per-second and --bulk-start-delay on the command
// line) or at run time with POST /__emulator/bulk/pace. The finish-at-once
// knob (POST /__emulator/bulk/finish) overrides a pace: a job then finishes
// on its first poll.
//
// Fault rules of type bulk_fail and bulk_stall act on the job closed by
// the call they match (PATCH .../jobs/ingest/{id} with UploadComplete, a
// one-step multipart upload, POST .../jobs/query): bulk_fail makes the job
// go InProgress, then Failed with the rule's message as errorMessage;
// bulk_stall keeps it InProgress for the rule's latency, or, without one,
// until it is aborted.

// BulkPace is how fast Bulk jobs go. The zero value is as fast as possible.
type BulkPace struct {
	RecordsPerSecond float64       `json:"records_per_second"`
	StartDelay       time.Duration `json:"-"`
}

// bulkPaceJSON is BulkPace on the wire, start_delay as a duration string.
type bulkPaceJSON struct {
	RecordsPerSecond *float64 `json:"records_per_second"`
	StartDelay       *string  `json:"start_delay"`
}

// SetBulkPace overrides the configured pace until called again; nil
// returns to the configured one.
func (e *Emulator) SetBulkPace(p *BulkPace) { e.admin.bulkPace.Store(p) }

// bulkPace is the pace in force.
func (e *Emulator) bulkPace() BulkPace {
	if p := e.admin.bulkPace.Load(); p != nil {
		return *p
	}
	return BulkPace{RecordsPerSecond: e.cfg.BulkRecordsPerSecond, StartDelay: e.cfg.BulkStartDelay}
}

// bulkPacer spaces a job's chunks so that records go at the pace's rate.
type bulkPacer struct {
	e     *Emulator
	rate  float64
	start time.Time
}

func (e *Emulator) newBulkPacer() *bulkPacer {
	return &bulkPacer{e: e, rate: e.bulkPace().RecordsPerSecond, start: time.Now()}
}

// chunk is how many records to apply between waits: about a tenth of a
// second's worth when paced, so numberRecordsProcessed moves smoothly.
func (p *bulkPacer) chunk(def int) int {
	if p.rate <= 0 {
		return def
	}
	return max(1, min(def, int(p.rate/10)))
}

// wait blocks until done records are due at the pace's rate. It returns
// false when the job stopped being InProgress (aborted, reset) or the
// emulator closes meanwhile.
func (p *bulkPacer) wait(j *bulkJob, done int) bool {
	if p.rate <= 0 || done == 0 {
		return true
	}
	due := p.start.Add(time.Duration(float64(done) / p.rate * float64(time.Second)))
	return p.e.sleepWhileInProgress(j, time.Until(due))
}

// sleepWhileInProgress waits d while j stays InProgress (d <= 0 returns at
// once). It returns false when the job left InProgress or the emulator is
// closing.
func (e *Emulator) sleepWhileInProgress(j *bulkJob, d time.Duration) bool {
	b := &e.bulk
	b.mu.Lock()
	stop := b.stop
	b.mu.Unlock()
	deadline := time.Now().Add(d)
	for {
		b.mu.Lock()
		state, closed := j.state, b.closed
		b.mu.Unlock()
		if state != jobInProgress || closed {
			return false
		}
		left := time.Until(deadline)
		if left <= 0 {
			return true
		}
		// Wake at least every 50 ms to notice an abort.
		t := time.NewTimer(min(left, 50*time.Millisecond))
		select {
		case <-t.C:
		case <-j.done:
			t.Stop()
		case <-stop:
			t.Stop()
			return false
		}
	}
}

// paceQueryJob lets a paced query job's rows appear at the pace's rate,
// moving numberRecordsProcessed along. It returns false when the job
// stopped meanwhile.
func (e *Emulator) paceQueryJob(j *bulkJob, n int) bool {
	p := e.newBulkPacer()
	if p.rate <= 0 {
		return true
	}
	step := p.chunk(bulkChunk)
	for done := step; done < n+step; done += step {
		if !p.wait(j, min(done, n)) {
			return false
		}
		e.bulk.mu.Lock()
		j.processed = min(done, n)
		e.bulk.mu.Unlock()
	}
	return true
}

// --- fault rules ------------------------------------------------------------

// Fault types acting on Bulk jobs (see the package comment above).
const (
	FaultBulkFail  FaultType = "bulk_fail"
	FaultBulkStall FaultType = "bulk_stall"
)

type bulkFaultKey struct{}

// markBulkFault remembers a fired bulk fault rule on the call, for the job
// the call closes.
func markBulkFault(c *call, f *Fault) {
	c.r = c.r.WithContext(context.WithValue(c.r.Context(), bulkFaultKey{}, f))
}

// bulkFaultOf returns the bulk fault rule that fired for the call, or nil.
func bulkFaultOf(c *call) *Fault {
	if c == nil {
		return nil
	}
	f, _ := c.r.Context().Value(bulkFaultKey{}).(*Fault)
	return f
}

// applyBulkFault runs a job's fault once it is InProgress. cont false: the
// job stalled and left InProgress (aborted, reset, emulator closing), so
// the runner stops; otherwise failMsg non-empty fails the job.
func (e *Emulator) applyBulkFault(j *bulkJob) (cont bool, failMsg string) {
	f := j.fault
	if f == nil {
		return true, ""
	}
	switch f.Type {
	case FaultBulkFail:
		msg := f.Message
		if msg == "" {
			msg = "InternalServerError : the job failed (injected by a bulk_fail fault rule)"
		}
		return true, msg
	case FaultBulkStall:
		d := f.Latency
		if d <= 0 {
			d = 100 * 365 * 24 * time.Hour // until aborted
		}
		if !e.sleepWhileInProgress(j, d) {
			return false, ""
		}
	}
	return true, ""
}

// --- admin API --------------------------------------------------------------

// adminBulkPace serves GET and POST /__emulator/bulk/pace. POST takes
// {"records_per_second":R,"start_delay":"2s"} (either may be left out to
// keep it; {"reset":true} returns to the configured pace) and answers the
// pace in force.
func (e *Emulator) adminBulkPace(c *call) {
	if c.r.Method == http.MethodPost {
		var req struct {
			bulkPaceJSON
			Reset bool `json:"reset"`
		}
		if !c.readOptionalJSON(&req) {
			return
		}
		if req.Reset {
			e.SetBulkPace(nil)
		} else {
			p := e.bulkPace()
			if r := req.RecordsPerSecond; r != nil {
				if *r < 0 || *r != *r {
					c.writeError(http.StatusBadRequest, "INVALID_INPUT", "records_per_second must not be negative (0 means unpaced)", nil)
					return
				}
				p.RecordsPerSecond = *r
			}
			if s := req.StartDelay; s != nil {
				d, err := time.ParseDuration(*s)
				if err != nil || d < 0 {
					c.writeError(http.StatusBadRequest, "INVALID_INPUT", fmt.Sprintf("start_delay: expected a duration such as 2s, got %q", *s), nil)
					return
				}
				p.StartDelay = d
			}
			e.SetBulkPace(&p)
		}
	}
	p := e.bulkPace()
	out, _ := json.Marshal(map[string]any{"records_per_second": p.RecordsPerSecond, "start_delay": p.StartDelay.String()})
	c.w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	c.w.WriteHeader(http.StatusOK)
	_, _ = c.w.Write(out)
}
