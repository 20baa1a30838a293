package pull_test

import (
	"context"
	"testing"
)

// TestReplicaOvertaken: two pullers of one mapping share the store (two
// replicas of serve). The second polls while the first is between its
// query and its commit; the first's commit is refused, and every change is
// delivered once.
func TestReplicaOvertaken(t *testing.T) {
	r := newRig(t, leadsPull())
	if _, err := r.emu.Seed("Lead", []map[string]any{{"LastName": "A", "Company": "C"}, {"LastName": "B", "Company": "C"}}); err != nil {
		t.Fatal(err)
	}
	other := r.puller(nil) // the other replica writes to the store directly
	d := &during{Store: r.store}
	r.pstore = d
	first := r.puller(nil)
	d.hook = func() {
		if st, err := other.Poll(context.Background()); err != nil || st.Read != 2 {
			t.Errorf("other replica: %+v %v", st, err)
		}
	}
	st, err := first.Poll(context.Background())
	if err != nil || !st.Overtaken {
		t.Fatalf("first replica: %+v %v, want overtaken", st, err)
	}
	if n := len(r.changes(0)); n != 2 {
		t.Fatalf("%d events, want 2", n)
	}
	if st := r.poll(first); st.Read != 0 {
		t.Fatalf("after the other replica's pull: %+v", st)
	}
}
