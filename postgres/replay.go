package postgres

import (
	"context"

	"github.com/forcesync/forcesync"
	"github.com/jackc/pgx/v5"
)

var _ forcesync.Replayer = (*Store)(nil)

// Replay implements forcesync.Replayer. Rows are written in key order, as
// Accept writes them, so a replay and an ingest meet without deadlock.
func (s *Store) Replay(ctx context.Context, mapping, source string, forced bool) (int, error) {
	// A queued row already carries the newest data: unforced, it stays as
	// it is; forced, it is marked so (a row in flight is settled by the
	// push under way, see forcesync.Replayer).
	conflict := `DO NOTHING`
	if forced {
		conflict = `DO UPDATE SET forced = true`
	}
	var n int64
	err := s.inTx(ctx, "replay "+mapping, func(tx pgx.Tx) error {
		now := ms(s.now())
		var seq int64
		if err := tx.QueryRow(ctx, `SELECT nextval('outbox_seq')`).Scan(&seq); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `INSERT INTO outbox (mapping, key, source, priority, seq, attempts, due_at, forced, enqueued)
			SELECT $1, r.key, r.source, $2, $3, 0, $4, $5, $4 FROM source_records r
			WHERE r.source = $6 AND NOT r.deleted ORDER BY r.key
			ON CONFLICT (mapping, key) `+conflict,
			mapping, int32(forcesync.PriorityBackfill), seq, now, forced, source)
		if err != nil {
			return err
		}
		n = tag.RowsAffected()
		// Records this mapping never saw get a status; the others keep
		// theirs until the push settles them.
		_, err = tx.Exec(ctx, `INSERT INTO statuses (mapping, key, source, state, version, updated)
			SELECT $1, r.key, r.source, 'pending', r.version, $2 FROM source_records r
			WHERE r.source = $3 AND NOT r.deleted ORDER BY r.key
			ON CONFLICT (mapping, key) DO NOTHING`, mapping, now, source)
		return err
	})
	return int(n), err
}
