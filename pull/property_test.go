package pull_test

import (
	"context"
	"flag"
	"fmt"
	"testing"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/pull"
	"pgregory.net/rapid"
)

// during runs a hook once, just before the next CommitPull: an edit made
// while a pull is between its query and its commit.
type during struct {
	pull.Store
	hook func()
}

func (d *during) CommitPull(ctx context.Context, c *forcesync.PullCommit) error {
	if h := d.hook; h != nil {
		d.hook = nil
		h()
	}
	return d.Store.CommitPull(ctx, c)
}

// TestTwoWayConverges: random interleavings of app ingests, sales-rep
// edits, deletes, merges and Lead conversions in Salesforce, pushes,
// pulls, and edits made during a pull, under each conflict policy. Once the edits stop, pushing
// and pulling settle: both sides hold the same value of every field, each
// value is the last one one of the sides wrote (nothing lost to an older
// value), no key has two Leads, and an idle round costs one query call
// (no loop). A converted Lead takes no more writes: its key's last event is
// the convert, naming the Contact, and the Lead mapping leaves it be.
func TestTwoWayConverges(t *testing.T) {
	if f := flag.Lookup("rapid.checks"); f != nil && f.Value.String() == "100" {
		// Seconds, not minutes, in the default run; -rapid.checks=N for more.
		n := "12"
		if raceBuild {
			n = "3"
		}
		_ = f.Value.Set(n)
	}
	for _, policy := range []forcesync.ConflictPolicy{forcesync.AppWins, forcesync.SalesforceWins, forcesync.NewestWins} {
		t.Run(string(policy), func(t *testing.T) {
			rapid.Check(t, func(rt *rapid.T) { twoWay(t, rt, policy) })
		})
	}
}

