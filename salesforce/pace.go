package salesforce

import (
	"sync"
	"time"
)

// pace learns how long the org takes to process one record of a Bulk
// ingest job, so the first status poll of the next job comes about when the
// job should be done rather than on a fixed schedule. On a real org that
// saves polls (API calls) on long jobs; on a fast one it saves waiting.
type pace struct {
	mu  sync.Mutex
	per float64 // seconds per record; 0 until a job has completed
}

// probe is how early, as a share of the estimate, the first poll comes.
// Polling a little early lets the estimate follow an org that got faster.
const probe = 0.6

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
// that saw it complete. It weighs the newest job as much as all before.
func (p *pace) learn(n int64, took time.Duration) {
	if n <= 0 || took <= 0 {
		return
	}
	per := took.Seconds() / float64(n)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.per == 0 {
		p.per = per
	} else {
		p.per = (p.per + per) / 2
	}
}

// nextWait returns the wait after a poll that found a job of n records
// still running, elapsed after its close, with done records processed.
// With progress it extrapolates the rate; without, it waits half the time
// so far (the job may be queued), so waits grow about 1.5x a poll.
func nextWait(n, done int64, elapsed time.Duration) time.Duration {
	if done > 0 && done < n {
		return time.Duration(float64(elapsed) * float64(n-done) / float64(done))
	}
	return elapsed / 2
}
