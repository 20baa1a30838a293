package storetest

import (
	"fmt"
	"testing"

	"github.com/forcesync/forcesync"
)

// testFoldedBindings: FoldedBindings finds the bound keys of a mapping that
// differ from the asked keys only in case, and nothing else: not the key
// itself, not another mapping's bindings, not unbound keys.
func testFoldedBindings(t *testing.T, s forcesync.Store, clk *Clock) {
	fb, ok := s.(forcesync.BindingsByFoldedKey)
	if !ok {
		t.Fatal("the store does not implement forcesync.BindingsByFoldedKey")
	}
	accept(t, s, []string{"m1", "m2"},
		forcesync.Change{Key: "sbulk-00005", Fields: map[string]any{}},
		forcesync.Change{Key: "Other", Fields: map[string]any{}},
		forcesync.Change{Key: "pending-only", Fields: map[string]any{}},
		forcesync.Change{Key: "Mixed", Fields: map[string]any{}},
		forcesync.Change{Key: "mIXED", Fields: map[string]any{}},
		forcesync.Change{Key: "mixed", Fields: map[string]any{}})
	var outs []forcesync.Outcome
	for _, it := range claim(t, s, clk, "m1", "w", 10) {
		if it.Key == "pending-only" {
			continue
		}
		outs = append(outs, forcesync.Outcome{Item: it, State: forcesync.StateSynced, SalesforceID: "00Q" + it.Key})
	}
	complete(t, s, "w", outs...)
	got, err := fb.FoldedBindings(ctx, "m1", []string{"SBULK-00005", "sbulk-00005", "other", "OTHER", "PENDING-ONLY", "nothing",
		"MIXED", "mixed"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{"SBULK-00005": {"sbulk-00005"}, "other": {"Other"}, "OTHER": {"Other"},
		"MIXED": {"Mixed", "mIXED", "mixed"}, "mixed": {"Mixed", "mIXED"}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("FoldedBindings = %v, want %v", got, want)
	}
	if got, err := fb.FoldedBindings(ctx, "m2", []string{"SBULK-00005"}); err != nil || len(got) != 0 {
		t.Fatalf("another mapping's bindings: %v %v", got, err)
	}
	if got, err := fb.FoldedBindings(ctx, "m1", nil); err != nil || len(got) != 0 {
		t.Fatalf("no keys: %v %v", got, err)
	}
}
