package engine

import "time"

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

// backoff returns the delay before the attempt-th retry: exponential from
// one second, jittered by up to half, capped at MaxBackoff.
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
