package schedule

import (
	"context"
	"log/slog"

	"github.com/forcesync/forcesync"
)

// ReplayJob is the work of a push mapping's schedule.replay (forced false)
// or schedule.resync (forced true): queue every live record of the
// mapping's source again, then call notify (serve wakes its pushers; may
// be nil). A replayed record whose payload equals its last push is settled
// without an API call; a resynced one is pushed again.
func ReplayJob(rp forcesync.Replayer, m forcesync.Mapping, forced bool, notify func(), log *slog.Logger) func(context.Context) error {
	what := "replay"
	if forced {
		what = "resync"
	}
	return func(ctx context.Context) error {
		n, err := rp.Replay(ctx, m.Name, m.Source, forced)
		if err != nil {
			return err
		}
		if log != nil {
			log.Info("scheduled "+what+": records queued", "event", "schedule."+what, "mapping", m.Name, "source", m.Source, "queued", n)
		}
		if notify != nil {
			notify()
		}
		return nil
	}
}
