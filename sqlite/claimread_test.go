package sqlite

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/google/go-cmp/cmp"
)

// TestClaimRangesReadAsLookups: reading a claim by key ranges returns what
// the lookup join returns, item for item in the order of the keys, with
// records, bindings, intents and held fingerprints, for keys spread thinly
// over their source (the walk stops early and the rest is looked up), keys
// of two sources, keys in no order, keys with no outbox row and subsets.
func TestClaimRangesReadAsLookups(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	s := openAt(t, filepath.Join(t.TempDir(), "fs.db"), &now)
	defer s.Close()
	const n = 6000
	key := func(i int) string { return fmt.Sprintf("k%05d", i) }
	// Every record of source c; mapping m holds every third one (c's
	// range holds three times its keys) and every seventh of source d.
	var pushed []forcesync.PushedRecord
	var mine, others, ofD []forcesync.Change
	for i := range n {
		c := forcesync.Change{Source: "c", Key: key(i), Version: 2, Fields: map[string]any{"i": float64(i), "s": fmt.Sprint("v", i)}}
		if i%5 == 0 {
			c.Priority = forcesync.PriorityBackfill
		}
		if i%3 == 0 {
			mine = append(mine, c)
			if i%4 == 0 {
				pushed = append(pushed, forcesync.PushedRecord{Key: key(i), Version: 1, Fields: `{}`, State: forcesync.StateSynced,
					SalesforceID: fmt.Sprintf("00Q%015d", i), Fingerprint: fmt.Sprint("fp", i)})
			}
		} else {
			others = append(others, c)
		}
		if i%7 == 0 {
			ofD = append(ofD, forcesync.Change{Source: "d", Key: fmt.Sprintf("d%05d", i), Version: 1, Op: forcesync.OpDelete})
		}
	}
	if err := s.RecordPushed(ctx, "c", "m", pushed, nil); err != nil {
		t.Fatal(err)
	}
	for _, a := range []struct {
		mappings []string
		changes  []forcesync.Change
	}{{[]string{"m", "x"}, mine}, {[]string{"x"}, others}, {[]string{"m"}, ofD}} {
		for lo := 0; lo < len(a.changes); lo += 1000 {
			now = now.Add(time.Millisecond)
			if _, err := s.Accept(ctx, a.mappings, a.changes[lo:min(lo+1000, len(a.changes))]); err != nil {
				t.Fatal(err)
			}
		}
	}
	var intents []forcesync.Intent
	for i := 0; i < n; i += 33 {
		intents = append(intents, forcesync.Intent{Key: key(i), Match: map[string]string{"Email": fmt.Sprint(i, "@example.com")}, At: now})
	}
	if err := s.RecordIntents(ctx, "m", intents); err != nil {
		t.Fatal(err)
	}
	tx, err := s.begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE statuses SET held_fp = 'held' || key WHERE mapping = 'm' AND key LIKE '%9'`); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	leased, err := s.lease(ctx, forcesync.ClaimRequest{Mapping: "m", Owner: "w", Limit: n}, ms(now), ms(now.Add(time.Minute)))
	if err != nil {
		t.Fatal(err)
	}
	if want := len(mine) + len(ofD); len(leased) != want {
		t.Fatalf("leased %d, want %d", len(leased), want)
	}
	shuffled := slices.Clone(leased)
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	var strided []string
	for i := 0; i < len(leased); i += 5 {
		strided = append(strided, leased[i])
	}
	withStrangers := append([]string{"k99999", key(1), "a"}, leased[:1500]...) // no outbox row under m for the first three
	for name, keys := range map[string][]string{"leased": leased, "shuffled": shuffled, "strided": strided, "strangers": withStrangers, "one": leased[:1]} {
		want, err := s.claimLookups(ctx, "m", keys)
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.claimRanges(ctx, "m", keys)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s (%d keys): ranges differ from lookups (-lookups +ranges):\n%s", name, len(keys), diff)
		}
		var bound, held, intent, ofd int
		for _, it := range got {
			if it.Binding != nil {
				bound++
			}
			if it.HeldFingerprint != "" {
				held++
			}
			if it.Intent != nil {
				intent++
			}
			if it.Source == "d" {
				ofd++
			}
		}
		if name == "leased" && (len(got) != len(keys) || bound == 0 || held == 0 || intent == 0 || ofd == 0) {
			t.Errorf("%s: %d items of %d keys, %d bound, %d held, %d with intents, %d of source d: the data misses a case",
				name, len(got), len(keys), bound, held, intent, ofd)
		}
	}
}
