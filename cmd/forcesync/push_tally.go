package main

import (
	"fmt"
	"sync"

	"github.com/forcesync/forcesync/engine"
)

// pushTally keeps the last fate of each (mapping, key) a push settled, so
// the summary's categories partition the records: a record retried and
// then created counts once, as created (summing the runs counted it once
// per attempt).
type pushTally struct {
	mu   sync.Mutex
	last map[string]engine.Fate // by mapping + "\x00" + key
}

func newPushTally() *pushTally { return &pushTally{last: map[string]engine.Fate{}} }

func (t *pushTally) add(ss []engine.Settled) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, s := range ss {
		t.last[s.Mapping+"\x00"+s.Key] = s.Fate
	}
}

// summary renders "N records: created a, updated b, ..." whose counts add
// up to N.
func (t *pushTally) summary() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	by := map[engine.Fate]int{}
	for _, f := range t.last {
		by[f]++
	}
	return fmt.Sprintf("%d records: created %d, updated %d, unchanged (no call) %d, deleted %d, skipped %d, held %d, retrying %d",
		len(t.last), by[engine.FateCreated], by[engine.FateUpdated], by[engine.FateUnchanged], by[engine.FateDeleted],
		by[engine.FateSkipped], by[engine.FateHeld], by[engine.FateRetrying])
}
