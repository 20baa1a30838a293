package engine_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/emulator"
	"github.com/forcesync/forcesync/engine"
)

// TestRemovalSparesSharedRecord: two keys matched by Email are bound to one
// Salesforce record (two people sharing an email; a person provisioned
// again under a new key). Disabling or deprovisioning one leaves the record
// alone while the other is live, with a warning naming the other key, and
// the last one to go applies the mapping's action. Without this, the first
// removal closed, deleted or deactivated the record the other key still
// reported as synced.
func TestRemovalSparesSharedRecord(t *testing.T) {
	for _, tc := range []struct {
		obj    string
		action forcesync.DeleteAction
		op     forcesync.Op
	}{
		{"Lead", forcesync.DeleteDeactivate, forcesync.OpDelete},
		{"Contact", forcesync.DeleteDelete, forcesync.OpDelete},
		{"User", forcesync.DeleteDeactivate, forcesync.OpDelete},
		{"User", forcesync.DeleteDeactivate, forcesync.OpDisable},
	} {
		t.Run(fmt.Sprintf("%s/%s/%s", tc.obj, tc.action, tc.op), func(t *testing.T) {
			m := lifecycleMapping(tc.obj, forcesync.Operations{Delete: tc.action})
			m.Match = forcesync.MatchRule{Kind: forcesync.MatchFields, Fields: []string{"Email"}}
			r := newRig(t, engine.Config{}, m)
			fields := map[string]any{"last": "Lovelace", "email": "ada@example.com", "scope": true, "profile": r.profile("Standard User")}
			r.accept("person", forcesync.Change{Key: "old", Fields: fields})
			r.drain()
			r.accept("person", forcesync.Change{Key: "new", Fields: fields})
			r.drain()
			id := r.status("person", "old").SalesforceID
			if st := r.status("person", "new"); st.State != forcesync.StateSynced || st.SalesforceID != id || id == "" {
				t.Fatalf("new %+v, want synced to old's %s", st, id)
			}
			df := disabledField[tc.obj]
			if tc.action == forcesync.DeleteDelete {
				df = [2]any{"LastName", nil}
			}
			untouched := func() bool {
				rec := r.query(fmt.Sprintf("SELECT Id, %s FROM %s WHERE Id = '%s'", df[0], tc.obj, id))
				return len(rec) == 1 && (tc.action == forcesync.DeleteDelete || rec[0][df[0].(string)] != df[1])
			}
			r.accept("person", forcesync.Change{Key: "old", Op: tc.op})
			r.drain()
			want := forcesync.StateDeprovisioned
			if tc.op == forcesync.OpDisable {
				want = forcesync.StateDisabled
			}
			st := r.status("person", "old")
			if st.State != want || st.SalesforceID != id || len(st.Warnings) != 1 || !strings.Contains(st.Warnings[0], "key new") {
				t.Fatalf("old after %s: %+v, want %s bound to %s with a warning naming key new", tc.op, st, want, id)
			}
			if !untouched() {
				t.Fatalf("%s %s was changed while key new holds it", tc.obj, id)
			}
			// The last key to go applies the action.
			r.accept("person", forcesync.Change{Key: "new", Op: forcesync.OpDelete})
			r.drain()
			if untouched() {
				t.Fatalf("%s %s untouched after every key was deprovisioned", tc.obj, id)
			}
		})
	}
}

// TestDeactivationResendsKeyBoundMeanwhile: a person provisioned again
// under a new key while the old key's deactivation is on the wire. The new
// key is bound to the User during the call (as another replica's push would
// bind it), so it saw the User active and is not sent IsActive=true; the
// deactivation then lands. The engine looks again after the call, binds the
// new key as disabled and queues it: its push activates the User again.
func TestDeactivationResendsKeyBoundMeanwhile(t *testing.T) {
	m := lifecycleMapping("User", forcesync.Operations{Delete: forcesync.DeleteDeactivate})
	m.Match = forcesync.MatchRule{Kind: forcesync.MatchFields, Fields: []string{"Email"}}
	r := newRig(t, engine.Config{}, m)
	fields := map[string]any{"last": "Lovelace", "email": "ada@example.com", "scope": true, "profile": r.profile("Standard User")}
	r.accept("person", forcesync.Change{Key: "old", Fields: fields})
	r.drain()
	id := r.status("person", "old").SalesforceID
	r.accept("person", forcesync.Change{Key: "old", Op: forcesync.OpDelete})
	fid, err := r.emu.AddFault(emulator.Fault{Type: emulator.FaultLatency, Method: "PATCH", Path: "/services/data/**", Count: 1, Latency: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	drained := make(chan error, 1)
	go func() { _, err := r.Eng.Drain(context.Background()); drained <- err }()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		fired := true // a rule whose Count is spent leaves the list
		for _, f := range r.emu.Faults() {
			fired = fired && f.ID != fid
		}
		if fired {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the deactivation never reached the emulator")
		}
	}
	// While the deactivation waits: the new key arrives and is bound to the
	// User, as a push by another worker would have left it.
	r.accept("person", forcesync.Change{Key: "new", Fields: fields})
	bs := forcesync.BindingStore(r.store)
	if err := bs.Bind(context.Background(), forcesync.Binding{Mapping: m.Name, Key: "new", SalesforceID: id, Fingerprint: "pushed-by-another-worker"}); err != nil {
		t.Fatal(err)
	}
	if err := <-drained; err != nil {
		t.Fatal(err)
	}
	r.drain()
	if st := r.status("person", "new"); st.State != forcesync.StateSynced || st.SalesforceID != id {
		t.Fatalf("new %+v, want synced to %s", st, id)
	}
	if rec := r.query("SELECT IsActive FROM User WHERE Id = '" + id + "'"); rec[0]["IsActive"] != true {
		t.Fatalf("User %s %v: deactivated under the new key", id, rec[0])
	}
	if st := r.status("person", "old"); st.State != forcesync.StateDeprovisioned {
		t.Fatalf("old %+v, want deprovisioned", st)
	}
}
