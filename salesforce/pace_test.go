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
	if d := nextWait(1000, 250, 100*time.Millisecond); d != 300*time.Millisecond {
		t.Fatalf("a quarter done after 100ms: wait %v, want 300ms", d)
	}
	if d := nextWait(1000, 0, 100*time.Millisecond); d != 50*time.Millisecond {
		t.Fatalf("no progress after 100ms: wait %v, want 50ms", d)
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
	o.c.bulkPace.mu.Lock()
	o.c.bulkPace.per = 0.010
	o.c.bulkPace.mu.Unlock()
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
}
