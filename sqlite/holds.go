package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/forcesync/forcesync"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// HoldMatches implements forcesync.Store.
func (s *Store) HoldMatches(ctx context.Context, mapping, owner string, values []string, now, until time.Time) ([]string, error) {
	values = slices.Compact(slices.Sorted(slices.Values(values)))
	if len(values) == 0 {
		return nil, nil
	}
	tx, err := s.begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("hold matches: %w", err)
	}
	defer tx.Rollback()
	var held []string
	err = eachPiece(len(values), func(lo, hi int) error {
		args := make([]any, 0, 4*(hi-lo)+1)
		for _, v := range values[lo:hi] {
			args = append(args, mapping, v, owner, ms(until))
		}
		args = append(args, ms(now))
		// A hold is taken where none is, renewed where it is owner's, and
		// taken over where it ran out; RETURNING lists only those rows.
		rows, err := tx.QueryContext(ctx, `INSERT INTO match_holds (mapping, value, owner, until) VALUES `+tuplesWith(hi-lo, "(?, ?, ?, ?)")+`
			ON CONFLICT (mapping, value) DO UPDATE SET owner = excluded.owner, until = excluded.until
				WHERE match_holds.owner = excluded.owner OR match_holds.until <= ?
			RETURNING value`, args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var v string
			if err := rows.Scan(&v); err != nil {
				rows.Close()
				return err
			}
			held = append(held, v)
		}
		return rows.Close()
	})
	if err != nil {
		return nil, fmt.Errorf("hold matches %s: %w", mapping, err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("hold matches: commit: %w", err)
	}
	return held, nil
}

// ReleaseMatches implements forcesync.Store.
func (s *Store) ReleaseMatches(ctx context.Context, mapping, owner string, values []string) error {
	if len(values) == 0 {
		return nil
	}
	tx, err := s.begin(ctx)
	if err != nil {
		return fmt.Errorf("release matches: %w", err)
	}
	defer tx.Rollback()
	err = eachPiece(len(values), func(lo, hi int) error {
		args := make([]any, 0, hi-lo+2)
		args = append(args, mapping, owner)
		for _, v := range values[lo:hi] {
			args = append(args, v)
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM match_holds WHERE mapping = ? AND owner = ? AND value IN (`+placeholders(hi-lo)+`)`, args...)
		return err
	})
	if err != nil {
		return fmt.Errorf("release matches %s: %w", mapping, err)
	}
	return tx.Commit()
}

// RecordIntents implements forcesync.Store.
func (s *Store) RecordIntents(ctx context.Context, mapping string, intents []forcesync.Intent) error {
	if len(intents) == 0 {
		return nil
	}
	tx, err := s.begin(ctx)
	if err != nil {
		return fmt.Errorf("record intents: %w", err)
	}
	defer tx.Rollback()
	now := s.now()
	for _, in := range intents {
		b, err := json.Marshal(in.Match)
		if err != nil {
			return fmt.Errorf("record intent %s: %w", in.Key, err)
		}
		at := in.At
		if at.IsZero() {
			at = now
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO intents (mapping, key, match, at) VALUES (?, ?, ?, ?)
			ON CONFLICT (mapping, key) DO UPDATE SET match = excluded.match, at = excluded.at`, mapping, in.Key, string(b), ms(at)); err != nil {
			return fmt.Errorf("record intent %s: %w", in.Key, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("record intents: commit: %w", err)
	}
	return nil
}

// Requeue implements forcesync.Store.
func (s *Store) Requeue(ctx context.Context, mapping string, keys []string) (int, error) {
	now := ms(s.now())
	tx, err := s.begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("requeue: %w", err)
	}
	defer tx.Rollback()
	seq, err := nextSeq(ctx, tx)
	if err != nil {
		return 0, fmt.Errorf("requeue: %w", err)
	}
	const ins = `INSERT INTO outbox (mapping, key, source, priority, seq, attempts, due_at, forced, enqueued)
		SELECT st.mapping, st.key, st.source, 0, ?, 0, ?, 1, ? FROM statuses st
		JOIN source_records r ON r.source = st.source AND r.key = st.key
		WHERE st.mapping = ? %s
		ON CONFLICT (mapping, key) DO UPDATE SET seq = excluded.seq, attempts = 0, due_at = excluded.due_at, forced = 1`
	var n int64
	if keys == nil {
		res, err := tx.ExecContext(ctx, fmt.Sprintf(ins, `AND st.state = 'held'`), seq, now, now, mapping)
		if err != nil {
			return 0, fmt.Errorf("requeue %s: %w", mapping, err)
		}
		n, _ = res.RowsAffected()
		if _, err := tx.ExecContext(ctx, `UPDATE statuses SET state = 'pending', updated = ? WHERE mapping = ? AND state = 'held'`, now, mapping); err != nil {
			return 0, fmt.Errorf("requeue %s: %w", mapping, err)
		}
	} else {
		for _, k := range keys {
			res, err := tx.ExecContext(ctx, fmt.Sprintf(ins, `AND st.key = ?`), seq, now, now, mapping, k)
			if err != nil {
				return 0, fmt.Errorf("requeue %s/%s: %w", mapping, k, err)
			}
			c, _ := res.RowsAffected()
			n += c
			if _, err := tx.ExecContext(ctx, `UPDATE statuses SET state = 'pending', updated = ? WHERE mapping = ? AND key = ?`, now, mapping, k); err != nil {
				return 0, fmt.Errorf("requeue %s/%s: %w", mapping, k, err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("requeue: commit: %w", err)
	}
	return int(n), nil
}

// MappingVersion implements forcesync.Store.
func (s *Store) MappingVersion(ctx context.Context, mapping, fingerprint string) (bool, error) {
	tx, err := s.begin(ctx)
	if err != nil {
		return false, fmt.Errorf("mapping version: %w", err)
	}
	defer tx.Rollback()
	var old string
	err = tx.QueryRowContext(ctx, `SELECT fingerprint FROM mappings WHERE name = ?`, mapping).Scan(&old)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return false, fmt.Errorf("mapping version %s: %w", mapping, err)
	}
	existed := err == nil
	if existed && old == fingerprint {
		return false, nil
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO mappings (name, fingerprint) VALUES (?, ?)
		ON CONFLICT (name) DO UPDATE SET fingerprint = excluded.fingerprint`, mapping, fingerprint); err != nil {
		return false, fmt.Errorf("mapping version %s: %w", mapping, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("mapping version: commit: %w", err)
	}
	return existed, nil
}
