package postgres

import (
	"context"
	"fmt"

	"github.com/forcesync/forcesync"
)

var _ forcesync.SharedBindings = (*Store)(nil)

// LiveSharers implements forcesync.SharedBindings through the
// (mapping, sf_id) index.
func (s *Store) LiveSharers(ctx context.Context, mapping string, keys []string) (map[string][]string, error) {
	out := map[string][]string{}
	if len(keys) == 0 {
		return out, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT a.key, b.key FROM bindings a
			JOIN bindings b ON b.mapping = a.mapping AND b.sf_id = a.sf_id AND b.key <> a.key
		WHERE a.mapping = $1 AND a.key = ANY($2::text[]) AND a.sf_id <> ''
			AND b.fingerprint <> ALL($3::text[])
		ORDER BY 1, 2`,
		mapping, keys, []string{forcesync.FingerprintDisabled, forcesync.FingerprintConverted})
	if err != nil {
		return nil, fmt.Errorf("live sharers %s: %w", mapping, err)
	}
	defer rows.Close()
	for rows.Next() {
		var k, b string
		if err := rows.Scan(&k, &b); err != nil {
			return nil, fmt.Errorf("live sharers %s: %w", mapping, err)
		}
		out[k] = append(out[k], b)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("live sharers %s: %w", mapping, err)
	}
	return out, nil
}
