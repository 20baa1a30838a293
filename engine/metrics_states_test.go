package engine_test

import (
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/engine"
)

// forcesync_records has a series for every state a record of a mapping
// can be in, as forcesync status counts them: a deprovisioned or disabled
// record is not missing from the gauges.
func TestRecordsGaugeCoversEveryState(t *testing.T) {
	r := newRig(t, engine.Config{BulkThreshold: -1}, leadByExtID())
	r.accept("contact", contact("a", "A", "a@example.com", 60), contact("b", "B", "b@example.com", 60), contact("c", "C", "c@example.com", 60))
	r.drain()
	r.accept("contact", forcesync.Change{Key: "a", Op: forcesync.OpDelete}, forcesync.Change{Key: "b", Op: forcesync.OpDisable})
	r.drain()
	counts, err := r.store.Counts(context.Background(), "contacts_to_leads")
	if err != nil {
		t.Fatal(err)
	}
	if counts[forcesync.StateDeprovisioned] != 1 || counts[forcesync.StateDisabled] != 1 || counts[forcesync.StateSynced] != 1 {
		t.Fatalf("counts %v: want one deprovisioned, one disabled, one synced", counts)
	}
	reg := prometheus.NewRegistry()
	engine.NewMetrics(reg).Watch(r.Eng)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != "forcesync_records" {
			continue
		}
		for _, m := range mf.GetMetric() {
			var mapping, state string
			for _, l := range m.GetLabel() {
				switch l.GetName() {
				case "mapping":
					mapping = l.GetValue()
				case "state":
					state = l.GetValue()
				}
			}
			if mapping == "contacts_to_leads" {
				got[state] = m.GetGauge().GetValue()
			}
		}
	}
	for s, n := range counts {
		if v, ok := got[string(s)]; !ok || v != float64(n) {
			t.Errorf("forcesync_records{state=%q} = %v (present %v); the store counts %d", s, v, ok, n)
		}
	}
	for _, s := range []forcesync.State{forcesync.StateDisabled, forcesync.StateDeprovisioned, forcesync.StateConverted} {
		if _, ok := got[string(s)]; !ok {
			t.Errorf("no forcesync_records series for state %q", s)
		}
	}
}
