package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/forcesync/forcesync/storeplan"
	"github.com/jackc/pgx/v5"
)

// PrunePulled implements forcesync.PullStore.
func (s *Store) PrunePulled(ctx context.Context, mapping string, before time.Time) (int, error) {
	const old = `FROM pull_events e WHERE e.mapping = $1 AND e.at < $2
		AND NOT EXISTS (SELECT 1 FROM pull_deliveries d WHERE d.seq = e.seq AND d.state <> 'done')`
	var n int64
	err := s.inTx(ctx, "prune pulled", func(tx pgx.Tx) error {
		n = 0
		if _, err := tx.Exec(ctx, `DELETE FROM pull_unbound WHERE mapping = $1 AND at < $2`, mapping, ms(storeplan.UnboundBefore(before))); err != nil {
			return err
		}
		var through *int64
		if err := tx.QueryRow(ctx, `SELECT MAX(e.seq) `+old, mapping, ms(before)).Scan(&through); err != nil {
			return err
		}
		if through == nil {
			return nil
		}
		if _, err := tx.Exec(ctx, `DELETE FROM pull_deliveries WHERE seq IN (SELECT e.seq `+old+`)`, mapping, ms(before)); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `DELETE FROM pull_events WHERE seq IN (SELECT e.seq `+old+`)`, mapping, ms(before))
		if err != nil {
			return err
		}
		n = tag.RowsAffected()
		_, err = tx.Exec(ctx, `INSERT INTO pull_pruned (mapping, through) VALUES ($1, $2)
			ON CONFLICT (mapping) DO UPDATE SET through = GREATEST(pull_pruned.through, excluded.through)`, mapping, *through)
		return err
	})
	if err != nil {
		return 0, err
	}
	return int(n), nil
}

// checkCursor refuses a changes-feed cursor below what was pruned.
func (s *Store) checkCursor(ctx context.Context, after int64, mappings []string) error {
	if after <= 0 {
		return nil
	}
	q := `SELECT COALESCE(MAX(through), 0) FROM pull_pruned`
	args := []any{}
	if mappings != nil {
		if len(mappings) == 0 {
			return nil
		}
		q += ` WHERE mapping = ANY($1)`
		args = append(args, mappings)
	}
	var through int64
	if err := s.pool.QueryRow(ctx, q, args...).Scan(&through); err != nil {
		return fmt.Errorf("changes: %w", err)
	}
	if after < through {
		return storeplan.CursorGone(after, through)
	}
	var latest int64
	if err := s.pool.QueryRow(ctx, storeplan.LatestSeq("GREATEST")).Scan(&latest); err != nil {
		return fmt.Errorf("changes: %w", err)
	}
	if after > latest {
		return storeplan.CursorAhead(after, latest)
	}
	return nil
}
