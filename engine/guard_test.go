package engine_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/engine"
)

// TestMassChangeGuard: deleting more records than the guard allows holds
// them all (nothing is deleted) until the mapping is approved; then they go.
func TestMassChangeGuard(t *testing.T) {
	m := lifecycleMapping("Lead", forcesync.Operations{Delete: forcesync.DeleteDelete})
	m.Guard = forcesync.GuardLimits{MaxRecords: 3}
	r := newRig(t, engine.Config{}, m)
	for i := range 5 {
		r.accept("person", forcesync.Change{Key: fmt.Sprint("p", i), Fields: map[string]any{"last": "L", "scope": true}})
	}
	r.drain()
	for i := range 5 {
		r.accept("person", forcesync.Change{Key: fmt.Sprint("p", i), Op: forcesync.OpDelete})
	}
	r.drain()
	if n := len(r.query("SELECT Id FROM Lead")); n != 5 {
		t.Fatalf("%d leads left, want 5: the guard let deletes through", n)
	}
	st := r.status("person", "p0")
	if st.State != forcesync.StateHeld || st.Error == nil || st.Error.Code != forcesync.CodeMassChangePaused {
		t.Fatalf("status %+v, want held MASS_CHANGE_PAUSED", st)
	}
	gs, err := r.store.GuardStates(context.Background())
	if err != nil || len(gs) != 1 || !gs[0].Paused || gs[0].Pending != 5 {
		t.Fatalf("guard states %+v %v", gs, err)
	}
	n, err := engine.Approve(context.Background(), r.store, m, time.Now())
	if err != nil || n != 5 {
		t.Fatalf("Approve = %d, %v", n, err)
	}
	r.drain()
	if n := len(r.query("SELECT Id FROM Lead")); n != 0 {
		t.Fatalf("%d leads left after approval", n)
	}
	if st := r.status("person", "p4"); st.State != forcesync.StateDeleted {
		t.Fatalf("after approval: %+v", st)
	}
}

// TestMassChangeGuardPercent: the share of the mapping's records counts
// across batches of one window.
func TestMassChangeGuardPercent(t *testing.T) {
	m := lifecycleMapping("User", forcesync.Operations{})
	m.Guard = forcesync.GuardLimits{MaxPercent: 50}
	r := newRig(t, engine.Config{}, m)
	prof := r.profile("Standard User")
	for i := range 6 {
		r.accept("person", forcesync.Change{Key: fmt.Sprint("u", i), Fields: map[string]any{"last": "L", "scope": true,
			"email": fmt.Sprintf("u%d@example.com", i), "profile": prof}})
	}
	r.drain()
	disable := func(keys ...int) {
		for _, i := range keys {
			r.accept("person", forcesync.Change{Key: fmt.Sprint("u", i), Op: forcesync.OpDisable})
		}
		r.drain()
	}
	disable(0, 1)
	disable(2) // 3 of 6: at the limit
	if got := len(r.query("SELECT Id FROM User WHERE IsActive = false")); got != 3 {
		t.Fatalf("%d inactive, want 3", got)
	}
	disable(3)
	if got := len(r.query("SELECT Id FROM User WHERE IsActive = false")); got != 3 {
		t.Fatalf("%d inactive after passing 50%%, want 3", got)
	}
	if st := r.status("person", "u3"); st.State != forcesync.StateHeld {
		t.Fatalf("u3 %+v", st)
	}
}
