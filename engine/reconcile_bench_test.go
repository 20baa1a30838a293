package engine_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/engine"
)

// BenchmarkReconcile100k reconciles 100,000 bound records read through one
// Bulk API 2.0 query and reports the API calls it spent (issue 12 asks for
// at most 10). Run it with:
//
//	go test ./engine -run '^$' -bench BenchmarkReconcile100k -benchtime 1x
func BenchmarkReconcile100k(b *testing.B) {
	const n = 100_000
	ctx := context.Background()
	leads := leadByExtID()
	r := newRig(b, engine.Config{}, leads)
	r.emu.SetFinishBulkJobsAtOnce(true)
	cs := make([]forcesync.Change, 0, n)
	for i := range n {
		k := fmt.Sprint(i)
		cs = append(cs, contact(k, "L"+k, "e"+k+"@example.com", 60))
	}
	r.accept("contact", cs...)
	r.drain()
	pipes, err := engine.Compile(ctx, r.api, []forcesync.Mapping{leads})
	if err != nil {
		b.Fatal(err)
	}
	rc, _ := engine.NewReconciler(r.store, r.api, pipes)
	b.ResetTimer()
	var calls int
	for range b.N {
		run, fs, err := rc.Reconcile(ctx, leads.Name, engine.ReconcileOptions{})
		if err != nil || run.Checked != n || len(fs) != 0 || run.API != "bulk" {
			b.Fatalf("run %+v, %d findings, %v", run, len(fs), err)
		}
		calls = run.APICalls
	}
	b.ReportMetric(float64(calls), "calls/reconcile")
}
