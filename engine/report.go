package engine

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/salesforce"
)

// report logs and counts what a batch did (docs/operations.md lists the
// events): every batch at debug level (push.batch), records put off for a
// retry (push.retry, a "retry wave") and records held (push.held) at warn
// level, with the mapping, the counts and the error codes — never field
// values, tokens or Salesforce's messages, which may quote data.
func (e *Engine) report(p *Pipe, run *forcesync.Run, outs []forcesync.Outcome, callErr error) {
	e.cfg.Metrics.batch(run)
	log := e.cfg.Logger
	name := p.Mapping.Name
	retry, held := map[string]int{}, map[string]int{}
	nRetry, nHeld := 0, 0
	var next time.Time
	for _, o := range outs {
		code := ""
		if o.Error != nil {
			code = o.Error.Code
		}
		switch o.State {
		case forcesync.StateRetrying:
			nRetry++
			retry[code]++
			if next.IsZero() || o.NextAttempt.Before(next) {
				next = o.NextAttempt
			}
		case forcesync.StateHeld:
			nHeld++
			held[code]++
		}
	}
	e.cfg.Metrics.outcome(name, "retrying", nRetry)
	e.cfg.Metrics.outcome(name, "held", nHeld)
	log.Debug("batch pushed", "event", "push.batch", "mapping", name, "api", run.API, "records", run.Records,
		"created", run.Created, "updated", run.Updated, "unchanged", run.Unchanged, "deleted", run.Deleted,
		"skipped", run.Skipped, "failed", run.Failed, "api_calls", run.APICalls)
	if nRetry > 0 {
		attrs := []any{"event", "push.retry", "mapping", name, "api", run.API, "records", nRetry, "codes", codeCounts(retry),
			"next_attempt", next}
		if callErr != nil {
			attrs = append(attrs, "call_error", errorCode(callErr))
		}
		log.Warn("records will be retried", attrs...)
	}
	if nHeld > 0 {
		log.Warn("records held", "event", "push.held", "mapping", name, "api", run.API, "records", nHeld, "codes", codeCounts(held))
	}
	if e.cfg.Health == nil {
		return
	}
	var au *salesforce.AuthError
	if errors.As(callErr, &au) {
		e.cfg.Health.LoginFailed(au.Code, au.Error())
		return
	}
	// A renewal that failed inside a call shows as the records' error.
	for _, o := range outs {
		if o.Error != nil && strings.HasPrefix(o.Error.Code, authPrefix) {
			e.cfg.Health.LoginFailed(strings.ToLower(strings.TrimPrefix(o.Error.Code, authPrefix)), o.Error.Message)
			return
		}
	}
}

// codeCounts renders {"A": 2, "B": 1} as "A=2,B=1" in code order.
func codeCounts(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%s=%d", k, m[k])
	}
	return b.String()
}

// errorCode names an error without its message (which may quote data).
func errorCode(err error) string {
	re, _ := recordError(err)
	return re.Code
}
