package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/forcesync/forcesync"
)

var _ forcesync.SettledReader = (*Store)(nil)

// Settled implements forcesync.SettledReader in one read transaction (one
// snapshot for every mapping), reading the keys in key order one of two
// ways:
//
//   - When the stored records between the smallest and the largest key are
//     not many more than the keys (a file in key order, read back in
//     chunks), each table is read as one range of its primary key: a walk
//     along the leaves, matched in Go, instead of a b-tree descent per key
//     and table. That costs about two thirds of the lookups.
//   - Otherwise, one query per mapping driven by the keys as a JSON array
//     (json_each) looks each key up; sorted, consecutive lookups touch
//     nearby pages.
//
// A record's Fingerprint and SalesforceID come from its binding, which a
// pull, a match or an unbind changes without its status: the status alone
// cannot answer for them.
func (s *Store) Settled(ctx context.Context, source string, mappings []string, keys []string) (map[string]forcesync.Settled, error) {
	out := make(map[string]forcesync.Settled, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	sorted := slices.Clone(keys)
	slices.Sort(sorted)
	sorted = slices.Compact(sorted)
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("settled %s: %w", source, err)
	}
	defer tx.Rollback()
	lo, hi := sorted[0], sorted[len(sorted)-1]
	// Ranges are worth it while they hold at most half as many rows again
	// as there are keys: a row walked past costs a fraction of a lookup.
	limit := len(sorted) + len(sorted)/2
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM source_records WHERE source = ? AND key BETWEEN ? AND ? LIMIT ?)`,
		source, lo, hi, limit+1).Scan(&n); err != nil {
		return nil, fmt.Errorf("settled %s: %w", source, err)
	}
	if n <= limit {
		err = settledRanges(ctx, tx, source, mappings, sorted, out)
	} else {
		err = settledLookups(ctx, tx, source, mappings, sorted, out)
	}
	if err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("settled %s: %w", source, err)
	}
	return out, nil
}

// settledRanges reads the range of keys [sorted[0], sorted[len-1]] of
// each table and keeps the rows of the keys asked for.
func settledRanges(ctx context.Context, tx *sql.Tx, source string, mappings []string, sorted []string, out map[string]forcesync.Settled) error {
	lo, hi := sorted[0], sorted[len(sorted)-1]
	want := make(map[string]struct{}, len(sorted))
	for _, k := range sorted {
		want[k] = struct{}{}
	}
	rows, err := tx.QueryContext(ctx, `SELECT key, version, deleted, fields FROM source_records WHERE source = ? AND key BETWEEN ? AND ?`, source, lo, hi)
	if err != nil {
		return fmt.Errorf("settled %s: %w", source, err)
	}
	// The driver makes a string of each text column anyway: scanning into
	// strings takes them without a copy.
	var key string
	for rows.Next() {
		var st forcesync.Settled
		if err := rows.Scan(&key, &st.Version, &st.Deleted, &st.Fields); err != nil {
			rows.Close()
			return fmt.Errorf("settled %s: %w", source, err)
		}
		if _, ok := want[key]; ok {
			out[key] = st
		}
	}
	if err := rows.Close(); err != nil {
		return fmt.Errorf("settled %s: %w", source, err)
	}
	for _, m := range mappings {
		if err := settledRange(ctx, tx, m, lo, hi, len(mappings), out); err != nil {
			return fmt.Errorf("settled %s under %s: %w", source, m, err)
		}
	}
	return nil
}

// settledRange adds mapping m's statuses, bindings and outbox rows of the
// keys in [lo, hi] to the records in out. A binding or outbox row counts
// only where the key has a status under m.
func settledRange(ctx context.Context, tx *sql.Tx, m, lo, hi string, nm int, out map[string]forcesync.Settled) error {
	var key string
	rows, err := tx.QueryContext(ctx, `SELECT key, state FROM statuses WHERE mapping = ? AND key BETWEEN ? AND ?`, m, lo, hi)
	if err != nil {
		return err
	}
	for rows.Next() {
		var state string
		if err := rows.Scan(&key, &state); err != nil {
			rows.Close()
			return err
		}
		st, ok := out[key]
		if !ok {
			continue
		}
		if st.Mappings == nil {
			st.Mappings = make(map[string]forcesync.SettledMapping, nm)
			out[key] = st
		}
		st.Mappings[m] = forcesync.SettledMapping{State: forcesync.State(state)}
	}
	if err := rows.Close(); err != nil {
		return err
	}
	// mappingOf returns the key's entry under m, if it has a status.
	mappingOf := func(k string) (map[string]forcesync.SettledMapping, forcesync.SettledMapping, bool) {
		st, ok := out[k]
		if !ok {
			return nil, forcesync.SettledMapping{}, false
		}
		sm, ok := st.Mappings[m]
		return st.Mappings, sm, ok
	}
	rows, err = tx.QueryContext(ctx, `SELECT key, fingerprint, sf_id FROM bindings WHERE mapping = ? AND key BETWEEN ? AND ?`, m, lo, hi)
	if err != nil {
		return err
	}
	var fp, id string
	for rows.Next() {
		if err := rows.Scan(&key, &fp, &id); err != nil {
			rows.Close()
			return err
		}
		if ms, sm, ok := mappingOf(key); ok {
			sm.Fingerprint, sm.SalesforceID = fp, id
			ms[m] = sm
		}
	}
	if err := rows.Close(); err != nil {
		return err
	}
	rows, err = tx.QueryContext(ctx, `SELECT key, lease IS NOT NULL AND seq IS NOT claimed_seq FROM outbox WHERE mapping = ? AND key BETWEEN ? AND ?`, m, lo, hi)
	if err != nil {
		return err
	}
	var overtaken bool
	for rows.Next() {
		if err := rows.Scan(&key, &overtaken); err != nil {
			rows.Close()
			return err
		}
		if ms, sm, ok := mappingOf(key); ok {
			sm.Queued, sm.Overtaken = true, overtaken
			ms[m] = sm
		}
	}
	return rows.Close()
}

// settledLookups reads the keys one lookup each, one query per mapping,
// each reading the record too (a source is usually read by one mapping:
// one statement per chunk of keys).
func settledLookups(ctx context.Context, tx *sql.Tx, source string, mappings []string, sorted []string, out map[string]forcesync.Settled) error {
	doc, err := json.Marshal(sorted)
	if err != nil {
		return fmt.Errorf("settled %s: %w", source, err)
	}
	ms := mappings
	if len(ms) == 0 {
		ms = []string{""}
	}
	for i, m := range ms {
		rows, err := tx.QueryContext(ctx, `SELECT r.key, r.version, r.deleted, r.fields,
				s.state, COALESCE(b.fingerprint, ''), COALESCE(b.sf_id, ''), o.key IS NOT NULL,
				COALESCE(o.lease IS NOT NULL AND o.seq IS NOT o.claimed_seq, 0)
			FROM json_each(?) k
			CROSS JOIN source_records r ON r.source = ? AND r.key = k.value
			LEFT JOIN statuses s ON s.mapping = ? AND s.key = r.key
			LEFT JOIN bindings b ON b.mapping = s.mapping AND b.key = s.key
			LEFT JOIN outbox o ON o.mapping = s.mapping AND o.key = s.key`, string(doc), source, m)
		if err != nil {
			return fmt.Errorf("settled %s under %s: %w", source, m, err)
		}
		for rows.Next() {
			var (
				k      string
				st     forcesync.Settled
				state  sql.NullString
				sm     forcesync.SettledMapping
				fields string
			)
			if err := rows.Scan(&k, &st.Version, &st.Deleted, &fields, &state, &sm.Fingerprint, &sm.SalesforceID, &sm.Queued, &sm.Overtaken); err != nil {
				rows.Close()
				return fmt.Errorf("settled %s under %s: %w", source, m, err)
			}
			if i > 0 {
				st = out[k]
			} else {
				st.Fields = fields
			}
			if state.Valid && m != "" {
				sm.State = forcesync.State(state.String)
				if st.Mappings == nil {
					st.Mappings = make(map[string]forcesync.SettledMapping, len(mappings))
				}
				st.Mappings[m] = sm
			}
			out[k] = st
		}
		if err := rows.Close(); err != nil {
			return fmt.Errorf("settled %s under %s: %w", source, m, err)
		}
	}
	return nil
}
