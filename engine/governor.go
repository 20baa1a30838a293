package engine

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/forcesync/forcesync"
)

// Governor keeps forcesync's use of one org's daily API allowance within
// its bounds, and resumes by itself when the bounds allow it again.
//
// The bounds, for one connection, over Salesforce's rolling 24 hours:
//   - Share: forcesync's own calls stay within Share × the org's daily
//     allowance (DailyApiRequests Max). forcesync counts its own calls in
//     the store's ledger (forcesync.Ledger), per minute, so a restart does
//     not forget them and replicas sharing the store count together.
//   - Reserve: the org's total usage (every user and integration, as
//     Salesforce reports it in Sforce-Limit-Info and /limits) stays below
//     (1 − Reserve) × the allowance, so the org's other users keep the rest.
//   - Realtime lane: backfills stop RealtimeLane × the share earlier on both
//     counts, so realtime work always keeps that part of the budget.
//
// Use: ask before spending — Allow(ctx, lane, calls) or Headroom(ctx, lane)
// — and report what was spent — Spent(ctx, lane, calls) — counting calls
// with a salesforce.CallCounter on the context of the work. ObserveUsage
// takes every Sforce-Limit-Info the client sees (salesforce.Hooks.OnLimitInfo).
//
// A lane paused because of the org's usage re-reads /limits at most once
// per Recheck (the only call the governor makes itself) and resumes as soon
// as the usage allows; a lane paused because forcesync's share is spent
// resumes when enough of its own calls leave the 24-hour window, a time the
// governor knows (State().ResumeAt). Each pause and resume is logged
// (events budget.pause, budget.resume) and stored (Ledger.SetBudgetState)
// for `forcesync status`; /healthz and the metrics read State.
//
// When the allowance is not known yet (no answer seen), the first Allow
// reads /limits before anything is spent. If that fails too the call is
// allowed: the work's own answer then teaches the usage.
//
// A Governor is safe for concurrent use.
type Governor struct {
	cfg GovernorConfig

	mu        sync.Mutex
	buckets   []forcesync.CallBucket // the ledger's last 24 hours, oldest first
	loaded    time.Time              // when buckets were last read from the store
	orgUsed   int
	orgMax    int
	orgAt     time.Time // when the org's usage was last learned
	nextCheck time.Time // earliest next /limits read
	// checkMu makes a caller that needs the org's usage wait for a /limits
	// read under way, rather than spend on what it does not know.
	checkMu   sync.Mutex
	lanes     map[string]*laneState
	lastSave  time.Time
	limitsErr string // the last /limits failure, logged once
}

// GovernorConfig configures a Governor. Zero values are the defaults.
type GovernorConfig struct {
	// Connection names the org in the ledger, logs and metrics.
	Connection string
	// Ledger keeps the calls and the state. Required.
	Ledger forcesync.Ledger
	// Share of the org's daily allowance forcesync may spend (0 < s <= 1).
	// Zero means 0.5.
	Share float64
	// Reserve is the part of the org's daily allowance left to the org's
	// other users (0 <= r < 1). Zero means 0.1; negative means none.
	Reserve float64
	// RealtimeLane is the part of the share only realtime work may spend
	// (0 <= l < 1). Zero means 0.2; negative means none.
	RealtimeLane float64
	// Limits reads the org's daily API usage (used, max) from /limits.
	// Nil: the governor knows only what ObserveUsage tells it.
	Limits func(ctx context.Context) (used, max int, err error)
	// Recheck is the least time between two /limits reads. Zero means one
	// minute.
	Recheck time.Duration
	Now     func() time.Time
	Logger  *slog.Logger
}

// laneState is where one lane stands.
type laneState struct {
	why      string // "" when running
	since    time.Time
	resumeAt time.Time
}

// BudgetWindow is the span over which Salesforce and the governor count
// API calls.
const BudgetWindow = 24 * time.Hour

// ledgerReload is how often the governor re-reads the ledger, to see the
// calls of replicas sharing the store.
const ledgerReload = 10 * time.Second

