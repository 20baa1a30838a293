package crashtest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/forcesync/forcesync/emulator"
	"github.com/forcesync/forcesync/examples/webhookreceiver"
	"github.com/forcesync/forcesync/internal/testrig"
	"github.com/forcesync/forcesync/sqlite"
)

const pullCrashConfig = `
server:
  api_token: ${TEST_API_TOKEN}
store:
  sqlite: fs.db
engine:
  leader_lease: 1s # a killed child's pull lease runs out soon: the next child pulls
` + testrig.EmulatorConnection + `
sources:
  - name: app
mappings:
  - name: leads_in
    source: app
    object: Lead
    direction: pull
    match:
      external_id: Forcesync_Key__c
    pull:
      poll_interval: 20ms
      into: [source, changes, webhook]
      webhook:
        url: %s
        secret_env: TEST_WEBHOOK_SECRET
    fields:
      - target: LastName
        source: last_name
      - target: Company
        source: company
`

// TestCrashDuringPull: serve pulls 1,500 Leads sharing one SystemModstamp
// (and sales-rep edits made between kills) and is killed with SIGKILL at
// random points, over and over. After the last restart every change is
// in the store's feed exactly once, and the webhook receiver got each one
// at least once, always under the same event id (its de-duplication key).
func TestCrashDuringPull(t *testing.T) {
	emu, err := emulator.New(emulator.Config{})
	if err != nil {
		t.Fatal(err)
	}
	sf := httptest.NewServer(emu)
	t.Cleanup(sf.Close)
	stamp := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	emu.FreezeStamp(stamp)
	recs := make([]map[string]any, 1500)
	for i := range recs {
		recs[i] = map[string]any{"LastName": fmt.Sprintf("P%05d", i), "Company": "C"}
	}
	ids, err := emu.Seed("Lead", recs)
	if err != nil {
		t.Fatal(err)
	}
	emu.ThawStamp()

	const secret = "whsec_Y3Jhc2gtdGVzdC1zZWNyZXQ="
	var mu sync.Mutex
	got := map[string]map[string]bool{} // Salesforce Id -> event ids applied
	deliveries := 0
	recv := httptest.NewServer(webhookreceiver.Handler(secret, func(ev webhookreceiver.Event) error {
		mu.Lock()
		defer mu.Unlock()
		deliveries++
		key := ev.SalesforceID + "/" + fmt.Sprint(ev.Fields["company"])
		if got[key] == nil {
			got[key] = map[string]bool{}
		}
		got[key][ev.ID] = true
		return nil
	}))
	t.Cleanup(recv.Close)

	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "forcesync.yaml")
	if err := os.WriteFile(cfgPath, []byte(fmt.Sprintf(pullCrashConfig, sf.URL, recv.URL)), 0o600); err != nil {
		t.Fatal(err)
	}
	logf, err := os.Create(filepath.Join(dir, "serve.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	env := []string{"TEST_WEBHOOK_SECRET=" + secret}
	rnd := rand.New(rand.NewPCG(1, 2))
	edited := map[string]string{} // Id -> its Company now
	for k := range 8 {
		c := startChild(t, cfgPath, logf, env)
		// The killed child's pull lease runs out before this one polls:
		// wait for it to lead, let it get somewhere, then kill it.
		leads(t, logf.Name(), k+1)
		time.Sleep(time.Duration(rnd.IntN(500)) * time.Millisecond)
		c.kill(t)
		// A sales rep edits a few records between runs.
		for range 5 {
			id := ids[rnd.IntN(len(ids))]
			if edited[id] != "" {
				continue
			}
			edited[id] = fmt.Sprintf("edited-%d", k)
			if err := emu.UpdateAs("Lead", id, map[string]any{"Company": edited[id]}); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Every record's final version must arrive (an edit made before the
	// record's first pull replaces the seeded version: both are fine).
	final := map[string]bool{}
	for _, id := range ids {
		company := "C"
		if e := edited[id]; e != "" {
			company = e
		}
		final[id+"/"+company] = true
	}
	c := startChild(t, cfgPath, logf, env)
	deadline := time.Now().Add(3 * time.Minute)
	for {
		mu.Lock()
		missing := 0
		for k := range final {
			if got[k] == nil {
				missing++
			}
		}
		mu.Unlock()
		if missing == 0 {
			break
		}
		if time.Now().After(deadline) {
			c.kill(t)
			t.Fatalf("webhook misses %d of %d final versions; log:\n%s", missing, len(final), tail(logf.Name()))
		}
		time.Sleep(20 * time.Millisecond)
	}
	c.kill(t)

	mu.Lock()
	for key, evs := range got {
		if len(evs) != 1 {
			t.Errorf("%s delivered under %d event ids: %v", key, len(evs), evs)
		}
	}
	t.Logf("%d changes, %d deliveries applied (repeats after kills are dropped by event id)", len(got), deliveries)
	mu.Unlock()

	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "fs.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	evs, err := st.Changes(context.Background(), 0, 100000, nil)
	if err != nil {
		t.Fatal(err)
	}
	per := map[string]int{}
	for _, ev := range evs {
		per[ev.SalesforceID+"/"+fmt.Sprint(ev.Fields["company"])]++
	}
	for k, n := range per {
		if n != 1 {
			t.Fatalf("%s in the feed %d times", k, n)
		}
	}
	for k := range final {
		if per[k] != 1 {
			t.Fatalf("final version %s not in the feed", k)
		}
	}
	for k := range got {
		if per[k] != 1 {
			t.Fatalf("webhook got %s, which the feed does not hold", k)
		}
	}
}

// leads waits until the serve log shows n grants of the pull lease (one
// per child so far).
func leads(t *testing.T, log string, n int) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		b, _ := os.ReadFile(log)
		got := 0
		for _, line := range strings.Split(string(b), "\n") {
			if strings.Contains(line, `"event":"lease.acquired"`) && strings.Contains(line, `"lease":"pull:leads_in"`) {
				got++
			}
		}
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("child %d never led the pull; log:\n%s", n, tail(log))
		}
		time.Sleep(20 * time.Millisecond)
	}
}
