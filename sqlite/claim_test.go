package sqlite

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/forcesync/forcesync"
)

func openAt(t *testing.T, path string, now *time.Time) *Store {
	t.Helper()
	s, err := Open(context.Background(), path, Options{Now: func() time.Time { return *now }})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func claim(t *testing.T, s *Store, owner string, now time.Time) []forcesync.WorkItem {
	t.Helper()
	items, err := s.Claim(context.Background(), forcesync.ClaimRequest{Mapping: "m", Owner: owner, Lease: time.Minute, Limit: 10, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return items
}

// TestClaimReadsAfterLease: a claim leases rows and then reads them. A
// newer version accepted in between is what the claim returns, with the
// seq that goes with it, so completing it settles the row for good.
func TestClaimReadsAfterLease(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	s := openAt(t, filepath.Join(t.TempDir(), "fs.db"), &now)
	defer s.Close()
	accept := func(v int64) {
		t.Helper()
		if _, err := s.Accept(ctx, []string{"m"}, []forcesync.Change{{Source: "c", Key: "k", Version: v, Fields: map[string]any{"v": v}}}); err != nil {
			t.Fatal(err)
		}
	}
	accept(1)
	s.afterLease = func() {
		s.afterLease = nil
		accept(2)
	}
	items := claim(t, s, "a", now)
	if len(items) != 1 || items[0].Version != 2 || items[0].Fields["v"] != float64(2) {
		t.Fatalf("claimed %+v, want version 2", items)
	}
	if err := s.Complete(ctx, "a", []forcesync.Outcome{{Item: items[0], State: forcesync.StateSynced, SalesforceID: "00Q000000000001AAA"}}, nil); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.Backlog(ctx, "m"); n != 0 {
		t.Fatalf("backlog %d after completing the newest version, want 0", n)
	}
	if items := claim(t, s, "b", now); len(items) != 0 {
		t.Fatalf("claimed again: %+v", items)
	}
}

// TestCrashedLeaseFreedAfterReopen: a process that dies holding a lease
// leaves it in the file; a new process gets the rows back once the lease
// has run out, not before.
func TestCrashedLeaseFreedAfterReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "fs.db")
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	s := openAt(t, path, &now)
	if _, err := s.Accept(ctx, []string{"m"}, []forcesync.Change{{Source: "c", Key: "k", Fields: map[string]any{}}}); err != nil {
		t.Fatal(err)
	}
	if items := claim(t, s, "dead", now); len(items) != 1 {
		t.Fatalf("first claim: %d items", len(items))
	}
	s.Close() // the process dies with the lease held

	s = openAt(t, path, &now)
	defer s.Close()
	if items := claim(t, s, "new", now.Add(30*time.Second)); len(items) != 0 {
		t.Fatalf("claimed under a live lease: %+v", items)
	}
	if items := claim(t, s, "new", now.Add(61*time.Second)); len(items) != 1 || items[0].Key != "k" {
		t.Fatalf("after the lease ran out: %+v", items)
	}
}

func TestEachPiece(t *testing.T) {
	for _, n := range []int{0, 1, 7, 256, 257, 1000, 10000} {
		covered, shapes := 0, map[int]bool{}
		if err := eachPiece(n, func(lo, hi int) error {
			if lo != covered {
				t.Fatalf("n=%d: piece starts at %d, want %d", n, lo, covered)
			}
			size := hi - lo
			if size <= 0 || size > maxRows || size&(size-1) != 0 {
				t.Fatalf("n=%d: piece of %d rows", n, size)
			}
			shapes[size] = true
			covered = hi
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if covered != n || len(shapes) > 9 {
			t.Fatalf("n=%d: covered %d in %d shapes", n, covered, len(shapes))
		}
	}
}
