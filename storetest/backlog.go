package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/forcesync/forcesync"
)

// BacklogStore is a store that FillBacklog can fill: one that also
// records a file push's rows.
type BacklogStore interface {
	forcesync.Store
	forcesync.PushRecorder
}

// FillBacklog gives s the backlog the stores' claim benchmarks claim from:
// n records of source "c", synced under mapping "m" and changed since, so
// queued for "m" and "n"; and, for mapping "r", 5,000 of them (at most n)
// changed again in posts of 100 keys drawn from the whole source, so a
// realtime claim's keys lie far apart.
func FillBacklog(tb testing.TB, s BacklogStore, n int) {
	tb.Helper()
	ctx := context.Background()
	const post = 10_000
	for lo := 0; lo < n; lo += post {
		hi := min(lo+post, n)
		pushed := make([]forcesync.PushedRecord, 0, hi-lo)
		changes := make([]forcesync.Change, 0, hi-lo)
		for i := lo; i < hi; i++ {
			key := fmt.Sprintf("k%07d", i)
			pushed = append(pushed, forcesync.PushedRecord{Key: key, Version: 1, Fields: `{"LastName":"Old"}`,
				State: forcesync.StateSynced, SalesforceID: fmt.Sprintf("00Q%015d", i), Fingerprint: fmt.Sprintf("%064x", i)})
			changes = append(changes, forcesync.Change{Source: "c", Key: key, Version: 2, Fields: map[string]any{
				"LastName": fmt.Sprintf("Last%d", i), "FirstName": "First", "Company": "Bench Inc",
				"Email": fmt.Sprintf("p%07d@example.com", i)}})
		}
		if err := s.RecordPushed(ctx, "c", "m", pushed, nil); err != nil {
			tb.Fatal(err)
		}
		if _, err := s.Accept(ctx, []string{"m", "n"}, changes); err != nil {
			tb.Fatal(err)
		}
	}
	perm := rand.New(rand.NewPCG(1, 2)).Perm(n)
	for lo := 0; lo+100 <= min(n, 5000); lo += 100 {
		changes := make([]forcesync.Change, 0, 100)
		for _, i := range perm[lo : lo+100] {
			changes = append(changes, forcesync.Change{Source: "c", Key: fmt.Sprintf("k%07d", i), Version: 3, Fields: map[string]any{"LastName": "Other"}})
		}
		if _, err := s.Accept(ctx, []string{"r"}, changes); err != nil {
			tb.Fatal(err)
		}
	}
}
