package filepush

import (
	"sync"

	"github.com/forcesync/forcesync/engine"
)

// tally counts what the records of a push came to, each record once, by
// its last fate: a record deferred or retried (retrying) and settled later
// in the same push counts only as what it finally became. Only records
// whose last fate is retrying are remembered by key, so memory stays
// bounded by them, not by the file: a key pushed twice in one file with a
// final fate each time (a duplicate row) counts twice.
type tally struct {
	mu       sync.Mutex
	by       map[engine.Fate]int
	retrying map[string]bool // mapping + "\x00" + key
}

func newTally() *tally {
	return &tally{by: map[engine.Fate]int{}, retrying: map[string]bool{}}
}

// add is the engine's OnSettled hook.
func (t *tally) add(ss []engine.Settled) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, s := range ss {
		id := s.Mapping + "\x00" + s.Key
		if t.retrying[id] {
			t.by[engine.FateRetrying]--
			delete(t.retrying, id)
		}
		t.by[s.Fate]++
		if s.Fate == engine.FateRetrying {
			t.retrying[id] = true
		}
	}
}

func (t *tally) counts() map[engine.Fate]int {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make(map[engine.Fate]int, len(t.by))
	for f, n := range t.by {
		out[f] = n
	}
	return out
}
