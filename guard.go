package forcesync

import (
	"context"
	"fmt"
	"time"
)

// The mass-change guard stops an accident (a filter typo, an identity
// provider that lost its users, a config change) from disabling or
// deleting a large share of Salesforce at once, like Entra's accidental
// deletion threshold: destructive changes beyond a limit in a window pause
// the guarded name (a mapping, or any bulk operation such as a
// reconciliation's heal) until a person approves them.

// GuardStore keeps the guard's state per guarded name, shared by every
// replica. Both stores implement it (storetest covers it).
type GuardStore interface {
	// GuardTake asks to make req.N destructive changes under req.Name and
	// reports whether they may go ahead, with the state after. It decides
	// by storeplan.GuardTake in one transaction.
	GuardTake(ctx context.Context, req GuardRequest) (GuardState, bool, error)
	// GuardApprove lifts name's pause, starts a new window at now and lets
	// every destructive change through until until. A name never guarded
	// is approved all the same (the approval waits for its first take).
	GuardApprove(ctx context.Context, name string, now, until time.Time) (GuardState, error)
	// GuardStates lists the state of every guarded name, by name.
	GuardStates(ctx context.Context) ([]GuardState, error)
}

// GuardRequest asks the guard for N destructive changes.
type GuardRequest struct {
	Name string
	// N is the number of destructive changes asked for now.
	N int
	// Limit is the most destructive changes one window lets through; a
	// request taking the window's count above it pauses Name.
	Limit int
	// Window is how long a count lasts before it starts again from zero.
	Window time.Duration
	Now    time.Time
}

// GuardState is the guard's state of one name.
type GuardState struct {
	Name string `json:"name"`
	// Count is how many destructive changes went through in the window
	// that started at WindowStart.
	Count       int       `json:"count"`
	WindowStart time.Time `json:"window_start"`
	// Paused is set when a request would have passed Limit; Pending counts
	// the changes refused since, Limit the limit that was passed.
	Paused  bool `json:"paused"`
	Pending int  `json:"pending"`
	Limit   int  `json:"limit"`
	// ApprovedUntil: an approval lets every change through until then.
	ApprovedUntil time.Time `json:"approved_until,omitzero"`
}

// GuardLimits configure the guard of a mapping. The zero value is the
// default: 500 records in one hour, no percentage.
type GuardLimits struct {
	// Off turns the guard off for the mapping.
	Off bool
	// MaxRecords is the most records one window may disable, deprovision
	// or delete. Zero means 500.
	MaxRecords int
	// MaxPercent, when above zero, also caps them at this share (0..100]
	// of the mapping's records.
	MaxPercent float64
	// Window is how long a count lasts. Zero means one hour.
	Window time.Duration
}

// Defaults of GuardLimits.
const (
	DefaultGuardRecords = 500
	DefaultGuardWindow  = time.Hour
)

// Validate checks the limits.
func (l GuardLimits) Validate() error {
	if l.MaxRecords < 0 {
		return fmt.Errorf("max_records %d is negative", l.MaxRecords)
	}
	if l.MaxPercent < 0 || l.MaxPercent > 100 {
		return fmt.Errorf("max_percent %v is outside 0..100", l.MaxPercent)
	}
	if l.Window < 0 {
		return fmt.Errorf("window %v is negative", l.Window)
	}
	return nil
}

// MassGuard applies limits through a GuardStore: the reusable part of the
// guard, for the push engine and for any bulk operation.
type MassGuard struct {
	Store  GuardStore
	Limits GuardLimits
}

// Limit is the most destructive changes one window may make among
// population records (population matters only with MaxPercent; the share
// allows at least one).
func (g MassGuard) Limit(population int) int {
	limit := g.Limits.MaxRecords
	if limit == 0 {
		limit = DefaultGuardRecords
	}
	if g.Limits.MaxPercent > 0 {
		// At least one: a share of a handful of records is below one, and
		// removing one record is never a mass change.
		limit = min(limit, max(1, int(g.Limits.MaxPercent*float64(population)/100)))
	}
	return limit
}

// Allow asks for n destructive changes under name among population
// records. With the guard off it always allows.
func (g MassGuard) Allow(ctx context.Context, name string, n, population int, now time.Time) (bool, GuardState, error) {
	if g.Limits.Off || n <= 0 {
		return true, GuardState{Name: name}, nil
	}
	w := g.Limits.Window
	if w == 0 {
		w = DefaultGuardWindow
	}
	st, ok, err := g.Store.GuardTake(ctx, GuardRequest{Name: name, N: n, Limit: g.Limit(population), Window: w, Now: now})
	if err != nil {
		return false, st, fmt.Errorf("mass-change guard %s: %w", name, err)
	}
	return ok, st, nil
}

// CodeMassChangePaused is the record error of a destructive change the
// guard held back; approving the name requeues such records.
const CodeMassChangePaused = "MASS_CHANGE_PAUSED"

// Counted asks whether changes the guard already counted under name (a
// config change's sweep took them at once) may go ahead now: false while
// name is paused and not approved. It counts nothing more.
func (g MassGuard) Counted(ctx context.Context, name string, population int, now time.Time) (bool, GuardState, error) {
	if g.Limits.Off {
		return true, GuardState{Name: name}, nil
	}
	w := g.Limits.Window
	if w == 0 {
		w = DefaultGuardWindow
	}
	st, ok, err := g.Store.GuardTake(ctx, GuardRequest{Name: name, N: 0, Limit: g.Limit(population), Window: w, Now: now})
	if err != nil {
		return false, st, fmt.Errorf("mass-change guard %s: %w", name, err)
	}
	return ok, st, nil
}

// GuardDecide is the mass-change guard's decision: the state after asking
// for req.N destructive changes given old (the stored state, zero when
// none), and whether they may go ahead.
//
//   - A window that ran out starts again from zero (a pause does not run
//     out: it waits for an approval).
//   - An approval still running lets everything through.
//   - A paused name refuses, counting the refused changes as pending.
//   - A request that would take the window's count above Limit pauses.
func GuardDecide(old GuardState, req GuardRequest) (GuardState, bool) {
	st := old
	st.Name = req.Name
	if st.WindowStart.IsZero() || !req.Now.Before(st.WindowStart.Add(req.Window)) {
		st.Count, st.WindowStart = 0, req.Now
	}
	switch {
	case req.Now.Before(st.ApprovedUntil):
		st.Count += req.N
		return st, true
	case st.Paused:
		st.Pending += req.N
		return st, false
	case st.Count+req.N > req.Limit:
		st.Paused, st.Pending, st.Limit = true, req.N, req.Limit
		return st, false
	}
	st.Count += req.N
	return st, true
}
