package engine_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/engine"
)

// BenchmarkReconcile100k reconciles 100,000 bound records, beside 20,000
// Leads forcesync did not write, read through one Bulk API 2.0 query scoped
// to the bound records, and reports the API calls the emulator counted
// (issue 12 asks for at most 10; more fails), and the calls it made to
// read the store (records, statuses, bindings). Run it with:
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
	others := make([]map[string]any, 20_000)
	for i := range others {
		others[i] = map[string]any{"LastName": fmt.Sprint("Other", i), "Company": "Elsewhere"}
	}
	if _, err := r.emu.Seed("Lead", others); err != nil {
		b.Fatal(err)
	}
	pipes, err := engine.Compile(ctx, r.api, []forcesync.Mapping{leads})
	if err != nil {
		b.Fatal(err)
	}
	counted := &countingStore{Store: r.store, Inspector: r.store}
	rc, _ := engine.NewReconciler(counted, r.api, pipes)
	b.ResetTimer()
	var calls, storeCalls int
	for range b.N {
		counted.reset()
		before := r.calls()
		run, fs, err := rc.Reconcile(ctx, leads.Name, engine.ReconcileOptions{})
		if err != nil || run.Checked != n || len(fs) != 0 || run.API != "bulk" {
			b.Fatalf("run %+v, %d findings, %v", run, len(fs), err)
		}
		calls = int(r.calls() - before)
		if calls != run.APICalls || calls > 10 {
			b.Fatalf("the emulator counted %d calls, the run %d; want equal and at most 10", calls, run.APICalls)
		}
		storeCalls = 0
		for _, c := range counted.counts() {
			storeCalls += c
		}
	}
	b.ReportMetric(float64(calls), "calls/reconcile")
	b.ReportMetric(float64(storeCalls), "store-calls/reconcile")
}
