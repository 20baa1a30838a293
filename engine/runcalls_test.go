package engine_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/emulator"
	"github.com/forcesync/forcesync/engine"
)

// TestRunAPICallsCountedPerBatch: with workers pushing batches at the same
// time, each run counts its own calls, so the runs add up to what
// Salesforce counted (main read a counter shared by every worker: its runs
// summed to more calls than were made).
func TestRunAPICallsCountedPerBatch(t *testing.T) {
	m := leadByExtID()
	m.BatchSize = 20
	r := newRig(t, engine.Config{BulkThreshold: -1, Workers: 4}, m)
	// Slow answers, so the batches overlap.
	if _, err := r.emu.AddFault(emulator.Fault{Type: emulator.FaultLatency, Method: "*", Path: "/services/data/*/composite/sobjects", Latency: 30 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	var cs []forcesync.Change
	for i := range 200 {
		cs = append(cs, contact(fmt.Sprint(i), "L", fmt.Sprintf("p%d@example.com", i), 60))
	}
	r.accept("contact", cs...)
	r.emu.ResetStats()
	r.drain()
	runs, err := r.store.Runs(context.Background(), 1000)
	if err != nil {
		t.Fatal(err)
	}
	sum := 0
	for _, run := range runs {
		sum += run.APICalls
	}
	got := int(r.emu.Stats()[emulator.KindCollections])
	if got != 10 || sum != got {
		t.Fatalf("runs count %d calls over %d runs; Salesforce counted %d (want 10)", sum, len(runs), got)
	}
}
