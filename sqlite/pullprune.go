package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/forcesync/forcesync/storeplan"
)

// PrunePulled implements forcesync.PullStore.
func (s *Store) PrunePulled(ctx context.Context, mapping string, before time.Time) (int, error) {
	tx, err := s.begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("prune pulled: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM pull_unbound WHERE mapping = ? AND at < ?`, mapping, ms(storeplan.UnboundBefore(before))); err != nil {
		return 0, fmt.Errorf("prune pulled: unbound keys: %w", err)
	}
	const old = `FROM pull_events e WHERE e.mapping = ? AND e.at < ?
		AND NOT EXISTS (SELECT 1 FROM pull_deliveries d WHERE d.seq = e.seq AND d.state <> 'done')`
	var through sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT MAX(e.seq) `+old, mapping, ms(before)).Scan(&through); err != nil {
		return 0, fmt.Errorf("prune pulled: %w", err)
	}
	if !through.Valid {
		return 0, tx.Commit()
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM pull_deliveries WHERE seq IN (SELECT e.seq `+old+`)`, mapping, ms(before)); err != nil {
		return 0, fmt.Errorf("prune pulled: deliveries: %w", err)
	}
	res, err := tx.ExecContext(ctx, `DELETE FROM pull_events WHERE seq IN (SELECT e.seq `+old+`)`, mapping, ms(before))
	if err != nil {
		return 0, fmt.Errorf("prune pulled: events: %w", err)
	}
	n, _ := res.RowsAffected()
	if _, err := tx.ExecContext(ctx, `INSERT INTO pull_pruned (mapping, through) VALUES (?, ?)
		ON CONFLICT (mapping) DO UPDATE SET through = MAX(through, excluded.through)`, mapping, through.Int64); err != nil {
		return 0, fmt.Errorf("prune pulled: %w", err)
	}
	return int(n), tx.Commit()
}

// checkCursor refuses a changes-feed cursor below what was pruned.
func (s *Store) checkCursor(ctx context.Context, after int64, mappings []string) error {
	if after <= 0 {
		return nil
	}
	q := `SELECT COALESCE(MAX(through), 0) FROM pull_pruned`
	var args []any
	if mappings != nil {
		if len(mappings) == 0 {
			return nil
		}
		q += ` WHERE mapping IN (` + placeholders(len(mappings)) + `)`
		for _, m := range mappings {
			args = append(args, m)
		}
	}
	var through int64
	if err := s.r.QueryRowContext(ctx, q, args...).Scan(&through); err != nil {
		return fmt.Errorf("changes: %w", err)
	}
	if after < through {
		return storeplan.CursorGone(after, through)
	}
	var latest int64
	if err := s.r.QueryRowContext(ctx, storeplan.LatestSeq("MAX")).Scan(&latest); err != nil {
		return fmt.Errorf("changes: %w", err)
	}
	if after > latest {
		return storeplan.CursorAhead(after, latest)
	}
	return nil
}
