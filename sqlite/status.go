package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/storeplan"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

const statusCols = `mapping, key, source, state, sf_id, error_code, error_message, error_fields, warnings, attempts, next_attempt, version, updated`

func scanStatuses(rows *sql.Rows) ([]forcesync.RecordStatus, error) {
	defer rows.Close()
	var out []forcesync.RecordStatus
	for rows.Next() {
		var (
			st forcesync.RecordStatus
			c  storeplan.StatusColumns
		)
		if err := rows.Scan(&st.Mapping, &st.Key, &st.Source, &c.State, &st.SalesforceID, &c.Code, &c.Message, &c.Fields, &c.Warnings,
			&st.Attempts, &c.Next, &st.Version, &c.Updated); err != nil {
			return nil, err
		}
		c.Decode(&st)
		out = append(out, st)
	}
	return out, rows.Err()
}

// Statuses implements forcesync.Store.
func (s *Store) Statuses(ctx context.Context, source, key string) ([]forcesync.RecordStatus, error) {
	rows, err := s.r.QueryContext(ctx, storeplan.StatusesOfRecord(statusCols, "?1", "?2"), source, key)
	if err != nil {
		return nil, fmt.Errorf("statuses %s/%s: %w", source, key, err)
	}
	out, err := scanStatuses(rows)
	if err != nil {
		return nil, fmt.Errorf("statuses %s/%s: %w", source, key, err)
	}
	return out, nil
}

// Binding implements forcesync.Store.
func (s *Store) Binding(ctx context.Context, mapping, key string) (*forcesync.Binding, error) {
	b := forcesync.Binding{Mapping: mapping, Key: key}
	var mod, upd int64
	err := s.r.QueryRowContext(ctx, `SELECT sf_id, fingerprint, modstamp, updated FROM bindings WHERE mapping = ? AND key = ?`, mapping, key).
		Scan(&b.SalesforceID, &b.Fingerprint, &mod, &upd)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("binding %s/%s: %w", mapping, key, err)
	}
	b.Modstamp, b.Updated = fromMS(mod), fromMS(upd)
	return &b, nil
}

// List implements forcesync.Store.
func (s *Store) List(ctx context.Context, f forcesync.StatusFilter) ([]forcesync.RecordStatus, error) {
	var where []string
	var args []any
	if f.Mapping != "" {
		where = append(where, "mapping = ?")
		args = append(args, f.Mapping)
	}
	if len(f.States) > 0 {
		ph := make([]string, len(f.States))
		problems := true
		for i, st := range f.States {
			ph[i] = "?"
			args = append(args, string(st))
			problems = problems && (st == forcesync.StateHeld || st == forcesync.StateRetrying)
		}
		where = append(where, "state IN ("+strings.Join(ph, ",")+")")
		if problems {
			// Spelled as in the partial index statuses_problems, so the
			// planner may use it.
			where = append(where, "state IN ('held', 'retrying')")
		}
	}
	q := `SELECT ` + statusCols + ` FROM statuses`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	q += ` ORDER BY updated DESC, key LIMIT ?`
	args = append(args, limit)
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list statuses: %w", err)
	}
	out, err := scanStatuses(rows)
	if err != nil {
		return nil, fmt.Errorf("list statuses: %w", err)
	}
	return out, nil
}

// Counts implements forcesync.Store.
func (s *Store) Counts(ctx context.Context, mapping string) (map[forcesync.State]int, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT state, COUNT(*) FROM statuses WHERE mapping = ? GROUP BY state`, mapping)
	if err != nil {
		return nil, fmt.Errorf("counts %s: %w", mapping, err)
	}
	defer rows.Close()
	out := map[forcesync.State]int{}
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, fmt.Errorf("counts %s: %w", mapping, err)
		}
		out[forcesync.State(st)] = n
	}
	return out, rows.Err()
}

// Backlog implements forcesync.Store.
func (s *Store) Backlog(ctx context.Context, mapping string) (int, error) {
	var n int
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM outbox WHERE mapping = ?`, mapping).Scan(&n); err != nil {
		return 0, fmt.Errorf("backlog %s: %w", mapping, err)
	}
	return n, nil
}

// Runs implements forcesync.Store.
func (s *Store) Runs(ctx context.Context, limit int) ([]forcesync.Run, error) {
	if limit <= 0 {
		limit = 50
	}
	rows, err := s.r.QueryContext(ctx, `SELECT id, mapping, api, started, finished, records, created, updated, unchanged, deleted, failed, skipped, api_calls
		FROM runs ORDER BY id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("runs: %w", err)
	}
	defer rows.Close()
	var out []forcesync.Run
	for rows.Next() {
		var r forcesync.Run
		var st, fin int64
		if err := rows.Scan(&r.ID, &r.Mapping, &r.API, &st, &fin, &r.Records, &r.Created, &r.Updated, &r.Unchanged, &r.Deleted, &r.Failed, &r.Skipped, &r.APICalls); err != nil {
			return nil, fmt.Errorf("runs: %w", err)
		}
		r.Started, r.Finished = fromMS(st), fromMS(fin)
		out = append(out, r)
	}
	return out, rows.Err()
}
