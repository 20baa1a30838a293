package engine_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/engine"
)

// syncBuffer is a log destination safe for the engine's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// restart replaces the rig's engine by one serving mappings over the same
// store and org (a restart, or serve's reload), logging to log.
func (r *rig) restart(log *syncBuffer, mappings ...forcesync.Mapping) {
	r.t.Helper()
	cfg := engine.Config{Workers: 1}
	if log != nil {
		cfg.Logger = slog.New(slog.NewTextHandler(log, nil))
	}
	eng, err := engine.New(context.Background(), r.store, r.api, mappings, cfg)
	if err != nil {
		r.t.Fatal(err)
	}
	r.Eng = eng
}

func (r *rig) guardState(name string) forcesync.GuardState {
	r.t.Helper()
	sts, err := r.store.GuardStates(context.Background())
	if err != nil {
		r.t.Fatal(err)
	}
	for _, st := range sts {
		if st.Name == name {
			return st
		}
	}
	return forcesync.GuardState{}
}

func (r *rig) memo(name string) forcesync.MappingMemo {
	r.t.Helper()
	ms, err := r.store.MappingMemos(context.Background())
	if err != nil {
		r.t.Fatal(err)
	}
	for _, m := range ms {
		if m.Name == name {
			return m
		}
	}
	r.t.Fatalf("no memo of %s", name)
	return forcesync.MappingMemo{}
}

// TestRemovedMappingDeprovisions: a mapping with deprovision_on_removal is
// removed from the config. When the engine starts again the mapping's
// bound records pass the guard at once and, past its limit, pause it;
// nothing changes in Salesforce until the removal is approved; then every
// record gets the remove action the mapping had (Leads deleted, Users
// deactivated), and the next start finds the removal done.
func TestRemovedMappingDeprovisions(t *testing.T) {
	for _, tc := range []struct {
		obj    string
		action forcesync.DeleteAction
	}{
		{"Lead", forcesync.DeleteDelete},
		{"User", forcesync.DeleteDeactivate},
		{"Contact", forcesync.DeleteDeactivate},
	} {
		t.Run(tc.obj, func(t *testing.T) {
			m := lifecycleMapping(tc.obj, forcesync.Operations{Delete: tc.action, DeprovisionOnRemoval: true})
			m.Guard = forcesync.GuardLimits{MaxRecords: 2}
			stay := forcesync.Mapping{Name: "stays", Source: "other", Object: "Account", Match: forcesync.MatchRule{Kind: forcesync.MatchBinding},
				Fields: []forcesync.FieldRow{{Target: "Name", SourceField: "name"}}}
			r := newRig(t, engine.Config{Workers: 1}, m, stay)
			prof := r.profile("Standard User")
			for i := range 3 {
				r.accept("person", forcesync.Change{Key: fmt.Sprint("p", i), Fields: map[string]any{"last": "L", "scope": true,
					"email": fmt.Sprintf("p%d@example.com", i), "profile": prof}})
			}
			r.drain()
			ids := map[string]bool{}
			for i := range 3 {
				st := r.statusOf(m.Name, fmt.Sprint("p", i))
				if st.State != forcesync.StateSynced {
					t.Fatalf("p%d: %+v", i, st)
				}
				ids[st.SalesforceID] = true
			}
			df := disabledField[tc.obj]
			untouched := func() int {
				n := 0
				for _, rec := range r.query(fmt.Sprintf("SELECT Id, %s FROM %s", df[0], tc.obj)) {
					if ids[rec.ID()] && rec[df[0].(string)] != df[1] {
						n++
					}
				}
				return n
			}
			// The config loses the mapping.
			log := &syncBuffer{}
			r.restart(log, stay)
			if gs := r.guardState(m.Name); !gs.Paused || gs.Pending != 3 || gs.Limit != 2 {
				t.Fatalf("guard at start %+v, want paused with the 3 records pending; log %s", gs, log)
			}
			if mm := r.memo(m.Name); mm.Removal != forcesync.RemovalDeprovisioning {
				t.Fatalf("memo %+v", mm)
			}
			r.drain()
			if n := untouched(); n != 3 {
				t.Fatalf("%d records untouched, want 3: the guard let the removal through", n)
			}
			st := r.statusOf(m.Name, "p0")
			if st.State != forcesync.StateHeld || st.Error == nil || st.Error.Code != forcesync.CodeMassChangePaused {
				t.Fatalf("status while paused %+v", st)
			}
			if gs := r.guardState(m.Name); gs.Pending != 3 {
				t.Fatalf("pending counted twice: %+v", gs)
			}
			if !strings.Contains(log.String(), "past the mass-change guard's limit") {
				t.Fatalf("log %s", log)
			}
			rm, err := engine.RemovedMapping(context.Background(), r.store, m.Name)
			if err != nil || rm == nil {
				t.Fatalf("RemovedMapping = %v, %v", rm, err)
			}
			if n, err := engine.Approve(context.Background(), r.store, *rm, time.Now()); err != nil || n != 3 {
				t.Fatalf("Approve = %d, %v", n, err)
			}
			r.drain()
			if n := untouched(); n != 0 {
				t.Fatalf("%d records untouched after approval", n)
			}
			want := forcesync.StateDeprovisioned
			if tc.action == forcesync.DeleteDelete {
				want = forcesync.StateDeleted
				if n := len(r.query("SELECT Id FROM " + tc.obj)); n != 0 {
					t.Fatalf("%d %ss left", n, tc.obj)
				}
			}
			for i := range 3 {
				if st := r.statusOf(m.Name, fmt.Sprint("p", i)); st.State != want {
					t.Fatalf("p%d after approval %+v, want %s", i, st, want)
				}
			}
			r.restart(nil, stay)
			if mm := r.memo(m.Name); mm.Removal != forcesync.RemovalDone {
				t.Fatalf("memo after the removal %+v", mm)
			}
			if n := len(r.Eng.RemovedPipes()); n != 0 {
				t.Fatalf("%d removed pipes after the removal was done", n)
			}
		})
	}
}