// NewGovernor returns a governor that has read the ledger's last 24 hours.
func NewGovernor(ctx context.Context, cfg GovernorConfig) (*Governor, error) {
	if cfg.Ledger == nil {
		return nil, fmt.Errorf("governor %s: no ledger", cfg.Connection)
	}
	if cfg.Share <= 0 || cfg.Share > 1 {
		cfg.Share = 0.5
	}
	switch {
	case cfg.Reserve == 0:
		cfg.Reserve = 0.1
	case cfg.Reserve < 0 || cfg.Reserve >= 1:
		cfg.Reserve = max(0, min(cfg.Reserve, 0.99))
	}
	switch {
	case cfg.RealtimeLane == 0:
		cfg.RealtimeLane = 0.2
	case cfg.RealtimeLane < 0 || cfg.RealtimeLane >= 1:
		cfg.RealtimeLane = max(0, min(cfg.RealtimeLane, 0.99))
	}
	if cfg.Recheck <= 0 {
		cfg.Recheck = time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	g := &Governor{cfg: cfg, lanes: map[string]*laneState{forcesync.LaneRealtime: {}, forcesync.LaneBackfill: {}}}
	if err := g.reload(ctx, cfg.Now()); err != nil {
		return nil, err
	}
	return g, nil
}

// reload reads the ledger's window.
func (g *Governor) reload(ctx context.Context, now time.Time) error {
	bs, err := g.cfg.Ledger.APICalls(ctx, g.cfg.Connection, now.Add(-BudgetWindow))
	if err != nil {
		return fmt.Errorf("governor %s: %w", g.cfg.Connection, err)
	}
	g.mu.Lock()
	g.buckets, g.loaded = bs, now
	g.mu.Unlock()
	return nil
}

// ObserveUsage takes the org's usage as Salesforce just reported it
// (salesforce.Hooks.OnLimitInfo).
func (g *Governor) ObserveUsage(used, max int) {
	if max <= 0 {
		return
	}
	now := g.cfg.Now()
	g.mu.Lock()
	g.orgUsed, g.orgMax, g.orgAt = used, max, now
	g.mu.Unlock()
}

// Allow reports whether lane may spend calls API calls now; when it may
// not, why says so with the figures. It never spends a call itself, except
// the /limits read described on Governor.
func (g *Governor) Allow(ctx context.Context, lane string, calls int) (ok bool, why string) {
	room, why := g.Headroom(ctx, lane, calls)
	return room >= calls, why
}

// Headroom returns how many calls lane may spend now (math.MaxInt32 when
// the allowance is unknown) and, when that is fewer than need, why. The
// lane counts as paused while its headroom is below need.
func (g *Governor) Headroom(ctx context.Context, lane string, need int) (int, string) {
	need = max(need, 1)
	now := g.cfg.Now()
	if now.Sub(g.loadedAt()) >= ledgerReload {
		if err := g.reload(ctx, now); err != nil {
			g.cfg.Logger.Warn("reading the API call ledger", "event", "budget.ledger_error", "connection", g.cfg.Connection, "err", err)
		}
	}
	room, why, org, resume := g.decide(lane, need, now)
	if g.stale(now) {
		// What we know of the org's usage is older than Recheck (the
		// answers stopped coming, because we are paused or idle): look
		// again, so that a reset or a raised allowance resumes us and
		// nothing is spent on an allowance others used up meanwhile.
		g.checkMu.Lock()
		if g.stale(now) && g.dueCheck(now) {
			g.readLimits(ctx)
		}
		g.checkMu.Unlock()
		room, why, org, resume = g.decide(lane, need, now)
	}
	if org {
		g.mu.Lock()
		resume = g.nextCheck
		g.mu.Unlock()
	}
	g.setLane(ctx, lane, why, now, resume)
	return room, why
}

// stale reports whether what the governor knows of the org's usage is
// older than Recheck (or nothing).
func (g *Governor) stale(now time.Time) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.orgMax <= 0 || now.Sub(g.orgAt) >= g.cfg.Recheck
}

func (g *Governor) loadedAt() time.Time {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.loaded
}

