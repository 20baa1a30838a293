package sqlite

import (
	"context"
	"fmt"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/storeplan"
)

var _ forcesync.HistoryStore = (*Store)(nil)

// RecordHistory implements forcesync.HistoryStore. Complete writes the
// rows (complete.go).
func (s *Store) RecordHistory(ctx context.Context, mapping, key string, limit int) ([]forcesync.Attempt, error) {
	if limit <= 0 {
		limit = forcesync.HistoryKept
	}
	rows, err := s.r.QueryContext(ctx, `SELECT at, run_id, op, state, sf_id, error_code, error_message, error_fields, fingerprint, version
		FROM record_history WHERE mapping = ? AND key = ? ORDER BY n DESC LIMIT ?`, mapping, key, limit)
	if err != nil {
		return nil, fmt.Errorf("history %s/%s: %w", mapping, key, err)
	}
	defer rows.Close()
	var out []forcesync.Attempt
	for rows.Next() {
		a := forcesync.Attempt{Mapping: mapping, Key: key}
		var at int64
		var op, state, code, msg, fields string
		if err := rows.Scan(&at, &a.RunID, &op, &state, &a.SalesforceID, &code, &msg, &fields, &a.Fingerprint, &a.Version); err != nil {
			return nil, fmt.Errorf("history %s/%s: %w", mapping, key, err)
		}
		a.At, a.Op, a.State = fromMS(at), forcesync.Op(op), forcesync.State(state)
		storeplan.DecodeAttempt(&a, code, msg, fields)
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("history %s/%s: %w", mapping, key, err)
	}
	return out, nil
}
