package engine_test

import (
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/emulator"
	"github.com/forcesync/forcesync/engine"
	"github.com/forcesync/forcesync/internal/testrig"
)

// newRigEmu is newRig with an emulator config of the test's own.
func newRigEmu(t *testing.T, emuCfg emulator.Config, cfg engine.Config, mappings ...forcesync.Mapping) *rig {
	t.Helper()
	return wrapRig(testrig.New(t, testrig.Options{Emulator: emuCfg, Engine: cfg}, mappings...))
}

func leadsByKey(r *rig, field string) map[string]string {
	out := map[string]string{}
	for _, rec := range r.query("SELECT " + field + ", LastName FROM Lead") {
		out[rec[field].(string)] = rec["LastName"].(string)
	}
	return out
}

// TestKeysDifferingOnlyInCase checks that two keys Salesforce's
// case-insensitive External ID field cannot tell apart are not merged into
// one Lead with both reported synced: in one batch (Collections and Bulk)
// the first is pushed and the second held with KEY_COLLISION naming the
// first; a later key colliding with a bound one is held too, without a
// call; a case-sensitive field keeps them apart and pushes both.
func TestKeysDifferingOnlyInCase(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  engine.Config
	}{
		{"collections", engine.Config{BulkThreshold: -1}},
		{"bulk", engine.Config{BulkThreshold: 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := leadByExtID()
			m.Filter = ""
			r := newRig(t, tc.cfg, m)
			r.accept("contact", contact("sbulk-00005", "Lower", "l@example.com", 60), contact("SBULK-00005", "Upper", "u@example.com", 60),
				contact("sbulk-00006", "Plain", "p@example.com", 60))
			r.drain()
			// Accepted together, the first in key order goes ahead.
			if got := leadsByKey(r, "Forcesync_Key__c"); len(got) != 2 || got["SBULK-00005"] != "Upper" || got["sbulk-00006"] != "Plain" {
				t.Fatalf("leads %v", got)
			}
			if st := r.status("contact", "SBULK-00005"); st.State != forcesync.StateSynced {
				t.Fatalf("first key: %+v", st)
			}
			st := r.status("contact", "sbulk-00005")
			if st.State != forcesync.StateHeld || st.Error == nil || st.Error.Code != "KEY_COLLISION" || !strings.Contains(st.Error.Message, "key SBULK-00005") {
				t.Fatalf("second key: %+v %+v", st, st.Error)
			}
			// A later key colliding with a bound one: held, no call.
			before := r.calls()
			r.accept("contact", contact("Sbulk-00005", "Later", "x@example.com", 60))
			r.drain()
			st = r.status("contact", "Sbulk-00005")
			if st.State != forcesync.StateHeld || st.Error == nil || st.Error.Code != "KEY_COLLISION" || !strings.Contains(st.Error.Message, "key SBULK-00005") {
				t.Fatalf("later key: %+v %+v", st, st.Error)
			}
			if n := r.calls() - before; n != 0 {
				t.Fatalf("%d calls for a held collision", n)
			}
			if got := leadsByKey(r, "Forcesync_Key__c"); got["SBULK-00005"] != "Upper" {
				t.Fatalf("the bound Lead was overwritten: %v", got)
			}
		})
	}
	t.Run("case-sensitive field", func(t *testing.T) {
		m := leadByExtID()
		m.Filter = ""
		m.Match.Field = "Strict_Key__c"
		r := newRigEmu(t, emulator.Config{Objects: []emulator.ObjectConfig{{Name: "Lead", Fields: []emulator.FieldConfig{
			{Name: "Strict_Key__c", Type: "string", Length: 40, ExternalID: true, Unique: true, CaseSensitive: true}}}}},
			engine.Config{BulkThreshold: -1}, m)
		r.accept("contact", contact("abc", "Lower", "l@example.com", 60), contact("ABC", "Upper", "u@example.com", 60))
		r.drain()
		got := leadsByKey(r, "Strict_Key__c")
		var keys []string
		for k := range got {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		if strings.Join(keys, ",") != "ABC,abc" || r.status("contact", "ABC").State != forcesync.StateSynced {
			t.Fatalf("leads %v", got)
		}
	})
}

// TestKeysDifferingOnlyInCaseAcrossWorkers checks two workers that claim
// "abc-1" and "ABC-1" in separate batches at once do not both upsert: the
// second waits for the first to be committed (KEY_PENDING), then is held
// with KEY_COLLISION, and Salesforce holds one Lead, the first's.
func TestKeysDifferingOnlyInCaseAcrossWorkers(t *testing.T) {
	m := leadByExtID()
	m.Filter = ""
	m.BatchSize = 1
	r := newRig(t, engine.Config{BulkThreshold: -1, Workers: 2}, m)
	// A slow first upsert keeps its batch in flight while the other
	// worker claims the second key.
	if _, err := r.emu.AddFault(emulator.Fault{Type: emulator.FaultLatency, Latency: 300 * time.Millisecond,
		Method: "PATCH", Path: "/services/data/*/composite/sobjects/**", Count: 1}); err != nil {
		t.Fatal(err)
	}
	r.accept("contact", contact("abc-1", "Lower", "l@example.com", 60), contact("ABC-1", "Upper", "u@example.com", 60))
	r.drain()
	leads := leadsByKey(r, "Forcesync_Key__c")
	if len(leads) != 1 {
		t.Fatalf("leads %v", leads)
	}
	var synced, held string
	for _, k := range []string{"abc-1", "ABC-1"} {
		switch st := r.status("contact", k); {
		case st.State == forcesync.StateSynced:
			synced = k
		case st.State == forcesync.StateHeld && st.Error != nil && st.Error.Code == "KEY_COLLISION":
			held = k
		default:
			t.Fatalf("%s: %+v %+v", k, st, st.Error)
		}
	}
	if synced == "" || held == "" || leads[synced] == "" {
		t.Fatalf("synced %q held %q leads %v", synced, held, leads)
	}
}
