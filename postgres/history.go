package postgres

import (
	"context"
	"fmt"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/storeplan"
	"github.com/jackc/pgx/v5"
)

var _ forcesync.HistoryStore = (*Store)(nil)

// RecordHistory implements forcesync.HistoryStore. Complete writes the
// rows (complete.go).
func (s *Store) RecordHistory(ctx context.Context, mapping, key string, limit int) ([]forcesync.Attempt, error) {
	if limit <= 0 {
		limit = forcesync.HistoryKept
	}
	rows, err := s.pool.Query(ctx, `SELECT at, run_id, op, state, sf_id, error_code, error_message, error_fields, fingerprint, version
		FROM record_history WHERE mapping = $1 AND key = $2 ORDER BY n DESC LIMIT $3`, mapping, key, limit)
	if err != nil {
		return nil, fmt.Errorf("history %s/%s: %w", mapping, key, err)
	}
	var out []forcesync.Attempt
	var (
		at                              int64
		a                               forcesync.Attempt
		op, state, code, msg, fieldsCol string
	)
	if _, err := pgx.ForEachRow(rows, []any{&at, &a.RunID, &op, &state, &a.SalesforceID, &code, &msg, &fieldsCol, &a.Fingerprint, &a.Version}, func() error {
		r := a
		r.Mapping, r.Key = mapping, key
		r.At, r.Op, r.State = fromMS(at), forcesync.Op(op), forcesync.State(state)
		storeplan.DecodeAttempt(&r, code, msg, fieldsCol)
		out = append(out, r)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("history %s/%s: %w", mapping, key, err)
	}
	return out, nil
}

// historyRows collects attempt rows to upsert, column by column.
type historyRows struct {
	keys, ops, states, sfIDs, codes, msgs, fields, fps []string
	slots                                              []int32
	ns, versions                                       []int64
}

func (r *historyRows) add(h storeplan.History) {
	r.keys, r.ops, r.states, r.sfIDs = append(r.keys, h.Key), append(r.ops, h.Op), append(r.states, h.State), append(r.sfIDs, h.SalesforceID)
	r.codes, r.msgs, r.fields, r.fps = append(r.codes, h.ErrorCode), append(r.msgs, h.ErrorMessage), append(r.fields, h.ErrorFields), append(r.fps, h.Fingerprint)
	r.slots, r.ns, r.versions = append(r.slots, int32(h.Slot)), append(r.ns, h.N), append(r.versions, h.Version)
}

// write upserts the rows of one mapping in one statement.
func (r *historyRows) write(ctx context.Context, tx pgx.Tx, mapping string, now, runID int64) error {
	if len(r.keys) == 0 {
		return nil
	}
	_, err := tx.Exec(ctx, `INSERT INTO record_history (mapping, key, slot, n, at, run_id, op, state, sf_id,
			error_code, error_message, error_fields, fingerprint, version)
		SELECT $1, k, sl, n, $2, $3, o, st, i, c, m, f, fp, v
		FROM unnest($4::text[], $5::integer[], $6::bigint[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[],
			$12::text[], $13::text[], $14::bigint[]) AS t(k, sl, n, o, st, i, c, m, f, fp, v)
		`+storeplan.HistoryConflict,
		mapping, now, runID, r.keys, r.slots, r.ns, r.ops, r.states, r.sfIDs, r.codes, r.msgs, r.fields, r.fps, r.versions)
	if err != nil {
		return fmt.Errorf("history: %w", err)
	}
	return nil
}
