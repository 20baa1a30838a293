package storeplan

import "github.com/forcesync/forcesync"

// GuardTake is the mass-change guard's decision (forcesync.GuardDecide),
// which the stores make in one transaction.
func GuardTake(old forcesync.GuardState, req forcesync.GuardRequest) (forcesync.GuardState, bool) {
	return forcesync.GuardDecide(old, req)
}
