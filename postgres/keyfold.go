package postgres

import (
	"context"
	"fmt"

	"github.com/forcesync/forcesync"
)

var _ forcesync.BindingsByFoldedKey = (*Store)(nil)

// FoldedBindings implements forcesync.BindingsByFoldedKey. A bound key
// that lower() changes is in the partial (mapping, lower(key)) index; one
// it leaves alone is all lower case, so it is the lower-case spelling of
// the key asked for and the primary key finds it.
func (s *Store) FoldedBindings(ctx context.Context, mapping string, keys []string) (map[string][]string, error) {
	out := map[string][]string{}
	if len(keys) == 0 {
		return out, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT q.k, b.key FROM unnest($2::text[]) AS q(k)
			JOIN bindings b ON b.mapping = $1 AND b.key <> lower(b.key) AND lower(b.key) = lower(q.k) AND b.key <> q.k AND b.sf_id <> ''
		UNION
		SELECT q.k, b.key FROM unnest($2::text[]) AS q(k)
			JOIN bindings b ON b.mapping = $1 AND b.key = lower(q.k) AND b.key <> q.k AND b.sf_id <> ''
		ORDER BY 1, 2`, mapping, keys)
	if err != nil {
		return nil, fmt.Errorf("folded bindings %s: %w", mapping, err)
	}
	defer rows.Close()
	for rows.Next() {
		var k, b string
		if err := rows.Scan(&k, &b); err != nil {
			return nil, fmt.Errorf("folded bindings %s: %w", mapping, err)
		}
		out[k] = append(out[k], b)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("folded bindings %s: %w", mapping, err)
	}
	return out, nil
}
