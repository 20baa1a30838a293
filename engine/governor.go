package engine

import (
	"fmt"
	"time"
)

// deferUntil notes that a record was put off until t, for Drain.
func (e *Engine) deferUntil(t time.Time) {
	v := t.UnixMilli() + 1
	for {
		cur := e.deferredUntil.Load()
		if cur >= v || e.deferredUntil.CompareAndSwap(cur, v) {
			return
		}
	}
}

// governor decides whether the budget allows another call.
func (e *Engine) governor() string {
	used, max := e.api.Usage()
	why := ""
	if max > 0 && float64(used) >= e.cfg.APIShare*float64(max) {
		why = fmt.Sprintf("API budget spent: %d of %d calls used, share %.0f%%", used, max, e.cfg.APIShare*100)
	}
	e.mu.Lock()
	if why != e.paused {
		if why != "" {
			e.cfg.Logger.Warn("pausing pushes", "reason", why)
		}
		e.paused = why
	}
	e.mu.Unlock()
	return why
}

// backoff returns the delay before the attempt-th retry: exponential from
// one second, jittered by up to half, capped.
func (e *Engine) backoff(attempt int) time.Duration {
	d := time.Second << min(attempt, 20)
	if d > e.cfg.MaxBackoff || d <= 0 {
		d = e.cfg.MaxBackoff
	}
	e.rndMu.Lock()
	j := time.Duration(e.rnd.Int64N(int64(d/2) + 1))
	e.rndMu.Unlock()
	return d/2 + j
}
