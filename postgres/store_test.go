package postgres_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/internal/pgtest"
	"github.com/forcesync/forcesync/postgres"
	"github.com/forcesync/forcesync/storetest"
	"github.com/jackc/pgx/v5"
)

// freshSchema returns the DSN and a new schema for one test.
func freshSchema(t *testing.T) (string, string) {
	t.Helper()
	return pgtest.Schema(t, "test")
}

func open(t *testing.T, dsn, schema string, now func() time.Time) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), dsn, postgres.Options{Schema: schema, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, clk *storetest.Clock) forcesync.Store {
		dsn, schema := freshSchema(t)
		return open(t, dsn, schema, clk.Now)
	})
}

func TestPullConformance(t *testing.T) {
	storetest.RunPull(t, func(t *testing.T, clk *storetest.Clock) forcesync.Store {
		dsn, schema := freshSchema(t)
		return open(t, dsn, schema, clk.Now)
	})
}

// Two stores on one schema stand for two replicas: both claim at once and
// never get the same record, and whatever either accepted is pushed once.
func TestReplicasShareWork(t *testing.T) {
	dsn, schema := freshSchema(t)
	ctx := context.Background()
	var stores [3]*postgres.Store
	var wg sync.WaitGroup
	errs := make([]error, len(stores))
	for i := range stores {
		wg.Add(1)
		go func() { // replicas starting together migrate in turn
			defer wg.Done()
			stores[i], errs[i] = postgres.Open(ctx, dsn, postgres.Options{Schema: schema})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("replica %d: %v", i, err)
		}
		t.Cleanup(func() { stores[i].Close() })
	}
	const n = 600
	var accepted sync.WaitGroup
	for r := range 2 {
		accepted.Add(1)
		go func() {
			defer accepted.Done()
			for i := r; i < n; i += 2 * 20 {
				var cs []forcesync.Change
				for j := i; j < min(i+2*20, n); j += 2 {
					cs = append(cs, forcesync.Change{Source: "contact", Key: fmt.Sprintf("k%03d", j), Fields: map[string]any{"n": float64(j)}})
				}
				if _, err := stores[r].Accept(ctx, []string{"m"}, cs); err != nil {
					t.Errorf("accept: %v", err)
					return
				}
			}
		}()
	}
	// Each (key, seq) is one version of the outbox row: claimed twice would
	// mean two replicas pushing the same data.
	type claimKey struct {
		key string
		seq int64
	}
	var mu sync.Mutex
	claimed := map[claimKey]string{}
	keys := map[string]bool{}
	var dup atomic.Int64
	stop := make(chan struct{})
	var workers sync.WaitGroup
	for w := range len(stores) {
		workers.Add(1)
		go func() {
			defer workers.Done()
			owner := fmt.Sprintf("replica-%d", w)
			for {
				items, err := stores[w].Claim(ctx, forcesync.ClaimRequest{Mapping: "m", Owner: owner, Lease: time.Minute, Limit: 25})
				if err != nil {
					t.Errorf("claim: %v", err)
					return
				}
				outs := make([]forcesync.Outcome, 0, len(items))
				mu.Lock()
				for _, it := range items {
					ck := claimKey{it.Key, it.Seq}
					if prev, ok := claimed[ck]; ok {
						t.Errorf("%s seq %d claimed by %s and %s", it.Key, it.Seq, prev, owner)
						dup.Add(1)
					}
					claimed[ck] = owner
					keys[it.Key] = true
					outs = append(outs, forcesync.Outcome{Item: it, State: forcesync.StateSynced, SalesforceID: "00Q000000000001AAA"})
				}
				mu.Unlock()
				if len(outs) > 0 {
					if err := stores[w].Complete(ctx, owner, outs, nil); err != nil {
						t.Errorf("complete: %v", err)
						return
					}
					continue
				}
				select {
				case <-stop:
					return
				case <-time.After(5 * time.Millisecond):
				}
			}
		}()
	}
	accepted.Wait()
	for deadline := time.Now().Add(30 * time.Second); ; {
		counts, err := stores[0].Counts(ctx, "m")
		if err != nil {
			t.Fatal(err)
		}
		if counts[forcesync.StateSynced] == n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("counts %v, want %d synced", counts, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	close(stop)
	workers.Wait()
	if d := dup.Load(); d != 0 {
		t.Fatalf("%d items claimed twice with the same data", d)
	}
	if len(keys) != n {
		t.Fatalf("%d keys pushed, want %d", len(keys), n)
	}
	if b, _ := stores[1].Backlog(ctx, "m"); b != 0 {
		t.Fatalf("backlog %d", b)
	}
}

// A password in the DSN never shows in an error.
func TestOpenErrorHidesPassword(t *testing.T) {
	_, err := postgres.Open(context.Background(), "postgres://forcesync:s3cret-pw@127.0.0.1:1/none?connect_timeout=1", postgres.Options{})
	if err == nil {
		t.Fatal("opened a server that is not there")
	}
	if strings.Contains(err.Error(), "s3cret-pw") {
		t.Fatalf("error shows the password: %v", err)
	}
	if _, err := postgres.Open(context.Background(), "postgres://x@127.0.0.1/test", postgres.Options{Schema: "bad; DROP"}); err == nil || !strings.Contains(err.Error(), "schema") {
		t.Fatalf("bad schema name: %v", err)
	}
}

// Claims of one mapping at the same moment do not split the due rows: one
// gets the whole batch (a Bulk job's worth stays one job), the others wait
// for it and find nothing left.
func TestConcurrentClaimsTakeTurns(t *testing.T) {
	dsn, schema := freshSchema(t)
	ctx := context.Background()
	s := open(t, dsn, schema, nil)
	defer s.Close()
	var cs []forcesync.Change
	for i := range 10000 {
		cs = append(cs, forcesync.Change{Source: "contact", Key: fmt.Sprintf("k%05d", i), Fields: map[string]any{"i": float64(i)}})
	}
	if _, err := s.Accept(ctx, []string{"m"}, cs); err != nil {
		t.Fatal(err)
	}
	const claimers = 4
	got := make([]int, claimers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for w := range claimers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			items, err := s.Claim(ctx, forcesync.ClaimRequest{Mapping: "m", Owner: fmt.Sprintf("w%d", w), Lease: time.Minute, Limit: 10000})
			if err != nil {
				t.Errorf("claim: %v", err)
			}
			got[w] = len(items)
		}()
	}
	close(start)
	wg.Wait()
	slices.Sort(got)
	if fmt.Sprint(got) != "[0 0 0 10000]" {
		t.Fatalf("claims got %v, want one claim with all 10000", got)
	}
}

// TestUnreadableFields: a record stored with a number PostgreSQL keeps
// but Go cannot read back (1e400, accepted before the doors refused it)
// is claimed as unreadable, not a failed claim of its whole mapping.
func TestUnreadableFields(t *testing.T) {
	clk := storetest.NewClock()
	dsn, schema := freshSchema(t)
	s := open(t, dsn, schema, clk.Now)
	defer s.Close()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	table := pgx.Identifier{schema, "source_records"}.Sanitize()
	storetest.UnreadableFields(t, s, clk, func(t *testing.T, source, key, fields string) {
		tag, err := conn.Exec(ctx, `UPDATE `+table+` SET fields = $1 WHERE source = $2 AND key = $3`, fields, source, key)
		if err != nil || tag.RowsAffected() != 1 {
			t.Fatalf("rewrite %s/%s: %v rows, %v", source, key, tag.RowsAffected(), err)
		}
	})
}
