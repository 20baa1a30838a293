package sqlite

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/forcesync/forcesync"
)

var _ forcesync.SettledReader = (*Store)(nil)

// Settled implements forcesync.SettledReader: one query for the records and
// one per mapping, each driven by the keys as a JSON array (json_each), so
// a chunk of thousands of keys costs a few statements.
func (s *Store) Settled(ctx context.Context, source string, mappings []string, keys []string) (map[string]forcesync.Settled, error) {
	out := make(map[string]forcesync.Settled, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	doc, err := json.Marshal(keys)
	if err != nil {
		return nil, fmt.Errorf("settled %s: %w", source, err)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT r.key, r.version, r.deleted, r.fields
		FROM json_each(?) k
		CROSS JOIN source_records r ON r.source = ? AND r.key = k.value`, string(doc), source)
	if err != nil {
		return nil, fmt.Errorf("settled %s: %w", source, err)
	}
	for rows.Next() {
		var k string
		var st forcesync.Settled
		if err := rows.Scan(&k, &st.Version, &st.Deleted, &st.Fields); err != nil {
			rows.Close()
			return nil, fmt.Errorf("settled %s: %w", source, err)
		}
		out[k] = st
	}
	if err := rows.Close(); err != nil {
		return nil, fmt.Errorf("settled %s: %w", source, err)
	}
	for _, m := range mappings {
		rows, err := s.r.QueryContext(ctx, `SELECT s.key, s.state, COALESCE(b.fingerprint, ''), COALESCE(b.sf_id, ''), o.key IS NOT NULL
			FROM json_each(?) k
			CROSS JOIN statuses s ON s.mapping = ? AND s.key = k.value
			LEFT JOIN bindings b ON b.mapping = s.mapping AND b.key = s.key
			LEFT JOIN outbox o ON o.mapping = s.mapping AND o.key = s.key`, string(doc), m)
		if err != nil {
			return nil, fmt.Errorf("settled %s under %s: %w", source, m, err)
		}
		for rows.Next() {
			var k, state string
			var sm forcesync.SettledMapping
			if err := rows.Scan(&k, &state, &sm.Fingerprint, &sm.SalesforceID, &sm.Queued); err != nil {
				rows.Close()
				return nil, fmt.Errorf("settled %s under %s: %w", source, m, err)
			}
			sm.State = forcesync.State(state)
			st, ok := out[k]
			if !ok {
				continue
			}
			if st.Mappings == nil {
				st.Mappings = make(map[string]forcesync.SettledMapping, len(mappings))
			}
			st.Mappings[m] = sm
			out[k] = st
		}
		if err := rows.Close(); err != nil {
			return nil, fmt.Errorf("settled %s under %s: %w", source, m, err)
		}
	}
	return out, nil
}