func twoWay(t *testing.T, rt *rapid.T, policy forcesync.ConflictPolicy) {
	r := newRig(t, leadsBoth(policy))
	d := &during{Store: r.store}
	r.pstore = d
	p := r.puller(nil)
	keys := []string{"a", "b", "c"}
	n := 0
	val := func(side string) string { n++; return fmt.Sprintf("%s%d", side, n) }
	// app holds the app's latest fields per key; wrote holds, per key and
	// field, every value either side wrote last (app, salesforce).
	app := map[string]map[string]any{}
	lastApp := map[string]map[string]string{}
	lastSF := map[string]map[string]string{}
	note := func(m map[string]map[string]string, k, f, v string) {
		if m[k] == nil {
			m[k] = map[string]string{}
		}
		m[k][f] = v
	}
	var cursor int64
	convertedTo := map[string]string{} // key -> the Contact, as the feed told the app
	ingest := func(rt *rapid.T) {
		// The app applies what the changes feed brought before it writes,
		// as a two-way application does.
		for _, ev := range r.changes(cursor) {
			cursor = ev.Seq
			switch ev.Op {
			case forcesync.PulledConvert:
				convertedTo[ev.Key] = ev.ConvertedTo
				delete(app, ev.Key)
			case forcesync.PulledUpsert:
				delete(convertedTo, ev.Key)
				if app[ev.Key] == nil {
					app[ev.Key] = map[string]any{}
				}
				for f, v := range ev.Fields {
					app[ev.Key][f] = v
				}
			default:
				delete(app, ev.Key)
			}
		}
		k := rapid.SampledFrom(keys).Draw(rt, "key")
		f := app[k]
		if f == nil {
			f = map[string]any{"last": "L" + k, "company": "C"}
		}
		f = cloneMap(f)
		f["phone"] = val("app")
		f["last"] = val("app")
		app[k] = f
		note(lastApp, k, "phone", f["phone"].(string))
		note(lastApp, k, "last", f["last"].(string))
		r.accept(k, f)
	}
	bound := func(rt *rapid.T) (string, string, bool) {
		var ks []string
		for _, k := range keys {
			if b, _ := r.store.Binding(context.Background(), "leads", k); b != nil {
				ks = append(ks, k)
			}
		}
		if len(ks) == 0 {
			return "", "", false
		}
		k := rapid.SampledFrom(ks).Draw(rt, "bound")
		return k, r.sfID(k), true
	}
	sfEdit := func(rt *rapid.T) {
		k, id, ok := bound(rt)
		if !ok {
			return
		}
		field := rapid.SampledFrom([]string{"Phone", "LastName", "Title"}).Draw(rt, "field")
		v := val("sf")
		if err := r.emu.UpdateAs("Lead", id, map[string]any{field: v}); err != nil {
			return // deleted meanwhile
		}
		note(lastSF, k, map[string]string{"Phone": "phone", "LastName": "last", "Title": "title"}[field], v)
	}
	actions := map[string]func(*rapid.T){
		"ingest": ingest,
		"sfEdit": sfEdit,
		"push":   func(*rapid.T) { r.drain() },
		"pull":   func(*rapid.T) { r.poll(p) },
		"editDuringPull": func(rt *rapid.T) {
			if rapid.Bool().Draw(rt, "appSide") {
				d.hook = func() { ingest(rt) }
			} else {
				d.hook = func() { sfEdit(rt) }
			}
			r.poll(p)
			d.hook = nil
		},
		"sfDelete": func(rt *rapid.T) {
			k, id, ok := bound(rt)
			if ok && rapid.IntRange(0, 3).Draw(rt, "rarely") == 0 {
				if r.emu.DeleteAs("Lead", id) == nil {
					delete(app, k) // the app learns it by the pull
				}
			}
		},
		"sfMerge": func(rt *rapid.T) {
			k1, id1, ok1 := bound(rt)
			k2, id2, ok2 := bound(rt)
			if ok1 && ok2 && k1 != k2 && rapid.IntRange(0, 3).Draw(rt, "rarely") == 0 {
				if r.emu.MergeRecords("Lead", id1, []string{id2}, nil) == nil {
					delete(app, k2)
				}
			}
		},
	}
	type conversion struct{ lead, contact string }
	sfConverted := map[string]conversion{} // key -> its Lead and the Contact Salesforce made of it
	actions["sfConvert"] = func(rt *rapid.T) {
		k, id, ok := bound(rt)
		if ok && rapid.IntRange(0, 1).Draw(rt, "sometimes") == 0 {
			if _, contact, err := r.emu.ConvertLead(id); err == nil {
				sfConverted[k] = conversion{id, contact}
			}
		}
	}
	steps := rapid.IntRange(1, 25).Draw(rt, "steps")
	names := []string{"ingest", "sfEdit", "push", "pull", "editDuringPull", "sfDelete", "sfMerge", "sfConvert"}
	for range steps {
		actions[rapid.SampledFrom(names).Draw(rt, "action")](rt)
	}

	// The edits stop: push and pull until a round makes no call but the
	// idle poll's query.
	settled := false
	for range 8 {
		before := r.calls()
		r.drain()
		r.poll(p)
		r.drain()
		if r.calls()-before == 1 {
			settled = true
			break
		}
	}
	if !settled {
		rt.Fatalf("no quiet round after the edits stopped: a loop")
	}
	// The app reads the feed to its end once more.
	for _, ev := range r.changes(cursor) {
		cursor = ev.Seq
		switch ev.Op {
		case forcesync.PulledConvert:
			convertedTo[ev.Key] = ev.ConvertedTo
		default:
			delete(convertedTo, ev.Key)
		}
	}
	for k, cv := range sfConverted {
		b, _ := r.store.Binding(context.Background(), "leads", k)
		if b == nil || b.SalesforceID != cv.lead {
			continue // its Lead was merged away or deleted after all
		}
		if convertedTo[k] != cv.contact || b.Fingerprint != forcesync.FingerprintConverted {
			rt.Fatalf("%s: its Lead %s was converted into Contact %s; the app was told %q, the binding holds %q",
				k, cv.lead, cv.contact, convertedTo[k], b.Fingerprint)
		}
	}
	for _, k := range keys {
		rec, err := r.store.SourceRecord(context.Background(), "client", k)
		if err != nil || rec.Deleted {
			continue
		}
		if b, _ := r.store.Binding(context.Background(), "leads", k); b != nil && b.Fingerprint == forcesync.FingerprintConverted {
			if _, ok := convertedTo[k]; !ok {
				rt.Fatalf("%s: its Lead is converted; the app was not told", k)
			}
			continue // the Lead takes no more writes: nothing to converge
		}
		b, _ := r.store.Binding(context.Background(), "leads", k)
		if b == nil {
			rt.Fatalf("%s: live in the app, not bound after settling", k)
		}
		recs, err := r.client.QueryRecords(context.Background(), "SELECT Id, LastName, Phone, Title, Forcesync_Key__c FROM Lead WHERE Id = '"+b.SalesforceID+"'")
		if err != nil || len(recs) != 1 {
			rt.Fatalf("%s: its Lead %s is gone: %v %v", k, b.SalesforceID, recs, err)
		}
		sf := recs[0]
		for _, pair := range [][2]string{{"LastName", "last"}, {"Phone", "phone"}, {"Title", "title"}} {
			got, want := fmt.Sprint(rec.Fields[pair[1]]), fmt.Sprint(sf[pair[0]])
			if sf[pair[0]] == nil {
				want = "<nil>"
			}
			if got != want {
				rt.Fatalf("%s.%s: app holds %s, Salesforce %s", k, pair[1], got, want)
			}
			if pair[1] == "title" {
				continue
			}
			if a, s := lastApp[k][pair[1]], lastSF[k][pair[1]]; got != a && got != s && (a != "" || s != "") && !legacy(got, k) {
				rt.Fatalf("%s.%s = %s: neither side's last write (app %q, salesforce %q)", k, pair[1], got, a, s)
			}
		}
	}
	dup, err := r.client.QueryRecords(context.Background(), "SELECT Forcesync_Key__c FROM Lead WHERE Forcesync_Key__c != null")
	if err != nil {
		rt.Fatal(err)
	}
	seen := map[string]bool{}
	for _, rec := range dup {
		k, _ := rec["Forcesync_Key__c"].(string)
		if seen[k] {
			rt.Fatalf("two Leads with key %s", k)
		}
		seen[k] = true
	}
}

// legacy reports a value a merge brought: the survivor's own value.
func legacy(v, k string) bool { return v == "L"+k || v == "<nil>" }

func cloneMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
