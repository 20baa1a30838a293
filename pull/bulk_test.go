package pull_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/forcesync/forcesync/emulator"
	"github.com/forcesync/forcesync/pull"
)

// TestFirstLoadThroughBulk: the first pull of an object past the
// threshold reads it with one Bulk API 2.0 query job; a crash in the
// middle resumes from the watermark with query pages; every record is
// delivered once.
func TestFirstLoadThroughBulk(t *testing.T) {
	r := newRig(t, leadsPull())
	r.emu.SetFinishBulkJobsAtOnce(true)
	recs := make([]map[string]any, 900)
	for i := range recs {
		recs[i] = map[string]any{"LastName": fmt.Sprintf("B%04d", i), "Company": "C"}
	}
	if _, err := r.emu.Seed("Lead", recs); err != nil {
		t.Fatal(err)
	}
	tune := func(c *pull.Config) { c.BulkThreshold = 500; c.Batch = 150; c.PageSize = 200 }
	r.emu.ResetStats()
	r.pstore = &crashAfter{Store: r.store, left: 3}
	if _, err := r.puller(tune).Poll(context.Background()); !errors.Is(err, errCrash) {
		t.Fatalf("first load: %v, want the crash", err)
	}
	if n := r.emu.Stats()[emulator.KindBulk]; n == 0 {
		t.Fatalf("first load of 900 records made no Bulk call: %v", r.emu.Stats())
	}
	if n := len(r.changes(0)); n != 450 {
		t.Fatalf("before the crash %d delivered, want 450", n)
	}
	r.pstore = r.store
	r.emu.ResetStats()
	r.poll(r.puller(tune))
	if n := r.emu.Stats()[emulator.KindBulk]; n != 0 {
		t.Fatalf("a resumed load used Bulk again: %v", r.emu.Stats())
	}
	seen := map[string]int{}
	for _, ev := range r.changes(0) {
		seen[ev.SalesforceID]++
	}
	if len(seen) != 900 {
		t.Fatalf("%d records delivered, want 900", len(seen))
	}
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("%s delivered %d times", id, n)
		}
	}
}
