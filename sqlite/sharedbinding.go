package sqlite

import (
	"context"
	"encoding/json"
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
	arr, err := json.Marshal(keys)
	if err != nil {
		return nil, fmt.Errorf("live sharers %s: %w", mapping, err)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT a.key, b.key FROM bindings a
			JOIN bindings b INDEXED BY bindings_sf_id ON b.mapping = a.mapping AND b.sf_id = a.sf_id AND b.key <> a.key
		WHERE a.mapping = ?1 AND a.key IN (SELECT value FROM json_each(?2)) AND a.sf_id <> ''
			AND b.fingerprint NOT IN (?3, ?4)
		ORDER BY 1, 2`,
		mapping, string(arr), forcesync.FingerprintDisabled, forcesync.FingerprintConverted)
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
