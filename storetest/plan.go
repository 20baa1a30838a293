package storetest

import (
	"testing"

	"github.com/forcesync/forcesync"
)

// RunPlan runs the conformance cases of issue 12's store features (org
// pins; the read-only views plan and reconcile use; reconcile runs)
// against stores made by open. Stores must also implement
// forcesync.OrgPins and forcesync.Inspector.
func RunPlan(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(*testing.T, forcesync.Store, *Clock)
	}{
		{"OrgPins", testOrgPins},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clk := NewClock()
			s := open(t, clk)
			t.Cleanup(func() { s.Close() })
			tc.fn(t, s, clk)
		})
	}
}

func testOrgPins(t *testing.T, s forcesync.Store, clk *Clock) {
	ps, ok := s.(forcesync.OrgPins)
	if !ok {
		t.Fatalf("%T does not implement forcesync.OrgPins", s)
	}
	if p, err := ps.OrgPin(ctx, "org"); err != nil || p != nil {
		t.Fatalf("OrgPin of a new connection = %+v, %v; want nil, nil", p, err)
	}
	first := forcesync.OrgPin{Connection: "org", OrgID: "00D000000000001AAA", InstanceURL: "https://a.example"}
	got, err := ps.PinOrg(ctx, first, false)
	if err != nil || got.OrgID != first.OrgID || got.InstanceURL != first.InstanceURL || !got.Pinned.Equal(clk.Now()) {
		t.Fatalf("first PinOrg = %+v, %v; want org %s pinned now", got, err, first.OrgID)
	}
	// Another org without replace: the first pin stays and is returned.
	clk.Advance(1e9)
	other := forcesync.OrgPin{Connection: "org", OrgID: "00D000000000002AAA", InstanceURL: "https://b.example"}
	got, err = ps.PinOrg(ctx, other, false)
	if err != nil || got.OrgID != first.OrgID {
		t.Fatalf("PinOrg without replace = %+v, %v; want the first pin kept", got, err)
	}
	got, err = ps.PinOrg(ctx, other, true)
	if err != nil || got.OrgID != other.OrgID || !got.Pinned.Equal(clk.Now()) {
		t.Fatalf("PinOrg with replace = %+v, %v; want org %s", got, err, other.OrgID)
	}
	if p, err := ps.OrgPin(ctx, "org"); err != nil || p.OrgID != other.OrgID || p.InstanceURL != other.InstanceURL {
		t.Fatalf("OrgPin = %+v, %v; want the replaced pin", p, err)
	}
	if p, err := ps.OrgPin(ctx, "another"); err != nil || p != nil {
		t.Fatalf("OrgPin of another connection = %+v, %v; want nil", p, err)
	}
}
