package engine

import (
	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/mapping"
)

// createWarnings returns the warnings (values cut to fit, and the like) of
// the create payload of a record that is settled without a call because
// the mapping never updates (mode: once, update: false). The status is
// rewritten with each outcome, so without them a later pass would erase
// the warnings the create left; for unchanged data they are the same.
func createWarnings(c *mapping.Compiled, it forcesync.WorkItem) []string {
	pl, err := c.PayloadFor(it.Key, it.Fields, true)
	if err != nil {
		return nil
	}
	return pl.Warnings
}