// TestRemovedMappingWithoutSwitch: without deprovision_on_removal a
// removed mapping changes nothing in Salesforce, and a log line says so,
// once.
func TestRemovedMappingWithoutSwitch(t *testing.T) {
	m := lifecycleMapping("Lead", forcesync.Operations{Delete: forcesync.DeleteDelete})
	r := newRig(t, engine.Config{Workers: 1}, m)
	for i := range 3 {
		r.accept("person", forcesync.Change{Key: fmt.Sprint("p", i), Fields: map[string]any{"last": "L", "scope": true}})
	}
	r.drain()
	log := &syncBuffer{}
	r.restart(log)
	r.drain()
	if n := len(r.query("SELECT Id FROM Lead")); n != 3 {
		t.Fatalf("%d leads, want 3 left alone", n)
	}
	if !strings.Contains(log.String(), "deprovision_on_removal is off") || !strings.Contains(log.String(), "mapping="+m.Name) {
		t.Fatalf("log %q", log)
	}
	if mm := r.memo(m.Name); mm.Removal != forcesync.RemovalLeft {
		t.Fatalf("memo %+v", mm)
	}
	again := &syncBuffer{}
	r.restart(again)
	if strings.Contains(again.String(), m.Name) {
		t.Fatalf("logged again: %q", again)
	}
	if st := r.statusOf(m.Name, "p0"); st.State != forcesync.StateSynced {
		t.Fatalf("status %+v", st)
	}
}

// TestRemovedMappingKept: an operator keeps a removed mapping's records
// instead of approving: nothing is deprovisioned, the held statuses say
// why, and the mapping's return carries on with the same records.
func TestRemovedMappingKept(t *testing.T) {
	m := lifecycleMapping("Lead", forcesync.Operations{Delete: forcesync.DeleteDelete, DeprovisionOnRemoval: true})
	m.Guard = forcesync.GuardLimits{MaxRecords: 1}
	r := newRig(t, engine.Config{Workers: 1}, m)
	for i := range 2 {
		r.accept("person", forcesync.Change{Key: fmt.Sprint("p", i), Fields: map[string]any{"last": "L", "scope": true}})
	}
	r.drain()
	lead := r.statusOf(m.Name, "p0").SalesforceID
	r.restart(nil)
	r.drain()
	if err := engine.KeepRemoved(context.Background(), r.store, m.Name); err != nil {
		t.Fatal(err)
	}
	if err := engine.KeepRemoved(context.Background(), r.store, "nope"); forcesync.ErrorCode(err) != forcesync.ENotFound {
		t.Fatalf("keep of an unknown mapping: %v", err)
	}
	r.drain()
	if n := len(r.query("SELECT Id FROM Lead")); n != 2 {
		t.Fatalf("%d leads, want both kept", n)
	}
	st := r.statusOf(m.Name, "p0")
	if st.State != forcesync.StateSkipped || st.Error == nil || st.Error.Code != forcesync.CodeMappingRemoved {
		t.Fatalf("kept status %+v", st)
	}
	r.restart(nil)
	if n := len(r.Eng.RemovedPipes()); n != 0 {
		t.Fatalf("a kept mapping is deprovisioned again: %d removed pipes", n)
	}
	// The mapping comes back: its records update the same Leads.
	r.restart(nil, m)
	r.accept("person", forcesync.Change{Key: "p0", Fields: map[string]any{"last": "Back", "scope": true}})
	r.drain()
	if st := r.statusOf(m.Name, "p0"); st.State != forcesync.StateSynced || st.SalesforceID != lead {
		t.Fatalf("after the return %+v, want synced to %s", st, lead)
	}
}

