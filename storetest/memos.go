package storetest

import (
	"testing"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/google/go-cmp/cmp"
)

// testMappingMemory: memos round-trip whole and replace by name;
// KeepMapping marks the memo kept, drops the mapping's queued work and
// skips its unsettled statuses with MAPPING_REMOVED, keeping bindings and
// settled statuses (and other mappings) as they were.
func testMappingMemory(t *testing.T, s forcesync.Store, clk *Clock) {
	m := forcesync.MappingMemo{Name: "m", Source: "contact", Object: "Lead", Connection: "prod", Version: "v1",
		RemoveAction: forcesync.DeleteDeactivate, DisableWrites: map[string]any{"Status": "Closed"}, OnRemoval: true,
		Guard: forcesync.GuardLimits{MaxRecords: 3, Window: time.Hour}}
	if err := s.RememberMapping(ctx, m); err != nil {
		t.Fatal(err)
	}
	if err := s.RememberMapping(ctx, forcesync.MappingMemo{Name: "a", Source: "contact", Object: "Contact"}); err != nil {
		t.Fatal(err)
	}
	m.Version = "v2"
	if err := s.RememberMapping(ctx, m); err != nil {
		t.Fatal(err)
	}
	got, err := s.MappingMemos(ctx)
	if err != nil || len(got) != 2 || got[0].Name != "a" {
		t.Fatalf("MappingMemos = %+v, %v", got, err)
	}
	if d := cmp.Diff(m, got[1]); d != "" {
		t.Fatalf("memo round trip (-want +got):\n%s", d)
	}
	// Records of m: one synced (bound), one held, one queued; one of "a".
	accept(t, s, []string{"m", "a"}, forcesync.Change{Key: "k1", Fields: map[string]any{"x": 1}},
		forcesync.Change{Key: "k2", Fields: map[string]any{"x": 2}})
	items := claim(t, s, clk, "m", "w", 10)
	complete(t, s, "w", forcesync.Outcome{Item: items[0], State: forcesync.StateSynced, SalesforceID: "00Q000000000001AAA", Fingerprint: "f1"},
		forcesync.Outcome{Item: items[1], State: forcesync.StateHeld, SalesforceID: "00Q000000000002AAA",
			Error: &forcesync.RecordError{Code: forcesync.CodeMassChangePaused, Message: "paused"}})
	accept(t, s, []string{"m"}, forcesync.Change{Key: "k3", Fields: map[string]any{"x": 3}})
	if err := s.KeepMapping(ctx, "m"); err != nil {
		t.Fatal(err)
	}
	got, _ = s.MappingMemos(ctx)
	if got[1].Removal != forcesync.RemovalKept || got[1].Version != "v2" {
		t.Fatalf("kept memo %+v", got[1])
	}
	if n, _ := s.Backlog(ctx, "m"); n != 0 {
		t.Fatalf("backlog of the kept mapping %d", n)
	}
	if n, _ := s.Backlog(ctx, "a"); n != 2 {
		t.Fatalf("backlog of the other mapping %d, want 2", n)
	}
	if st := status(t, s, "k1", "m"); st.State != forcesync.StateSynced {
		t.Fatalf("settled status changed: %+v", st)
	}
	for _, k := range []string{"k2", "k3"} {
		st := status(t, s, k, "m")
		if st.State != forcesync.StateSkipped || st.Error == nil || st.Error.Code != forcesync.CodeMappingRemoved {
			t.Fatalf("%s: %+v", k, st)
		}
	}
	if b, err := s.Binding(ctx, "m", "k2"); err != nil || b == nil || b.SalesforceID != "00Q000000000002AAA" {
		t.Fatalf("binding of a kept record %+v %v", b, err)
	}
	if err := s.KeepMapping(ctx, "never"); err == nil {
		t.Fatal("KeepMapping of an unknown mapping succeeded")
	}
}

// testPasswordMarks: marks are set, read and cleared only when not newer
// than the clearing mark.
func testPasswordMarks(t *testing.T, s forcesync.Store, clk *Clock) {
	if err := s.MarkPasswords(ctx, "person", []string{"a", "b"}, 10); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkPasswords(ctx, "person", []string{"b"}, 20); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkPasswords(ctx, "other", []string{"a"}, 5); err != nil {
		t.Fatal(err)
	}
	got, err := s.PasswordMarked(ctx, "person", []string{"a", "b", "c"})
	if err != nil || !cmp.Equal(got, map[string]int64{"a": 10, "b": 20}) {
		t.Fatalf("PasswordMarked = %v, %v", got, err)
	}
	// b got a newer password since the one set at 10: its mark stays.
	for _, k := range []string{"a", "b"} {
		if err := s.ClearPasswordMark(ctx, "person", k, 10); err != nil {
			t.Fatal(err)
		}
	}
	got, _ = s.PasswordMarked(ctx, "person", []string{"a", "b"})
	if !cmp.Equal(got, map[string]int64{"b": 20}) {
		t.Fatalf("after clearing at 10: %v", got)
	}
	if got, _ := s.PasswordMarked(ctx, "other", []string{"a"}); got["a"] != 5 {
		t.Fatalf("other source's mark %v", got)
	}
	if err := s.MarkPasswords(ctx, "person", nil, 30); err != nil {
		t.Fatal(err)
	}
}
