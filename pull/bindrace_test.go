package pull_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/pull"
)

// staleBindings answers the puller's first stale PullBindings (1 when
// zero) as reads taken just before a push committed its binding: without
// the bindings.
type staleBindings struct {
	pull.Store
	stale int32
	calls atomic.Int32
}

func (s *staleBindings) PullBindings(ctx context.Context, mapping string, ids []string) (map[string]forcesync.PullBinding, error) {
	if s.calls.Add(1) <= max(s.stale, 1) {
		return map[string]forcesync.PullBinding{}, nil
	}
	return s.Store.PullBindings(ctx, mapping, ids)
}

// TestPollReadingBeforeThePushBound: a poll reads the bindings, then the
// engine's push of a new record commits its binding, then the poll commits
// its decision, made on the stale read. The Lead is forcesync's own push
// coming back: no record created in Salesforce, no sf:<Id> twin of the
// app's record, no event (the store refuses the stale bind; the batch is
// decided again).
func TestPollReadingBeforeThePushBound(t *testing.T) {
	for _, stale := range []int32{1, 2} {
		t.Run(fmt.Sprintf("stale=%d", stale), func(t *testing.T) { pollReadingBeforeThePushBound(t, stale) })
	}
}

// pollReadingBeforeThePushBound: with stale 2, the read of the batch
// decided again is stale too (the push committed right after it): the
// store refuses twice.
func pollReadingBeforeThePushBound(t *testing.T, staleReads int32) {
	r := newRig(t, leadsBoth(forcesync.NewestWins))
	stale := &staleBindings{Store: r.pstore, stale: staleReads}
	r.pstore = stale
	p := r.puller(nil)
	r.accept("c1", map[string]any{"last": "Ada", "company": "Acme", "phone": "111"})
	r.drain()
	id := r.sfID("c1")
	before := len(r.changes(0))
	st := r.poll(p)
	if st.Created != 0 {
		t.Fatalf("poll stats %+v: the pushed Lead was taken for one created in Salesforce", st)
	}
	if rec, err := r.store.SourceRecord(context.Background(), r.m.Source, "sf:"+id); err == nil && rec != nil && !rec.Deleted && rec.Version > 0 {
		t.Fatalf("twin of c1 in the app: sf:%s %+v", id, rec)
	}
	if n := len(r.changes(0)) - before; n != 0 {
		t.Fatalf("the push came back as %d events: %+v", n, r.changes(0))
	}
	if got := r.sfID("c1"); got != id {
		t.Fatalf("c1 bound to %s, want %s", got, id)
	}
}
