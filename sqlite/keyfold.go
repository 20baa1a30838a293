package sqlite

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/forcesync/forcesync"
)

var _ forcesync.BindingsByFoldedKey = (*Store)(nil)

// FoldedBindings implements forcesync.BindingsByFoldedKey. A bound key
// that lower() changes is in the partial (mapping, lower(key)) index; one
// it leaves alone is all lower case, so it is the lower-case spelling of
// the key asked for and the primary key finds it. SQLite's lower() folds
// ASCII letters only.
func (s *Store) FoldedBindings(ctx context.Context, mapping string, keys []string) (map[string][]string, error) {
	out := map[string][]string{}
	if len(keys) == 0 {
		return out, nil
	}
	// One statement text whatever the number of keys (a JSON array), so
	// SQLite parses a short query instead of one with a placeholder per key;
	// without statistics the planner would scan the mapping's bindings by
	// primary key, so the folded-key index is named.
	arr, err := json.Marshal(keys)
	if err != nil {
		return nil, fmt.Errorf("folded bindings %s: %w", mapping, err)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT key FROM bindings INDEXED BY bindings_key_fold WHERE mapping = ?1 AND sf_id != ''
			AND key <> lower(key) AND lower(key) IN (SELECT lower(value) FROM json_each(?2))
		UNION
		SELECT key FROM bindings WHERE mapping = ?1 AND sf_id != '' AND key IN (SELECT lower(value) FROM json_each(?2))
		ORDER BY 1`,
		mapping, string(arr))
	if err != nil {
		return nil, fmt.Errorf("folded bindings %s: %w", mapping, err)
	}
	defer rows.Close()
	var bound []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, fmt.Errorf("folded bindings %s: %w", mapping, err)
		}
		bound = append(bound, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("folded bindings %s: %w", mapping, err)
	}
	foldMatches(out, keys, bound)
	return out, nil
}

// foldMatches adds to out, for each key of part, the bound keys that
// equal it ignoring ASCII case and are not it.
func foldMatches(out map[string][]string, part, bound []string) {
	byLower := map[string][]string{}
	for _, b := range bound {
		l := asciiLower(b)
		byLower[l] = append(byLower[l], b)
	}
	for _, k := range part {
		for _, b := range byLower[asciiLower(k)] {
			if b != k && !contains(out[k], b) {
				out[k] = append(out[k], b)
			}
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// asciiLower folds ASCII letters only, as SQLite's lower() does.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
