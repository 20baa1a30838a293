package storetest

import (
	"fmt"
	"testing"

	"github.com/forcesync/forcesync"
)

// testLiveSharers: LiveSharers finds the other keys of a mapping bound to
// the same Salesforce Id whose bindings are live, and nothing else: not the
// key itself, not disabled or converted bindings, not another Id's or
// another mapping's.
func testLiveSharers(t *testing.T, s forcesync.Store, clk *Clock) {
	sb, ok := s.(forcesync.SharedBindings)
	if !ok {
		t.Fatal("the store does not implement forcesync.SharedBindings")
	}
	var changes []forcesync.Change
	for _, k := range []string{"a", "b", "c", "d", "e"} {
		changes = append(changes, forcesync.Change{Key: k, Fields: map[string]any{}})
	}
	accept(t, s, []string{"m1", "m2"}, changes...)
	bind := map[string][2]string{
		"a": {"005X", "fa"}, "b": {"005X", "fb"}, "c": {"005X", forcesync.FingerprintDisabled},
		"d": {"005Y", "fd"}, "e": {"005X", forcesync.FingerprintConverted},
	}
	for _, m := range []string{"m1", "m2"} {
		var outs []forcesync.Outcome
		for _, it := range claim(t, s, clk, m, "w", 10) {
			b := bind[it.Key]
			if m == "m2" && it.Key == "b" {
				b[0] = "005Z" // under m2, b has a record of its own
			}
			outs = append(outs, forcesync.Outcome{Item: it, State: forcesync.StateSynced, SalesforceID: b[0], Fingerprint: b[1]})
		}
		complete(t, s, "w", outs...)
	}
	got, err := sb.LiveSharers(ctx, "m1", []string{"a", "c", "d", "nothing"})
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string][]string{"a": {"b"}, "c": {"a", "b"}}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("LiveSharers = %v, want %v", got, want)
	}
	if got, err := sb.LiveSharers(ctx, "m2", []string{"a"}); err != nil || len(got) != 0 {
		t.Fatalf("under m2, a shares with no live key: %v %v", got, err)
	}
	if got, err := sb.LiveSharers(ctx, "m1", nil); err != nil || len(got) != 0 {
		t.Fatalf("no keys: %v %v", got, err)
	}
}
