package sqlite

import (
	"context"
	"fmt"
	"strings"

	"github.com/forcesync/forcesync"
)

var _ forcesync.BindingsByFoldedKey = (*Store)(nil)

// FoldedBindings implements forcesync.BindingsByFoldedKey through the
// (mapping, lower(key)) index. SQLite's lower() folds ASCII letters only.
func (s *Store) FoldedBindings(ctx context.Context, mapping string, keys []string) (map[string][]string, error) {
	out := map[string][]string{}
	const chunk = 500
	for lo := 0; lo < len(keys); lo += chunk {
		part := keys[lo:min(lo+chunk, len(keys))]
		args := make([]any, 0, len(part)+1)
		args = append(args, mapping)
		for _, k := range part {
			args = append(args, k)
		}
		ph := strings.TrimSuffix(strings.Repeat("lower(?),", len(part)), ",")
		rows, err := s.r.QueryContext(ctx, `SELECT key FROM bindings WHERE mapping = ? AND sf_id != '' AND lower(key) IN (`+ph+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("folded bindings %s: %w", mapping, err)
		}
		var bound []string
		for rows.Next() {
			var k string
			if err := rows.Scan(&k); err != nil {
				rows.Close()
				return nil, fmt.Errorf("folded bindings %s: %w", mapping, err)
			}
			bound = append(bound, k)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("folded bindings %s: %w", mapping, err)
		}
		foldMatches(out, part, bound)
	}
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
