package salesforce

import (
	"sync"
	"time"
)

// pace learns how long the org takes to process one record of a Bulk
// ingest job, so the first status poll of the next job comes about when the
// job should be done rather than on a fixed schedule. On a real org that
// saves polls (API calls) on long jobs; on a fast one it saves waiting.
// A caller that keeps the pace between processes seeds it
// (Client.SeedBulkPace) and hears of what was learned (Hooks.OnBulkPace).
type pace struct {
	mu  sync.Mutex
	per float64 // seconds per record; 0 until a job has completed
}

// probe is how early, as a share of the estimate, the first poll comes.
// Polling a little early lets the estimate follow an org that got faster.
const probe = 0.6

// fastestPerRecord is less time than any org takes to process a record of
// an ingest job (the emulator takes 5-7µs, Salesforce far more): a job of
// n records closed less than n times this ago is not done, unless it was
// done at once, which the first poll after the close sees.
const fastestPerRecord = 4 * time.Microsecond

// firstWait returns the wait before the first poll of a job of n records,
// and false when nothing has been learned yet.
func (p *pace) firstWait(n int64) (time.Duration, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.per == 0 || n <= 0 {
		return 0, false
	}
	return time.Duration(p.per * float64(n) * probe * float64(time.Second)), true
}

// learn records that a job of n records took took from close to the poll
// that saw it complete, and returns the pace now in force. It weighs the
// newest job as much as all before.
func (p *pace) learn(n int64, took time.Duration) time.Duration {
	if n <= 0 || took <= 0 {
		return p.perRecord()
	}
	per := took.Seconds() / float64(n)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.per == 0 {
		p.per = per
	} else {
		p.per = (p.per + per) / 2
	}
	return time.Duration(p.per * float64(time.Second))
}

// perRecord is the learned time per record, 0 when none.
func (p *pace) perRecord() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return time.Duration(p.per * float64(time.Second))
}

// seed sets the pace to d per record, as learned by an earlier process.
func (p *pace) seed(d time.Duration) {
	if d <= 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.per = d.Seconds()
}

// finishing is how long after its last record a job may take to complete.
const finishing = 20 * time.Millisecond

// jobPolls plans the polls of one ingest job of n records from what each
// poll showed. Salesforce reports progress (numberRecordsProcessed) as it
// goes, but a job may wait in a queue first, so the rate since the close
// says little: the plan measures the rate from when processing can have
// started (after the last poll that showed none) and, once two polls showed
// progress, between them.
type jobPolls struct {
	n        int64
	idleAt   time.Duration // since the close, of the last poll that showed no progress
	doneAt   time.Duration // of the last poll that showed progress; 0 for none
	lastDone int64
}

// next returns the wait after a poll elapsed after the close that found
// the job still running with done records processed.
func (j *jobPolls) next(done int64, elapsed time.Duration) time.Duration {
	if done >= j.n {
		return 0 // all processed, the results are being written: soon
	}
	if done <= 0 {
		j.idleAt = elapsed
		// The job cannot be done before the fastest org would be; after
		// that, without progress to go by, waits grow by half.
		if floor := time.Duration(j.n)*fastestPerRecord - elapsed; floor > elapsed/2 {
			return floor
		}
		return elapsed / 2
	}
	from, base := j.idleAt, int64(0)
	if j.doneAt > 0 && done > j.lastDone {
		from, base = j.doneAt, j.lastDone
	}
	j.doneAt, j.lastDone = elapsed, done
	span := elapsed - from
	if span <= 0 || done <= base {
		return elapsed / 2
	}
	wait := time.Duration(float64(span) * float64(j.n-done) / float64(done-base))
	if from == j.idleAt {
		// One sample of progress: processing started somewhere after the
		// idle poll, so the rate is underestimated. Come back early and
		// measure it between two polls.
		return time.Duration(float64(wait) * probe)
	}
	// Measured between two polls: come back a little after the end, so
	// one poll finds the job done rather than two straddling it (the
	// org writes the results after the last record).
	return wait + wait/10 + finishing
}
