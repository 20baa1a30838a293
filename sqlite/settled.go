package sqlite

import (
	"context"
	"fmt"

	"github.com/forcesync/forcesync"
)

var _ forcesync.SettledReader = (*Store)(nil)

// Settled implements forcesync.SettledReader with one query for the records
// and one per mapping for every piece of keys.
func (s *Store) Settled(ctx context.Context, source string, mappings []string, keys []string) (map[string]forcesync.Settled, error) {
	out := make(map[string]forcesync.Settled, len(keys))
	err := eachPiece(len(keys), func(lo, hi int) error {
		part := keys[lo:hi]
		args := make([]any, 0, len(part)+1)
		args = append(args, source)
		for _, k := range part {
			args = append(args, k)
		}
		rows, err := s.r.QueryContext(ctx, `SELECT key, version, deleted, fields FROM source_records WHERE source = ? AND key IN (`+placeholders(len(part))+`)`, args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var k string
			var st forcesync.Settled
			if err := rows.Scan(&k, &st.Version, &st.Deleted, &st.Fields); err != nil {
				rows.Close()
				return err
			}
			out[k] = st
		}
		if err := rows.Close(); err != nil {
			return err
		}
		for _, m := range mappings {
			args[0] = m
			rows, err := s.r.QueryContext(ctx, `SELECT s.key, s.state, COALESCE(b.fingerprint, ''), COALESCE(b.sf_id, ''), o.key IS NOT NULL
				FROM statuses s
				LEFT JOIN bindings b ON b.mapping = s.mapping AND b.key = s.key
				LEFT JOIN outbox o ON o.mapping = s.mapping AND o.key = s.key
				WHERE s.mapping = ? AND s.key IN (`+placeholders(len(part))+`)`, args...)
			if err != nil {
				return err
			}
			for rows.Next() {
				var k, state string
				var sm forcesync.SettledMapping
				if err := rows.Scan(&k, &state, &sm.Fingerprint, &sm.SalesforceID, &sm.Queued); err != nil {
					rows.Close()
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
			if err := rows.Close(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("settled %s: %w", source, err)
	}
	return out, nil
}
