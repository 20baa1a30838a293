package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/forcesync/forcesync"
)

var _ forcesync.SettledReader = (*Store)(nil)

// Settled implements forcesync.SettledReader: one query per mapping, driven
// by the keys as a JSON array (json_each), so a chunk of thousands of keys
// costs a statement or two.
func (s *Store) Settled(ctx context.Context, source string, mappings []string, keys []string) (map[string]forcesync.Settled, error) {
	out := make(map[string]forcesync.Settled, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	doc, err := json.Marshal(keys)
	if err != nil {
		return nil, fmt.Errorf("settled %s: %w", source, err)
	}
	// One query per mapping, each reading the record too (a source is
	// usually read by one mapping: one statement per chunk of keys).
	ms := mappings
	if len(ms) == 0 {
		ms = []string{""}
	}
	for i, m := range ms {
		rows, err := s.r.QueryContext(ctx, `SELECT r.key, r.version, r.deleted, r.fields,
				s.state, COALESCE(b.fingerprint, ''), COALESCE(b.sf_id, ''), o.key IS NOT NULL
			FROM json_each(?) k
			CROSS JOIN source_records r ON r.source = ? AND r.key = k.value
			LEFT JOIN statuses s ON s.mapping = ? AND s.key = r.key
			LEFT JOIN bindings b ON b.mapping = s.mapping AND b.key = s.key
			LEFT JOIN outbox o ON o.mapping = s.mapping AND o.key = s.key`, string(doc), source, m)
		if err != nil {
			return nil, fmt.Errorf("settled %s under %s: %w", source, m, err)
		}
		for rows.Next() {
			var (
				k      string
				st     forcesync.Settled
				state  sql.NullString
				sm     forcesync.SettledMapping
				fields sql.RawBytes
			)
			if err := rows.Scan(&k, &st.Version, &st.Deleted, &fields, &state, &sm.Fingerprint, &sm.SalesforceID, &sm.Queued); err != nil {
				rows.Close()
				return nil, fmt.Errorf("settled %s under %s: %w", source, m, err)
			}
			if i > 0 {
				st = out[k]
			} else {
				st.Fields = string(fields)
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
			return nil, fmt.Errorf("settled %s under %s: %w", source, m, err)
		}
	}
	return out, nil
}
