package salesforce

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/forcesync/forcesync/emulator"
)

func TestPaceEstimates(t *testing.T) {
	var p pace
	if _, ok := p.firstWait(100); ok {
		t.Fatal("estimate before any job completed")
	}
	p.learn(1000, 10*time.Second) // 10ms a record
	if d, ok := p.firstWait(2000); !ok || d != 12*time.Second {
		t.Fatalf("first wait for 2000 records: %v %v, want 12s (60%% of 20s)", d, ok)
	}
	p.learn(1000, 2*time.Second) // faster now: the newest job weighs half
	if d, _ := p.firstWait(1000); d.Round(time.Millisecond) != 3600*time.Millisecond {
		t.Fatalf("first wait after a faster job: %v, want 3.6s", d)
	}
}

// TestJobPollsPlan walks the polls of one job: no progress first (a job
// can wait in a queue), then progress measured from the last idle poll,
// then between two polls.
func TestJobPollsPlan(t *testing.T) {
	j := jobPolls{n: 1000}
	if d := j.next(0, 100*time.Millisecond); d != 50*time.Millisecond {
		t.Fatalf("no progress after 100ms: wait %v, want 50ms (half the time so far)", d)
	}
	// 250 done 100ms after the idle poll: 750 to go at that rate is 300ms;
	// the rate is underestimated (processing started after the idle poll),
	// so it comes back at 60% of that.
	if d := j.next(250, 200*time.Millisecond); d != 180*time.Millisecond {
		t.Fatalf("a quarter done 100ms after the idle poll: wait %v, want 180ms", d)
	}
	// 450 more in 150ms: 300 to go take 100ms, and the job a little
	// longer to complete.
	if d := j.next(700, 350*time.Millisecond); d != 130*time.Millisecond {
		t.Fatalf("700 done: wait %v, want 130ms (the rate between the two polls, plus 10%% and 20ms)", d)
	}
	if d := j.next(1000, 450*time.Millisecond); d != 0 {
		t.Fatalf("all processed, results not yet written: wait %v, want none", d)
	}

	// A large job is not polled again before the fastest org could finish
	// it: the emulator processes 100,000 records in more than 400ms.
	big := jobPolls{n: 100_000}
	if d := big.next(0, time.Millisecond); d != 399*time.Millisecond {
		t.Fatalf("100,000 records, nothing done 1ms after the close: wait %v, want 399ms", d)
	}
}

// TestBulkIngestPacesFirstPoll checks that once the client knows the org's
// pace, an ingest job is polled first when it should be done, and just once
// when it is.
func TestBulkIngestPacesFirstPoll(t *testing.T) {
	o := newBulkOrg(t)
	o.emu.SetFinishBulkJobsAtOnce(true)
	ctx := context.Background()
	var waits []time.Duration
	b := o.bulk(BulkConfig{Sleep: func(ctx context.Context, d time.Duration) error {
		waits = append(waits, d)
		return ctx.Err()
	}})
	csv := "LastName,Company\r\n" + strings.Repeat("A,X\r\n", 100)

	// Nothing learned: the first poll comes at once, and finds it done.
	polls := o.emu.Stats()[emulator.KindBulk]
	if _, err := b.IngestCSV(ctx, IngestJob{Object: "Lead", Operation: BulkInsert}, strings.NewReader(csv)); err != nil {
		t.Fatal(err)
	}
	if len(waits) != 0 {
		t.Fatalf("waits before the first poll with nothing learned: %v", waits)
	}
	first := o.emu.Stats()[emulator.KindBulk] - polls

	// Teach it 10ms a record: 100 records should take a second, so the
	// first poll waits about 60% of that.
	var learned []time.Duration
	o.c.cfg.Hooks.OnBulkPace = func(d time.Duration) { learned = append(learned, d) }
	o.c.SeedBulkPace(10 * time.Millisecond)
	polls = o.emu.Stats()[emulator.KindBulk]
	if _, err := b.IngestCSV(ctx, IngestJob{Object: "Lead", Operation: BulkInsert}, strings.NewReader(csv)); err != nil {
		t.Fatal(err)
	}
	if len(waits) != 1 || waits[0] <= 500*time.Millisecond || waits[0] > 600*time.Millisecond {
		t.Fatalf("waits %v, want one of about 600ms", waits)
	}
	if got := o.emu.Stats()[emulator.KindBulk] - polls; got != first {
		t.Fatalf("paced ingest made %d calls, unpaced %d: want the same (one status poll)", got, first)
	}
	// The job took far less than a second: the pace got faster.
	if d, _ := o.c.bulkPace.firstWait(100); d >= 600*time.Millisecond {
		t.Fatalf("pace not learned: next first wait %v", d)
	}
	if len(learned) != 1 || learned[0] != o.c.BulkPace() || learned[0] >= 10*time.Millisecond {
		t.Fatalf("OnBulkPace heard %v, want once the faster pace in force (%v)", learned, o.c.BulkPace())
	}
}
