package bench

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/emulator"
	"github.com/forcesync/forcesync/engine"
	"github.com/forcesync/forcesync/internal/pgtest"
	"github.com/forcesync/forcesync/postgres"
	"github.com/forcesync/forcesync/salesforce"
)

// BenchmarkServeBackfill counts the API calls `serve` spends on a backfill
// of 50,000 records on PostgreSQL, with 1, 2 and 3 replicas of the engine
// sharing one store (each with its own client and store handle, as separate
// processes would have) and 1 or 4 mappings (the records split evenly among
// them). The records arrive as a backfill (priority backfill, like
// `?priority=backfill` imports) in posts of 1,000 while the replicas run
// ("fed"), or are all queued before the replicas start ("queued"). The
// floor is one Bulk job per mapping: create, upload, close, one poll,
// successful results = 5 calls, plus one describe per replica and mapping.
//
//	go test -run '^$' -bench ServeBackfill -benchtime 1x ./bench
func BenchmarkServeBackfill(b *testing.B) {
	const n = 50000
	for _, feed := range []string{"queued", "fed"} {
		for _, maps := range []int{1, 4} {
			for _, replicas := range []int{1, 2, 3} {
				b.Run(fmt.Sprintf("%s/mappings=%d/replicas=%d", feed, maps, replicas), func(b *testing.B) {
					var calls, bulk, coll int64
					for range b.N {
						c, bu, co := runBackfill(b, n, maps, replicas, feed == "fed")
						calls, bulk, coll = calls+c, bulk+bu, coll+co
					}
					b.ReportMetric(float64(calls)/float64(b.N), "calls")
					b.ReportMetric(float64(bulk)/float64(b.N), "bulk-batches")
					b.ReportMetric(float64(coll)/float64(b.N), "collections-batches")
				})
			}
		}
	}
}

// backfillMappings returns maps External ID mappings, each of its own
// source, alternating Lead and Contact.
func backfillMappings(maps int) []forcesync.Mapping {
	var out []forcesync.Mapping
	for i := range maps {
		m := forcesync.Mapping{Name: fmt.Sprintf("bf%d", i), Source: fmt.Sprintf("src%d", i), Object: "Lead",
			Match: forcesync.MatchRule{Kind: forcesync.MatchExternalID, Field: "Forcesync_Key__c"},
			Fields: []forcesync.FieldRow{
				{Target: "LastName", SourceField: "last_name"},
				{Target: "FirstName", SourceField: "first_name"},
				{Target: "Email", SourceField: "email"},
				{Target: "Company", SourceField: "company"},
			}}
		if i%2 == 1 {
			m.Object = "Contact"
			m.Fields = m.Fields[:3]
		}
		out = append(out, m)
	}
	return out
}

// runBackfill runs one backfill and returns the emulator's API calls (OAuth
// aside, describes included) and the number of batches sent through Bulk
// and through Collections.
func runBackfill(b *testing.B, n, maps, replicas int, fed bool) (calls, bulk, coll int64) {
	b.StopTimer()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if pgtest.DSN() == "" {
		b.Skipf("no PostgreSQL (%s)", pgtest.Env)
	}
	dsn, schema := pgtest.Schema(b, "backfill")
	emu, err := emulator.New(emulator.Config{})
	if err != nil {
		b.Fatal(err)
	}
	emu.SetFinishBulkJobsAtOnce(true)
	sf := httptest.NewServer(emu)
	defer sf.Close()
	ms := backfillMappings(maps)
	type replica struct {
		store forcesync.Store
		eng   *engine.Engine
	}
	reps := make([]replica, replicas)
	for i := range reps {
		st, err := postgres.Open(ctx, dsn, postgres.Options{Schema: schema})
		if err != nil {
			b.Fatal(err)
		}
		defer st.Close()
		api := &engine.SalesforceAPI{}
		api.Client, err = salesforce.NewClient(ctx, salesforce.Config{LoginURL: sf.URL,
			Auth: salesforce.Password{ClientID: "forcesync-demo", ClientSecret: "forcesync-demo-secret",
				Username: "admin@forcesync.local", Password: "forcesync"},
			Hooks: salesforce.Hooks{OnCall: api.CountCall}})
		if err != nil {
			b.Fatal(err)
		}
		// serve's defaults: 15 s leases, 4 workers, Bulk from 2,000.
		eng, err := engine.New(ctx, st, api, ms, engine.Config{Owner: fmt.Sprintf("replica%d", i),
			Lease: 15 * time.Second, Workers: 4, SchemaEvery: -1, Logger: benchLogger()})
		if err != nil {
			b.Fatal(err)
		}
		reps[i] = replica{st, eng}
	}
	per := n / maps
	chunk := func(m, lo, hi int) []forcesync.Change {
		cs := make([]forcesync.Change, 0, hi-lo)
		for j := lo; j < hi; j++ {
			c := change(j, 1)
			c.Source, c.Key = ms[m].Source, fmt.Sprintf("m%d-%s", m, c.Key)
			c.Priority = forcesync.PriorityBackfill
			cs = append(cs, c)
		}
		return cs
	}
	feed := func() {
		// Posts of 1,000 records, the mappings' sources taking turns; each
		// post wakes the replica that took it, as the ingest API does.
		post := 0
		for lo := 0; lo < per; lo += 1000 {
			for m := range ms {
				r := reps[post%len(reps)]
				post++
				if _, err := r.store.Accept(ctx, []string{ms[m].Name}, chunk(m, lo, min(lo+1000, per))); err != nil {
					b.Error(err)
					return
				}
				r.eng.Notify()
			}
		}
	}
	if !fed {
		feed()
	}
	b.StartTimer()
	var wg sync.WaitGroup
	for _, r := range reps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.eng.Run(ctx)
		}()
	}
	if fed {
		feed()
	}
	for m := range ms {
		for {
			c, err := reps[0].store.Counts(ctx, ms[m].Name)
			if err != nil {
				b.Fatal(err)
			}
			if c[forcesync.StateSynced] >= per {
				break
			}
			if c[forcesync.StateHeld] > 0 {
				b.Fatalf("mapping %s: states %v", ms[m].Name, c)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	b.StopTimer()
	cancel()
	wg.Wait()
	runs, err := reps[0].store.Runs(context.Background(), 1_000_000)
	if err != nil {
		b.Fatal(err)
	}
	for _, r := range runs {
		if r.API == "bulk" {
			bulk++
		} else {
			coll++
		}
	}
	return emuCalls(emu), bulk, coll
}

func emuCalls(emu *emulator.Emulator) int64 {
	var n int64
	for k, v := range emu.Stats() {
		if k != emulator.KindOAuth {
			n += v
		}
	}
	return n
}

func benchLogger() *slog.Logger {
	if os.Getenv("FORCESYNC_BENCH_LOG") == "" {
		return nil
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
