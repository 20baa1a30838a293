package pull_test

import (
	"context"
	"sync"
	"testing"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/engine"
	"github.com/forcesync/forcesync/pull"
	"github.com/forcesync/forcesync/sqlite"
)

// leadsByEmail is a two-way Lead mapping matched by Email: the Lead
// carries no key of the application's, so a Lead the pull finds unbound
// reaches the app as sf:<Id>.
func leadsByEmail() forcesync.Mapping {
	return forcesync.Mapping{Name: "leads", Source: "client", Object: "Lead", Direction: forcesync.Both,
		Match: forcesync.MatchRule{Kind: forcesync.MatchFields, Fields: []string{"Email"}},
		Pull:  &forcesync.PullConfig{Conflict: forcesync.NewestWins, Into: []string{"source", "changes"}},
		Fields: []forcesync.FieldRow{
			{Target: "LastName", SourceField: "last"},
			{Target: "Company", SourceField: "company"},
			{Target: "Email", SourceField: "email"},
			{Target: "Phone", SourceField: "phone"},
		}}
}

// beforeCommit runs hook once, just before the puller's first CommitPull:
// whatever it does happened after the poll read Salesforce and the store.
type beforeCommit struct {
	pull.Store
	once sync.Once
	hook func()
}

func (s *beforeCommit) CommitPull(ctx context.Context, c *forcesync.PullCommit) error {
	s.once.Do(s.hook)
	return s.Store.CommitPull(ctx, c)
}

// heldComplete holds the push's first Complete until release is closed,
// telling completing when it is there: the push reached Salesforce and
// has not recorded its answer.
type heldComplete struct {
	*sqlite.Store
	once       sync.Once
	completing chan struct{}
	release    chan struct{}
}

func (s *heldComplete) Complete(ctx context.Context, owner string, outs []forcesync.Outcome, run *forcesync.Run) error {
	s.once.Do(func() {
		close(s.completing)
		<-s.release
	})
	return s.Store.Complete(ctx, owner, outs, run)
}

// TestPushBindsByEmailWhilePullReadsUnbound: in a mapping matched by
// Email, the push binds the app's key k to a Lead at the moment a poll
// reads that Lead unbound: the poll read Salesforce and the bindings
// before the push committed, and commits after it. The Lead is k's:
// exactly one binding for it, under k, and no sf:<Id> twin in the app.
// Either the push matched a Lead a rep created (by its Email), or it
// created the Lead itself.
func TestPushBindsByEmailWhilePullReadsUnbound(t *testing.T) {
	t.Run("push matches a Lead created in Salesforce", func(t *testing.T) {
		r := newRig(t, leadsByEmail())
		ids, err := r.emu.Seed("Lead", []map[string]any{{"LastName": "Ada", "Company": "Acme", "Email": "ada@x.test", "Phone": "111"}})
		if err != nil {
			t.Fatal(err)
		}
		r.accept("k", map[string]any{"last": "Ada", "company": "Acme", "email": "ada@x.test", "phone": "111"})
		r.pstore = &beforeCommit{Store: r.store, hook: func() { r.drain() }}
		r.poll(r.puller(nil))
		r.oneBinding(ids[0], "k")
	})
	t.Run("push creates the Lead", func(t *testing.T) {
		r := newRig(t, leadsByEmail())
		held := &heldComplete{Store: r.store, completing: make(chan struct{}), release: make(chan struct{})}
		eng, err := engine.New(t.Context(), held, r.API, []forcesync.Mapping{r.m}, engine.Config{Workers: 1})
		if err != nil {
			t.Fatal(err)
		}
		r.accept("k", map[string]any{"last": "Ada", "company": "Acme", "email": "ada@x.test", "phone": "111"})
		pushed := make(chan error, 1)
		go func() { _, err := eng.Drain(context.Background()); pushed <- err }()
		select {
		case <-held.completing:
		case err := <-pushed:
			t.Fatalf("the push ended before recording its answer: %v", err)
		}
		leads := r.Query("SELECT Id FROM Lead WHERE Email = 'ada@x.test'")
		if len(leads) != 1 {
			t.Fatalf("Leads the push created: %v", leads)
		}
		r.pstore = &beforeCommit{Store: r.store, hook: func() {
			close(held.release)
			if err := <-pushed; err != nil {
				t.Errorf("push: %v", err)
			}
		}}
		r.poll(r.puller(nil))
		r.oneBinding(leads[0].ID(), "k")
	})
}

// oneBinding checks that Salesforce Id id is bound once, under key, and
// that the app got no record, binding or event under its sf:<Id> key;
// and that a poll and a push after it change none of that.
func (r *rig) oneBinding(id, key string) {
	r.t.Helper()
	check := func(when string) {
		r.t.Helper()
		bs, err := r.store.Bindings(r.t.Context(), r.m.Name, "", 100)
		if err != nil {
			r.t.Fatal(err)
		}
		var under []string
		for _, b := range bs {
			if b.SalesforceID == id {
				under = append(under, b.Key)
			}
		}
		if len(under) != 1 || under[0] != key {
			r.t.Fatalf("%s: %s bound under %v, want only %s", when, id, under, key)
		}
		if rec, err := r.store.SourceRecord(r.t.Context(), r.m.Source, "sf:"+id); forcesync.ErrorCode(err) != forcesync.ENotFound {
			r.t.Fatalf("%s: twin of %s in the app: sf:%s %+v %v", when, key, id, rec, err)
		}
		for _, ev := range r.changes(0) {
			if ev.Key != key {
				r.t.Fatalf("%s: event of another key than %s: %+v", when, key, ev)
			}
		}
	}
	check("after the poll")
	r.drain()
	r.poll(r.puller(nil))
	check("after the next push and poll")
	if n := len(r.Query("SELECT Id FROM Lead")); n != 1 {
		r.t.Fatalf("%d Leads in Salesforce, want 1", n)
	}
}