// TestNarrowedScopeCountedAtOnce: a config change narrows a mapping's
// filter. The bound records that fall out are counted when the engine
// starts, in one request to the guard: past the limit the mapping pauses
// before any record changes, and all of them wait for the approval; under
// the limit they are deprovisioned and counted once, not twice.
func TestNarrowedScopeCountedAtOnce(t *testing.T) {
	m := lifecycleMapping("Lead", forcesync.Operations{Delete: forcesync.DeleteDelete})
	m.Guard = forcesync.GuardLimits{MaxRecords: 3}
	r := newRig(t, engine.Config{Workers: 1}, m)
	for i := range 6 {
		tier := "gold"
		if i >= 2 {
			tier = "silver"
		}
		r.accept("person", forcesync.Change{Key: fmt.Sprint("p", i), Fields: map[string]any{"last": "L", "scope": true, "tier": tier}})
	}
	r.drain()
	// Narrowed: only gold records are in scope; four silver ones fall out.
	narrow := m
	narrow.Filter = `scope == true && tier == "gold"`
	r.restart(nil, narrow)
	if gs := r.guardState(m.Name); !gs.Paused || gs.Pending != 4 {
		t.Fatalf("guard after the narrowing %+v, want paused with 4 pending", gs)
	}
	r.drain()
	if n := len(r.query("SELECT Id FROM Lead")); n != 6 {
		t.Fatalf("%d leads, want 6 while paused", n)
	}
	for i := 2; i < 6; i++ {
		if st := r.statusOf(m.Name, fmt.Sprint("p", i)); st.State != forcesync.StateHeld || st.Error.Code != forcesync.CodeMassChangePaused {
			t.Fatalf("p%d %+v", i, st)
		}
	}
	if st := r.statusOf(m.Name, "p0"); st.State != forcesync.StateSynced {
		t.Fatalf("p0 %+v", st)
	}
	if n, err := engine.Approve(context.Background(), r.store, narrow, time.Now()); err != nil || n != 4 {
		t.Fatalf("Approve = %d, %v", n, err)
	}
	r.drain()
	if n := len(r.query("SELECT Id FROM Lead")); n != 2 {
		t.Fatalf("%d leads after approval, want the 2 gold ones", n)
	}

	// Under the limit: two records fall out, counted once.
	m2 := lifecycleMapping("Contact", forcesync.Operations{Delete: forcesync.DeleteDelete})
	m2.Guard = forcesync.GuardLimits{MaxRecords: 3}
	r = newRig(t, engine.Config{Workers: 1}, m2)
	for i := range 4 {
		r.accept("person", forcesync.Change{Key: fmt.Sprint("c", i), Fields: map[string]any{"last": "L", "scope": true, "keep": i < 2}})
	}
	r.drain()
	narrow2 := m2
	narrow2.Filter = "scope == true && keep"
	r.restart(nil, narrow2)
	if gs := r.guardState(m2.Name); gs.Paused || gs.Count != 2 {
		t.Fatalf("guard after a small narrowing %+v", gs)
	}
	r.drain()
	if gs := r.guardState(m2.Name); gs.Paused || gs.Count != 2 {
		t.Fatalf("guard after the deletes %+v, want the 2 counted once", gs)
	}
	if n := len(r.query("SELECT Id FROM Contact")); n != 2 {
		t.Fatalf("%d contacts, want 2", n)
	}
	// The same config again sweeps nothing.
	r.restart(nil, narrow2)
	if gs := r.guardState(m2.Name); gs.Count != 2 {
		t.Fatalf("a restart counted again: %+v", gs)
	}
}
