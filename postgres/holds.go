package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// HoldMatches implements forcesync.Store. Values are taken in order, so two
// replicas asking for overlapping sets wait for each other rather than
// deadlock; RETURNING lists the holds taken, renewed or taken over.
func (s *Store) HoldMatches(ctx context.Context, mapping, owner string, values []string, now, until time.Time) ([]string, error) {
	values = slices.Compact(slices.Sorted(slices.Values(values)))
	if len(values) == 0 {
		return nil, nil
	}
	var held []string
	err := s.inTx(ctx, "hold matches "+mapping, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `INSERT INTO match_holds (mapping, value, owner, until)
			SELECT $1, v, $2, $4 FROM unnest($3::text[]) AS v ORDER BY v
			ON CONFLICT (mapping, value) DO UPDATE SET owner = excluded.owner, until = excluded.until
				WHERE match_holds.owner = excluded.owner OR match_holds.until <= $5
			RETURNING value`, mapping, owner, values, ms(until), ms(now))
		if err != nil {
			return err
		}
		held, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
	return held, err
}

// ReleaseMatches implements forcesync.Store.
func (s *Store) ReleaseMatches(ctx context.Context, mapping, owner string, values []string) error {
	if len(values) == 0 {
		return nil
	}
	if _, err := s.pool.Exec(ctx, `DELETE FROM match_holds WHERE mapping = $1 AND owner = $2 AND value = ANY($3)`, mapping, owner, values); err != nil {
		return fmt.Errorf("release matches %s: %w", mapping, err)
	}
	return nil
}

// RecordIntents implements forcesync.Store.
func (s *Store) RecordIntents(ctx context.Context, mapping string, intents []forcesync.Intent) error {
	if len(intents) == 0 {
		return nil
	}
	now := s.now()
	byKey := map[string]int{}
	var keys, matches []string
	var ats []int64
	for _, in := range intents {
		b, err := json.Marshal(in.Match)
		if err != nil {
			return fmt.Errorf("record intent %s: %w", in.Key, err)
		}
		at := in.At
		if at.IsZero() {
			at = now
		}
		if j, ok := byKey[in.Key]; ok {
			matches[j], ats[j] = string(b), ms(at)
			continue
		}
		byKey[in.Key] = len(keys)
		keys, matches, ats = append(keys, in.Key), append(matches, string(b)), append(ats, ms(at))
	}
	return s.inTx(ctx, "record intents", func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO intents (mapping, key, match, at)
			SELECT $1, k, m, a FROM unnest($2::text[], $3::text[], $4::bigint[]) AS t(k, m, a)
			ON CONFLICT (mapping, key) DO UPDATE SET match = excluded.match, at = excluded.at`, mapping, keys, matches, ats)
		return err
	})
}

// Requeue implements forcesync.Store.
func (s *Store) Requeue(ctx context.Context, mapping string, keys []string) (int, error) {
	var n int64
	err := s.inTx(ctx, "requeue "+mapping, func(tx pgx.Tx) error {
		now := ms(s.now())
		const ins = `INSERT INTO outbox (mapping, key, source, priority, seq, attempts, due_at, forced, enqueued)
			SELECT st.mapping, st.key, st.source, 0, nextval('outbox_seq'), 0, $1, true, $1 FROM statuses st
			JOIN source_records r ON r.source = st.source AND r.key = st.key
			WHERE st.mapping = $2 AND %s
			ORDER BY st.key
			ON CONFLICT (mapping, key) DO UPDATE SET seq = excluded.seq, attempts = 0, due_at = excluded.due_at, forced = true`
		var (
			tag pgconn.CommandTag
			err error
		)
		if keys == nil {
			if tag, err = tx.Exec(ctx, fmt.Sprintf(ins, `st.state = 'held'`), now, mapping); err != nil {
				return err
			}
			_, err = tx.Exec(ctx, `UPDATE statuses SET state = 'pending', updated = $1 WHERE mapping = $2 AND state = 'held'`, now, mapping)
		} else {
			if tag, err = tx.Exec(ctx, fmt.Sprintf(ins, `st.key = ANY($3)`), now, mapping, keys); err != nil {
				return err
			}
			_, err = tx.Exec(ctx, `UPDATE statuses SET state = 'pending', updated = $1 WHERE mapping = $2 AND key = ANY($3)`, now, mapping, keys)
		}
		n = tag.RowsAffected()
		return err
	})
	return int(n), err
}

// MappingVersion implements forcesync.Store.
func (s *Store) MappingVersion(ctx context.Context, mapping, fingerprint string) (bool, error) {
	var changed bool
	err := s.inTx(ctx, "mapping version "+mapping, func(tx pgx.Tx) error {
		// The row is made first if missing, then locked, so replicas
		// starting together agree on what changed.
		tag, err := tx.Exec(ctx, `INSERT INTO mappings (name, fingerprint) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`, mapping, fingerprint)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 1 {
			changed = false // first sight: nothing to compare with
			return nil
		}
		var old string
		if err := tx.QueryRow(ctx, `SELECT fingerprint FROM mappings WHERE name = $1 FOR UPDATE`, mapping).Scan(&old); err != nil {
			return err
		}
		changed = old != fingerprint
		if changed {
			_, err = tx.Exec(ctx, `UPDATE mappings SET fingerprint = $2 WHERE name = $1`, mapping, fingerprint)
		}
		return err
	})
	return changed, err
}
