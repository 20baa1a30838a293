package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/storeplan"
)

const guardColumns = `name, count, window_start, paused, pending, lim, approved_until`

type guardScanner interface{ Scan(dest ...any) error }

func scanGuard(r guardScanner) (forcesync.GuardState, error) {
	var st forcesync.GuardState
	var start, until int64
	err := r.Scan(&st.Name, &st.Count, &start, &st.Paused, &st.Pending, &st.Limit, &until)
	st.WindowStart, st.ApprovedUntil = fromMS(start), fromMS(until)
	return st, err
}

func putGuard(ctx context.Context, tx *wtx, st forcesync.GuardState) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO mass_guard (`+guardColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET count = excluded.count, window_start = excluded.window_start,
			paused = excluded.paused, pending = excluded.pending, lim = excluded.lim, approved_until = excluded.approved_until`,
		st.Name, st.Count, ms(st.WindowStart), st.Paused, st.Pending, st.Limit, ms(st.ApprovedUntil))
	return err
}

// GuardTake implements forcesync.GuardStore.
func (s *Store) GuardTake(ctx context.Context, req forcesync.GuardRequest) (forcesync.GuardState, bool, error) {
	tx, err := s.begin(ctx)
	if err != nil {
		return forcesync.GuardState{}, false, fmt.Errorf("guard take %s: %w", req.Name, err)
	}
	defer tx.Rollback()
	old, err := scanGuard(tx.QueryRowContext(ctx, `SELECT `+guardColumns+` FROM mass_guard WHERE name = ?`, req.Name))
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return forcesync.GuardState{}, false, fmt.Errorf("guard take %s: %w", req.Name, err)
	}
	st, ok := storeplan.GuardTake(old, req)
	if err := putGuard(ctx, tx, st); err != nil {
		return st, false, fmt.Errorf("guard take %s: %w", req.Name, err)
	}
	if err := tx.Commit(); err != nil {
		return st, false, fmt.Errorf("guard take %s: commit: %w", req.Name, err)
	}
	return st, ok, nil
}

// GuardApprove implements forcesync.GuardStore.
func (s *Store) GuardApprove(ctx context.Context, name string, now, until time.Time) (forcesync.GuardState, error) {
	st := forcesync.GuardState{Name: name, WindowStart: now, ApprovedUntil: until}
	tx, err := s.begin(ctx)
	if err != nil {
		return st, fmt.Errorf("guard approve %s: %w", name, err)
	}
	defer tx.Rollback()
	if err := putGuard(ctx, tx, st); err != nil {
		return st, fmt.Errorf("guard approve %s: %w", name, err)
	}
	if err := tx.Commit(); err != nil {
		return st, fmt.Errorf("guard approve %s: commit: %w", name, err)
	}
	return st, nil
}

// GuardStates implements forcesync.GuardStore.
func (s *Store) GuardStates(ctx context.Context) ([]forcesync.GuardState, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+guardColumns+` FROM mass_guard ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("guard states: %w", err)
	}
	defer rows.Close()
	var out []forcesync.GuardState
	for rows.Next() {
		st, err := scanGuard(rows)
		if err != nil {
			return nil, fmt.Errorf("guard states: %w", err)
		}
		out = append(out, st)
	}
	return out, rows.Err()
}

// Bind implements forcesync.BindingStore.
func (s *Store) Bind(ctx context.Context, b forcesync.Binding) error {
	tx, err := s.begin(ctx)
	if err != nil {
		return fmt.Errorf("bind %s/%s: %w", b.Mapping, b.Key, err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `INSERT INTO bindings (mapping, key, sf_id, fingerprint, updated) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (mapping, key) DO UPDATE SET sf_id = excluded.sf_id, fingerprint = excluded.fingerprint, updated = excluded.updated`,
		b.Mapping, b.Key, b.SalesforceID, b.Fingerprint, ms(s.now())); err != nil {
		return fmt.Errorf("bind %s/%s: %w", b.Mapping, b.Key, err)
	}
	return tx.Commit()
}
