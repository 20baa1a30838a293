package storeplan

import "github.com/forcesync/forcesync"

// GuardTake is the mass-change guard's decision: the state after asking
// for req.N destructive changes given old (the stored state, zero when
// none), and whether they may go ahead.
//
//   - A window that ran out starts again from zero (a pause does not run
//     out: it waits for an approval).
//   - An approval still running lets everything through.
//   - A paused name refuses, counting the refused changes as pending.
//   - A request that would take the window's count above Limit pauses.
func GuardTake(old forcesync.GuardState, req forcesync.GuardRequest) (forcesync.GuardState, bool) {
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
