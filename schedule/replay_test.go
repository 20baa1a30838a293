package schedule_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/emulator"
	"github.com/forcesync/forcesync/engine"
	"github.com/forcesync/forcesync/salesforce"
	"github.com/forcesync/forcesync/schedule"
	"github.com/forcesync/forcesync/sqlite"
)

func leadsMapping(company string) forcesync.Mapping {
	return forcesync.Mapping{Name: "leads", Source: "client", Object: "Lead", Direction: forcesync.Push,
		Match: forcesync.MatchRule{Kind: forcesync.MatchExternalID, Field: "Forcesync_Key__c"},
		Fields: []forcesync.FieldRow{
			{Target: "LastName", SourceField: "last"},
			{Target: "Company", Constant: company, HasConstant: true},
		}}
}

// TestReplayAndResync: a scheduled replay of a synced source costs no API
// call; after the mapping changed it pushes the records whose payload
// changed; drift made in Salesforce is left to a resync, which pushes
// every record again.
func TestReplayAndResync(t *testing.T) {
	ctx := context.Background()
	emu, err := emulator.New(emulator.Config{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	api := &engine.SalesforceAPI{}
	client, err := salesforce.NewClient(ctx, salesforce.Config{LoginURL: srv.URL,
		Auth: salesforce.Password{ClientID: "forcesync-demo", ClientSecret: "forcesync-demo-secret",
			Username: "admin@forcesync.local", Password: "forcesync"},
		Hooks: salesforce.Hooks{OnCall: api.CountCall}})
	if err != nil {
		t.Fatal(err)
	}
	api.Client = client
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "fs.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	newEngine := func(m forcesync.Mapping) *engine.Engine {
		e, err := engine.New(ctx, st, api, []forcesync.Mapping{m}, engine.Config{Workers: 1})
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	m := leadsMapping("Acme")
	eng := newEngine(m)
	const n = 50
	var cs []forcesync.Change
	for i := range n {
		cs = append(cs, forcesync.Change{Source: "client", Key: fmt.Sprintf("k%02d", i), Op: forcesync.OpUpsert, Fields: map[string]any{"last": fmt.Sprintf("L%02d", i)}})
	}
	if _, err := st.Accept(ctx, eng.MappingsFor("client"), cs); err != nil {
		t.Fatal(err)
	}
	drain := func(e *engine.Engine) {
		t.Helper()
		if _, err := e.Drain(ctx); err != nil {
			t.Fatal(err)
		}
	}
	drain(eng)
	calls := func() int64 {
		var c int64
		for k, v := range emu.Stats() {
			if k != emulator.KindOAuth {
				c += v
			}
		}
		return c
	}
	leads := func() map[string][2]string {
		recs, err := client.QueryRecords(ctx, "SELECT Forcesync_Key__c, LastName, Company FROM Lead")
		if err != nil {
			t.Fatal(err)
		}
		out := map[string][2]string{}
		for _, r := range recs {
			out[r["Forcesync_Key__c"].(string)] = [2]string{r["LastName"].(string), r["Company"].(string)}
		}
		return out
	}
	replay := func(m forcesync.Mapping, forced bool) {
		t.Helper()
		if err := schedule.ReplayJob(st, m, forced, nil, nil)(ctx); err != nil {
			t.Fatal(err)
		}
	}

	// Nothing changed: the replay queues all and pushes nothing.
	emu.ResetStats()
	replay(m, false)
	if b, _ := st.Backlog(ctx, "leads"); b != n {
		t.Fatalf("replay queued %d, want %d", b, n)
	}
	drain(eng)
	if c := calls(); c != 0 {
		t.Fatalf("replay of an unchanged source made %d API calls (%v), want 0", c, emu.Stats())
	}
	if b, _ := st.Backlog(ctx, "leads"); b != 0 {
		t.Fatalf("backlog %d after the replay", b)
	}

	// The mapping changed (a new constant): engine.New requeues only held
	// records; the replay brings every record to the new mapping.
	m2 := leadsMapping("Globex")
	eng2 := newEngine(m2)
	emu.ResetStats()
	replay(m2, false)
	drain(eng2)
	if c := emu.Stats()[emulator.KindCollections]; c != 1 {
		t.Fatalf("replay after the mapping change: %d Collections calls (%v), want 1 for %d records", c, emu.Stats(), n)
	}
	for k, v := range leads() {
		if v[1] != "Globex" {
			t.Fatalf("lead %s: %v after the replay", k, v)
		}
	}

	// Drift in Salesforce: a replay does not see it (the payload equals
	// the last push); a resync pushes every record again and repairs it.
	b, err := st.Binding(ctx, "leads", "k07")
	if err != nil || b == nil {
		t.Fatal(b, err)
	}
	if err := emu.UpdateAs("Lead", b.SalesforceID, map[string]any{"LastName": "DRIFTED"}); err != nil {
		t.Fatal(err)
	}
	emu.ResetStats()
	replay(m2, false)
	drain(eng2)
	if c := calls(); c != 0 || leads()["k07"][0] != "DRIFTED" {
		t.Fatalf("replay: %d calls, k07 %v", c, leads()["k07"])
	}
	emu.ResetStats()
	replay(m2, true)
	drain(eng2)
	if c := emu.Stats()[emulator.KindCollections]; c != 1 {
		t.Fatalf("resync: %d Collections calls (%v), want 1", c, emu.Stats())
	}
	if got := leads()["k07"]; got[0] != "L07" {
		t.Fatalf("k07 after the resync: %v", got)
	}
}
