package engine

import "github.com/forcesync/forcesync"

// Fate is what pushing one work item came to, in the categories of a
// run's counts. Each settled item has exactly one.
type Fate string

// Fates.
const (
	FateCreated   Fate = "created"
	FateUpdated   Fate = "updated"
	FateUnchanged Fate = "unchanged" // synced without a call
	FateDeleted   Fate = "deleted"
	FateSkipped   Fate = "skipped"
	FateHeld      Fate = "held"
	FateRetrying  Fate = "retrying"
)

// Settled is one work item a batch settled.
type Settled struct {
	Mapping string
	Key     string
	Fate    Fate
}

// OnSettled sets fn to receive, after each batch is committed, what each of
// its items came to. A record pushed several times (a retry, a newer
// change) is reported each time; its last report is its fate. One change
// is reported once per mapping: following a Lead's conversion from the
// other mapping (promote.go, sflimits.go) queues a record again only when
// it is neither settled that way nor waiting there. Set it
// before Run or Drain; fn is called from the workers, one batch at a time
// per worker, so it must be safe for concurrent use.
func (e *Engine) OnSettled(fn func([]Settled)) { e.onSettled = fn }

func (e *Engine) reportSettled(p *Pipe, ws []*work) {
	if e.onSettled == nil {
		return
	}
	out := make([]Settled, 0, len(ws))
	for _, w := range ws {
		if r := w.fate(); r != "" {
			out = append(out, Settled{Mapping: p.Mapping.Name, Key: w.item.Key, Fate: r})
		}
	}
	e.onSettled(out)
}

// fate classifies the item's outcome.
func (w *work) fate() Fate {
	switch w.out.State {
	case forcesync.StateSynced:
		switch {
		case w.created:
			return FateCreated
		case w.unchanged:
			return FateUnchanged
		}
		return FateUpdated
	case forcesync.StateDeleted:
		return FateDeleted
	case forcesync.StateDisabled, forcesync.StateDeprovisioned, forcesync.StateConverted:
		// Lifecycle (lifecycle.go): a create in disabled form is a create,
		// a deactivation an update; a remove action of ignore, a record
		// already disabled or a converted Lead changed nothing.
		switch {
		case w.created:
			return FateCreated
		case w.writes != nil && !w.unchanged:
			return FateUpdated
		}
		return FateUnchanged
	case forcesync.StateSkipped:
		return FateSkipped
	case forcesync.StateHeld:
		return FateHeld
	case forcesync.StateRetrying:
		return FateRetrying
	}
	return ""
}
