package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/storeplan"
	"github.com/jackc/pgx/v5"
)

const statusCols = `mapping, key, source, state, sf_id, error_code, error_message, error_fields, warnings, attempts, next_attempt, version, updated`

func scanStatuses(rows pgx.Rows) ([]forcesync.RecordStatus, error) {
	var (
		out []forcesync.RecordStatus
		st  forcesync.RecordStatus
		c   storeplan.StatusColumns
	)
	_, err := pgx.ForEachRow(rows, []any{&st.Mapping, &st.Key, &st.Source, &c.State, &st.SalesforceID, &c.Code, &c.Message, &c.Fields, &c.Warnings,
		&st.Attempts, &c.Next, &st.Version, &c.Updated}, func() error {
		r := st
		c.Decode(&r)
		out = append(out, r)
		return nil
	})
	return out, err
}

// Statuses implements forcesync.Store.
func (s *Store) Statuses(ctx context.Context, source, key string) ([]forcesync.RecordStatus, error) {
	rows, err := s.pool.Query(ctx, storeplan.StatusesOfRecord(statusCols, "$1", "$2"), source, key)
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
	err := s.pool.QueryRow(ctx, `SELECT sf_id, fingerprint, modstamp, updated FROM bindings WHERE mapping = $1 AND key = $2`, mapping, key).
		Scan(&b.SalesforceID, &b.Fingerprint, &mod, &upd)
	if errors.Is(err, pgx.ErrNoRows) {
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
		args = append(args, f.Mapping)
		where = append(where, fmt.Sprintf("mapping = $%d", len(args)))
	}
	if len(f.States) > 0 {
		states := make([]string, len(f.States))
		problems := true
		for i, st := range f.States {
			states[i] = string(st)
			problems = problems && (st == forcesync.StateHeld || st == forcesync.StateRetrying)
		}
		args = append(args, states)
		where = append(where, fmt.Sprintf("state = ANY($%d)", len(args)))
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
	args = append(args, limit)
	q += fmt.Sprintf(` ORDER BY updated DESC, key LIMIT $%d`, len(args))
	rows, err := s.pool.Query(ctx, q, args...)
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
	rows, err := s.pool.Query(ctx, `SELECT state, COUNT(*) FROM statuses WHERE mapping = $1 GROUP BY state`, mapping)
	if err != nil {
		return nil, fmt.Errorf("counts %s: %w", mapping, err)
	}
	out := map[forcesync.State]int{}
	var st string
	var n int
	if _, err := pgx.ForEachRow(rows, []any{&st, &n}, func() error { out[forcesync.State(st)] = n; return nil }); err != nil {
		return nil, fmt.Errorf("counts %s: %w", mapping, err)
	}
	return out, nil
}

// Backlog implements forcesync.Store.
func (s *Store) Backlog(ctx context.Context, mapping string) (int, error) {
	var n int
	if err := s.pool.QueryRow(ctx, `SELECT COUNT(*) FROM outbox WHERE mapping = $1`, mapping).Scan(&n); err != nil {
		return 0, fmt.Errorf("backlog %s: %w", mapping, err)
	}
	return n, nil
}

// Runs implements forcesync.Store.
func (s *Store) Runs(ctx context.Context, limit int) ([]forcesync.Run, error) {
	if limit <= 0 {
		limit = 50
	}
	rows, err := s.pool.Query(ctx, `SELECT id, mapping, api, started, finished, records, created, updated, unchanged, deleted, failed, skipped, api_calls
		FROM runs ORDER BY id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("runs: %w", err)
	}
	var (
		out     []forcesync.Run
		r       forcesync.Run
		st, fin int64
	)
	_, err = pgx.ForEachRow(rows, []any{&r.ID, &r.Mapping, &r.API, &st, &fin, &r.Records, &r.Created, &r.Updated, &r.Unchanged,
		&r.Deleted, &r.Failed, &r.Skipped, &r.APICalls}, func() error {
		run := r
		run.Started, run.Finished = fromMS(st), fromMS(fin)
		out = append(out, run)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("runs: %w", err)
	}
	return out, nil
}
