package pull_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/pull"
)

// crashAfter lets a number of CommitPull calls through, then fails every
// one, as a process killed in the middle of a pull would stop committing.
type crashAfter struct {
	pull.Store
	left int
}

var errCrash = errors.New("crashed")

func (c *crashAfter) CommitPull(ctx context.Context, pc *forcesync.PullCommit) error {
	if c.left <= 0 {
		return errCrash
	}
	c.left--
	return c.Store.CommitPull(ctx, pc)
}

func leadsPull() forcesync.Mapping {
	return forcesync.Mapping{Name: "leads_in", Source: "client", Object: "Lead", Direction: forcesync.Pull,
		Match: forcesync.MatchRule{Kind: forcesync.MatchExternalID, Field: "Forcesync_Key__c"},
		Pull:  &forcesync.PullConfig{Into: []string{"source", "changes"}},
		Fields: []forcesync.FieldRow{
			{Target: "LastName", SourceField: "last"},
			{Target: "Company", SourceField: "company"},
		}}
}

// TestTiesAcrossPagesAndRestart: 2,000 records sharing one SystemModstamp,
// read in pages of 200 and committed in batches of 150, with the puller
// "killed" after its fourth commit and restarted, then more records at the
// same instant: each is delivered exactly once, and an idle poll after
// costs one call.
func TestTiesAcrossPagesAndRestart(t *testing.T) {
	r := newRig(t, leadsPull())
	stamp := time.Date(2026, 12, 4, 9, 30, 0, 250e6, time.UTC)
	r.emu.FreezeStamp(stamp)
	seed := func(from, n int) {
		recs := make([]map[string]any, n)
		for i := range recs {
			recs[i] = map[string]any{"LastName": fmt.Sprintf("L%05d", from+i), "Company": "C"}
		}
		if _, err := r.emu.Seed("Lead", recs); err != nil {
			t.Fatal(err)
		}
	}
	seed(0, 2000)
	tune := func(c *pull.Config) { c.PageSize = 200; c.Batch = 150 }

	crash := &crashAfter{Store: r.store, left: 4}
	r.pstore = crash
	if _, err := r.puller(tune).Poll(context.Background()); !errors.Is(err, errCrash) {
		t.Fatalf("first run: %v, want the crash", err)
	}
	if n := len(r.changes(0)); n != 4*150 {
		t.Fatalf("before the crash %d delivered, want %d", n, 4*150)
	}
	r.pstore = r.store
	p := r.puller(tune) // the restart
	r.poll(p)
	seed(2000, 300) // late arrivals at the very same instant
	r.poll(p)
	evs := r.changes(0)
	seen := map[string]int{}
	for _, ev := range evs {
		seen[ev.SalesforceID]++
		if ev.Op != forcesync.PulledUpsert || ev.Key != "sf:"+ev.SalesforceID || !ev.Modstamp.Equal(stamp) {
			t.Fatalf("event %+v", ev)
		}
	}
	if len(seen) != 2300 || len(evs) != 2300 {
		t.Fatalf("delivered %d events of %d records, want 2300 each", len(evs), len(seen))
	}
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("%s delivered %d times", id, n)
		}
	}
	if rec := r.src("sf:" + evs[0].SalesforceID); rec.Fields["company"] != "C" {
		t.Fatalf("source record %+v", rec)
	}
	before := r.calls()
	if st := r.poll(p); st.Read != 0 {
		t.Fatalf("idle poll read %d", st.Read)
	}
	// 2,300 records still share the watermark's second: the idle poll reads
	// them again in pages of 200 to find nothing new. With Salesforce's
	// default 2,000-record pages it would be fewer; it is still no write.
	t.Logf("idle poll over 2,300 tied records: %d calls", r.calls()-before)
	r.emu.FreezeStamp(stamp.Add(2 * time.Second))
	if err := r.emu.UpdateAs("Lead", evs[7].SalesforceID, map[string]any{"Company": "D"}); err != nil {
		t.Fatal(err)
	}
	if st := r.poll(p); st.Changed != 1 || r.src("sf:" + evs[7].SalesforceID).Fields["company"] != "D" {
		t.Fatalf("edit after the tie: %+v", st)
	}
	before = r.calls()
	r.poll(p)
	if d := r.calls() - before; d != 1 {
		t.Fatalf("idle poll after the instant moved on cost %d calls, want 1", d)
	}
}
