package postgres

import (
	"context"
	"fmt"

	"github.com/forcesync/forcesync"
)

var _ forcesync.SettledReader = (*Store)(nil)

// Settled implements forcesync.SettledReader: one query for the records and
// one per mapping, each over every key at once.
func (s *Store) Settled(ctx context.Context, source string, mappings []string, keys []string) (map[string]forcesync.Settled, error) {
	out := make(map[string]forcesync.Settled, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	// version > 0 leaves out an Accept's placeholder rows.
	rows, err := s.pool.Query(ctx, `SELECT key, version, deleted, fields FROM source_records WHERE source = $1 AND key = ANY($2) AND version > 0`, source, keys)
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
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("settled %s: %w", source, err)
	}
	for _, m := range mappings {
		rows, err := s.pool.Query(ctx, `SELECT s.key, s.state, COALESCE(b.fingerprint, ''), COALESCE(b.sf_id, ''), o.key IS NOT NULL,
				COALESCE(o.lease IS NOT NULL AND o.seq IS DISTINCT FROM o.claimed_seq, false)
			FROM statuses s
			LEFT JOIN bindings b ON b.mapping = s.mapping AND b.key = s.key
			LEFT JOIN outbox o ON o.mapping = s.mapping AND o.key = s.key
			WHERE s.mapping = $1 AND s.key = ANY($2)`, m, keys)
		if err != nil {
			return nil, fmt.Errorf("settled %s under %s: %w", source, m, err)
		}
		for rows.Next() {
			var k, state string
			var sm forcesync.SettledMapping
			if err := rows.Scan(&k, &state, &sm.Fingerprint, &sm.SalesforceID, &sm.Queued, &sm.Overtaken); err != nil {
				rows.Close()
				return nil, fmt.Errorf("settled %s under %s: %w", source, m, err)
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
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("settled %s under %s: %w", source, m, err)
		}
	}
	return out, nil
}