// dueCheck reports whether /limits may be read now (checkMu held), and
// sets the next time.
func (g *Governor) dueCheck(now time.Time) bool {
	if g.cfg.Limits == nil {
		return false
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if now.Before(g.nextCheck) {
		return false
	}
	g.nextCheck = now.Add(g.cfg.Recheck)
	return true
}

// readLimits reads /limits and counts the call.
func (g *Governor) readLimits(ctx context.Context) {
	used, max, err := g.cfg.Limits(ctx)
	now := g.cfg.Now()
	g.mu.Lock()
	if err == nil && max > 0 {
		g.orgUsed, g.orgMax, g.orgAt = used, max, now
	}
	g.mu.Unlock()
	g.Spent(ctx, forcesync.LaneRealtime, 1)
	g.mu.Lock()
	repeat := err != nil && err.Error() == g.limitsErr
	g.limitsErr = ""
	if err != nil {
		g.limitsErr = err.Error()
	}
	g.mu.Unlock()
	if err != nil {
		if !repeat { // the same failure again is not news
			g.cfg.Logger.Warn("reading the org's API usage", "event", "budget.limits_error", "connection", g.cfg.Connection, "err", err)
		}
		return
	}
	g.cfg.Logger.Debug("read the org's API usage", "event", "budget.limits", "connection", g.cfg.Connection, "used", used, "max", max, "at", now)
}

// decide computes a lane's headroom. org reports that the org's usage
// (rather than forcesync's own share) is what limits it, or that the
// allowance is unknown.
func (g *Governor) decide(lane string, need int, now time.Time) (room int, why string, org bool, resume time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.orgMax <= 0 {
		return math.MaxInt32, "", true, time.Time{}
	}
	own := g.ownLocked(now)
	budget := int(g.cfg.Share * float64(g.orgMax))
	laneCut := 0
	if lane == forcesync.LaneBackfill {
		laneCut = int(g.cfg.RealtimeLane * float64(budget))
	}
	ownLimit := budget - laneCut
	orgLimit := g.orgMax - int(g.cfg.Reserve*float64(g.orgMax)) - laneCut
	ownRoom, orgRoom := ownLimit-own, orgLimit-g.orgUsed
	room = max(0, min(ownRoom, orgRoom))
	if room >= need {
		return room, "", false, time.Time{}
	}
	lanePart := ""
	if laneCut > 0 {
		lanePart = fmt.Sprintf(", less the realtime lane of %d", laneCut)
	}
	if orgRoom < need {
		return room, fmt.Sprintf("org API usage %d of %d leaves less than the %.0f%% reserve for the org's other users%s; re-reading /limits every %s",
			g.orgUsed, g.orgMax, g.cfg.Reserve*100, lanePart, g.cfg.Recheck), true, time.Time{}
	}
	return room, fmt.Sprintf("forcesync's share is spent: %d of %d calls in the last 24 hours (share %.0f%% of %d%s)",
		own, ownLimit, g.cfg.Share*100, g.orgMax, lanePart), false, g.resumeLocked(now, own-(ownLimit-need))
}

// ownLocked sums forcesync's calls of the last 24 hours.
func (g *Governor) ownLocked(now time.Time) int {
	from := now.Add(-BudgetWindow)
	n := 0
	for _, b := range g.buckets {
		if b.Minute.Add(time.Minute).After(from) {
			n += b.Calls
		}
	}
	return n
}

// resumeLocked is when excess calls will have left the window.
func (g *Governor) resumeLocked(now time.Time, excess int) time.Time {
	from := now.Add(-BudgetWindow)
	for _, b := range g.buckets {
		if !b.Minute.Add(time.Minute).After(from) {
			continue
		}
		excess -= b.Calls
		if excess <= 0 {
			return b.Minute.Add(time.Minute + BudgetWindow)
		}
	}
	return now.Add(BudgetWindow)
}

// Spent records calls lane spent, in memory and in the ledger.
func (g *Governor) Spent(ctx context.Context, lane string, calls int) {
	if calls <= 0 {
		return
	}
	now := g.cfg.Now()
	minute := now.UTC().Truncate(time.Minute)
	g.mu.Lock()
	i := len(g.buckets) - 1
	for i >= 0 && g.buckets[i].Minute.Equal(minute) && g.buckets[i].Lane != lane {
		i--
	}
	if i >= 0 && g.buckets[i].Minute.Equal(minute) && g.buckets[i].Lane == lane {
		g.buckets[i].Calls += calls
	} else {
		g.buckets = append(g.buckets, forcesync.CallBucket{Minute: minute, Lane: lane, Calls: calls})
	}
	g.mu.Unlock()
	if err := g.cfg.Ledger.AddAPICalls(context.WithoutCancel(ctx), g.cfg.Connection, lane, now, calls); err != nil {
		g.cfg.Logger.Warn("recording API calls", "event", "budget.ledger_error", "connection", g.cfg.Connection, "err", err)
	}
	g.mu.Lock()
	save := now.Sub(g.lastSave) >= ledgerReload
	g.mu.Unlock()
	if save {
		g.save(ctx, now)
	}
}

// setLane records a lane's decision; a change is logged and stored.
func (g *Governor) setLane(ctx context.Context, lane, why string, now, resume time.Time) {
	g.mu.Lock()
	ls := g.lanes[lane]
	if ls == nil {
		ls = &laneState{}
		g.lanes[lane] = ls
	}
	was, since := ls.why, ls.since
	ls.why = why
	if why == "" {
		ls.since, ls.resumeAt = time.Time{}, time.Time{}
	} else {
		if was == "" {
			ls.since = now
		}
		ls.resumeAt = resume
	}
	own, budget := g.ownLocked(now), int(g.cfg.Share*float64(g.orgMax))
	g.mu.Unlock()
	if (was == "") == (why == "") {
		return
	}
	if why != "" {
		g.cfg.Logger.Warn("API budget: pausing", "event", "budget.pause", "connection", g.cfg.Connection, "lane", lane,
			"reason", why, "resume_at", resume, "own_calls", own, "budget", budget)
	} else {
		g.cfg.Logger.Info("API budget: resuming", "event", "budget.resume", "connection", g.cfg.Connection, "lane", lane,
			"paused_for", now.Sub(since).Round(time.Millisecond).String(), "own_calls", own, "budget", budget)
	}
	g.save(ctx, now)
}

// save stores the state for `forcesync status` and other replicas.
func (g *Governor) save(ctx context.Context, now time.Time) {
	st := g.State()
	g.mu.Lock()
	g.lastSave = now
	g.mu.Unlock()
	if err := g.cfg.Ledger.SetBudgetState(context.WithoutCancel(ctx), st); err != nil {
		g.cfg.Logger.Warn("storing the budget state", "event", "budget.ledger_error", "connection", g.cfg.Connection, "err", err)
	}
}

// State is the governor's view now: the paused lanes (realtime listed last),
// the first reason, when the pause began and when it expects to resume,
// forcesync's calls and budget, and the org's usage.
func (g *Governor) State() forcesync.BudgetState {
	now := g.cfg.Now()
	g.mu.Lock()
	defer g.mu.Unlock()
	st := forcesync.BudgetState{Connection: g.cfg.Connection, Own: g.ownLocked(now),
		Budget: int(g.cfg.Share * float64(g.orgMax)), OrgUsed: g.orgUsed, OrgMax: g.orgMax, Updated: now}
	for _, lane := range []string{forcesync.LaneBackfill, forcesync.LaneRealtime} {
		ls := g.lanes[lane]
		if ls == nil || ls.why == "" {
			continue
		}
		st.Paused = append(st.Paused, lane)
		// The realtime lane's reason is the one that stops everything.
		st.Reason = ls.why
		if st.Since.IsZero() || ls.since.Before(st.Since) {
			st.Since = ls.since
		}
		st.ResumeAt = ls.resumeAt
	}
	return st
}

// Paused reports whether lane is paused now (as last decided).
func (g *Governor) Paused(lane string) bool {
	st := g.State()
	return slices.Contains(st.Paused, lane)
}
