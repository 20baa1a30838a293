package sqlite

import (
	"context"
	"fmt"

	"github.com/forcesync/forcesync"
)

var _ forcesync.Replayer = (*Store)(nil)

// Replay implements forcesync.Replayer.
func (s *Store) Replay(ctx context.Context, mapping, source string, forced bool) (int, error) {
	now := ms(s.now())
	tx, err := s.begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("replay %s: %w", mapping, err)
	}
	defer tx.Rollback()
	seq, err := nextSeq(ctx, tx)
	if err != nil {
		return 0, fmt.Errorf("replay %s: %w", mapping, err)
	}
	// A queued row already carries the newest data: unforced, it stays as
	// it is; forced, it is marked so (a row in flight is settled by the
	// push under way, see forcesync.Replayer).
	conflict := `DO NOTHING`
	if forced {
		conflict = `DO UPDATE SET forced = 1`
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO outbox (mapping, key, source, priority, seq, attempts, due_at, forced, enqueued)
		SELECT ?, r.key, r.source, ?, ?, 0, ?, ?, ? FROM source_records r WHERE r.source = ? AND r.deleted = 0
		ON CONFLICT (mapping, key) `+conflict,
		mapping, int(forcesync.PriorityBackfill), seq, now, forced, now, source)
	if err != nil {
		return 0, fmt.Errorf("replay %s: outbox: %w", mapping, err)
	}
	n, _ := res.RowsAffected()
	// Records this mapping never saw (it was added after they arrived)
	// get a status; the others keep theirs until the push settles them.
	if _, err := tx.ExecContext(ctx, `INSERT INTO statuses (mapping, key, source, state, version, updated)
		SELECT ?, r.key, r.source, 'pending', r.version, ? FROM source_records r WHERE r.source = ? AND r.deleted = 0
		ON CONFLICT (mapping, key) DO NOTHING`, mapping, now, source); err != nil {
		return 0, fmt.Errorf("replay %s: statuses: %w", mapping, err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("replay %s: commit: %w", mapping, err)
	}
	return int(n), nil
}
