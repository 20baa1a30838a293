package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/forcesync/forcesync"
)

var _ forcesync.SettledReader = (*Store)(nil)

// Settled implements forcesync.SettledReader, one of two ways:
//
//   - When the stored records between the smallest and the largest key are
//     not many more than the keys (a file in key order, read back in
//     chunks), each table is read as one range of its primary key and the
//     rows are matched in Go: an index range scan touches a few dozen
//     pages for a thousand keys, where a lookup per key descends the
//     b-tree each time (about a hundred times the buffer reads, measured
//     with EXPLAIN (ANALYZE, BUFFERS) on 100,000 records).
//   - Otherwise, one query for the records and one per mapping, each over
//     every key at once (= ANY).
//
// The smallest and largest keys are the server's (min and max under the
// column's collation), not Go's byte order: with a collation such as
// en_US, "B" sorts after "a", and a range from Go's ends would miss keys.
func (s *Store) Settled(ctx context.Context, source string, mappings []string, keys []string) (map[string]forcesync.Settled, error) {
	out := make(map[string]forcesync.Settled, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	// One snapshot for every table and mapping, as in the SQLite store.
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, fmt.Errorf("settled %s: %w", source, err)
	}
	defer tx.Rollback(ctx)
	ok, err := settledRanges(ctx, tx, source, mappings, keys, out)
	if err != nil {
		return nil, fmt.Errorf("settled %s: %w", source, err)
	}
	if !ok {
		clear(out)
		if err := settledLookups(ctx, tx, source, mappings, keys, out); err != nil {
			return nil, err
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("settled %s: %w", source, err)
	}
	return out, nil
}

// settledRanges reads the keys' range of each table, if it holds at most
// half as many rows again as there are keys; it reports false (having read
// at most that many records) otherwise.
func settledRanges(ctx context.Context, tx pgx.Tx, source string, mappings []string, keys []string, out map[string]forcesync.Settled) (bool, error) {
	var lo, hi string
	if err := tx.QueryRow(ctx, `SELECT min(k), max(k) FROM unnest($1::text[]) AS u(k)`, keys).Scan(&lo, &hi); err != nil {
		return false, err
	}
	want := make(map[string]struct{}, len(keys))
	for _, k := range keys {
		want[k] = struct{}{}
	}
	limit := len(want) + len(want)/2
	// version > 0 leaves out an Accept's placeholder rows; they still count
	// towards the range's size.
	rows, err := tx.Query(ctx, `SELECT key, version, deleted, fields FROM source_records WHERE source = $1 AND key BETWEEN $2 AND $3 LIMIT $4`,
		source, lo, hi, limit+1)
	if err != nil {
		return false, err
	}
	n := 0
	for rows.Next() {
		if n++; n > limit {
			rows.Close()
			return false, nil
		}
		var k string
		var st forcesync.Settled
		if err := rows.Scan(&k, &st.Version, &st.Deleted, &st.Fields); err != nil {
			rows.Close()
			return false, err
		}
		if _, ok := want[k]; ok && st.Version > 0 {
			out[k] = st
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return false, err
	}
	for _, m := range mappings {
		if err := settledRange(ctx, tx, m, lo, hi, out); err != nil {
			return false, fmt.Errorf("under %s: %w", m, err)
		}
	}
	return true, nil
}

// settledRange adds mapping m's statuses, bindings and outbox rows of the
// keys in [lo, hi] to the records in out: three range scans, matched in
// Go. One query joining the three ranges is at the planner's mercy: on
// tables never analyzed (a first push's) it estimated one status in the
// range and scanned the bindings' range once per status, 1,000 x 1,000
// rows a chunk. A binding or outbox row counts only where the key has a
// status under m.
func settledRange(ctx context.Context, tx pgx.Tx, m, lo, hi string, out map[string]forcesync.Settled) error {
	rows, err := tx.Query(ctx, `SELECT key, state FROM statuses WHERE mapping = $1 AND key BETWEEN $2 AND $3`, m, lo, hi)
	if err != nil {
		return err
	}
	var k, state string
	_, err = pgx.ForEachRow(rows, []any{&k, &state}, func() error {
		if st, ok := out[k]; ok {
			if st.Mappings == nil {
				st.Mappings = map[string]forcesync.SettledMapping{}
				out[k] = st
			}
			st.Mappings[m] = forcesync.SettledMapping{State: forcesync.State(state)}
		}
		return nil
	})
	if err != nil {
		return err
	}
	// at returns the key's state under m, if it has a status.
	at := func(k string) (forcesync.SettledMapping, bool) {
		sm, ok := out[k].Mappings[m]
		return sm, ok
	}
	rows, err = tx.Query(ctx, `SELECT key, fingerprint, sf_id FROM bindings WHERE mapping = $1 AND key BETWEEN $2 AND $3`, m, lo, hi)
	if err != nil {
		return err
	}
	var fp, id string
	_, err = pgx.ForEachRow(rows, []any{&k, &fp, &id}, func() error {
		if sm, ok := at(k); ok {
			sm.Fingerprint, sm.SalesforceID = fp, id
			out[k].Mappings[m] = sm
		}
		return nil
	})
	if err != nil {
		return err
	}
	rows, err = tx.Query(ctx, `SELECT key, lease IS NOT NULL AND seq IS DISTINCT FROM claimed_seq FROM outbox WHERE mapping = $1 AND key BETWEEN $2 AND $3`, m, lo, hi)
	if err != nil {
		return err
	}
	var overtaken bool
	_, err = pgx.ForEachRow(rows, []any{&k, &overtaken}, func() error {
		if sm, ok := at(k); ok {
			sm.Queued, sm.Overtaken = true, overtaken
			out[k].Mappings[m] = sm
		}
		return nil
	})
	return err
}

// settledLookups looks each key up: one query for the records and one per
// mapping, each over every key at once.
func settledLookups(ctx context.Context, tx pgx.Tx, source string, mappings []string, keys []string, out map[string]forcesync.Settled) error {
	// version > 0 leaves out an Accept's placeholder rows.
	rows, err := tx.Query(ctx, `SELECT key, version, deleted, fields FROM source_records WHERE source = $1 AND key = ANY($2) AND version > 0`, source, keys)
	if err != nil {
		return fmt.Errorf("settled %s: %w", source, err)
	}
	for rows.Next() {
		var k string
		var st forcesync.Settled
		if err := rows.Scan(&k, &st.Version, &st.Deleted, &st.Fields); err != nil {
			rows.Close()
			return fmt.Errorf("settled %s: %w", source, err)
		}
		out[k] = st
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("settled %s: %w", source, err)
	}
	for _, m := range mappings {
		rows, err := tx.Query(ctx, `SELECT s.key, s.state, COALESCE(b.fingerprint, ''), COALESCE(b.sf_id, ''), o.key IS NOT NULL,
				COALESCE(o.lease IS NOT NULL AND o.seq IS DISTINCT FROM o.claimed_seq, false)
			FROM statuses s
			LEFT JOIN bindings b ON b.mapping = s.mapping AND b.key = s.key
			LEFT JOIN outbox o ON o.mapping = s.mapping AND o.key = s.key
			WHERE s.mapping = $1 AND s.key = ANY($2)`, m, keys)
		if err != nil {
			return fmt.Errorf("settled %s under %s: %w", source, m, err)
		}
		if err := scanSettledMappings(rows, m, out); err != nil {
			return fmt.Errorf("settled %s under %s: %w", source, m, err)
		}
	}
	return nil
}

// scanSettledMappings adds mapping m's state of each row to the records
// of out it names (a key out holds no record of is passed over), and
// closes rows.
func scanSettledMappings(rows pgx.Rows, m string, out map[string]forcesync.Settled) error {
	defer rows.Close()
	for rows.Next() {
		var k, state string
		var sm forcesync.SettledMapping
		if err := rows.Scan(&k, &state, &sm.Fingerprint, &sm.SalesforceID, &sm.Queued, &sm.Overtaken); err != nil {
			return err
		}
		sm.State = forcesync.State(state)
		st, ok := out[k]
		if !ok {
			continue
		}
		if st.Mappings == nil {
			st.Mappings = map[string]forcesync.SettledMapping{}
		}
		st.Mappings[m] = sm
		out[k] = st
	}
	rows.Close()
	return rows.Err()
}
