package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/storeplan"
	"github.com/jackc/pgx/v5"
)

const guardColumns = `name, count, window_start, paused, pending, lim, approved_until`

func scanGuard(r pgx.Row) (forcesync.GuardState, error) {
	var st forcesync.GuardState
	var start, until int64
	err := r.Scan(&st.Name, &st.Count, &start, &st.Paused, &st.Pending, &st.Limit, &until)
	st.WindowStart, st.ApprovedUntil = fromMS(start), fromMS(until)
	return st, err
}

func putGuard(ctx context.Context, tx pgx.Tx, st forcesync.GuardState) error {
	_, err := tx.Exec(ctx, `INSERT INTO mass_guard (`+guardColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (name) DO UPDATE SET count = excluded.count, window_start = excluded.window_start,
			paused = excluded.paused, pending = excluded.pending, lim = excluded.lim, approved_until = excluded.approved_until`,
		st.Name, st.Count, ms(st.WindowStart), st.Paused, st.Pending, st.Limit, ms(st.ApprovedUntil))
	return err
}

// GuardTake implements forcesync.GuardStore. The row is created first (a
// no-op when it exists) and locked, so replicas asking at once take turns.
func (s *Store) GuardTake(ctx context.Context, req forcesync.GuardRequest) (forcesync.GuardState, bool, error) {
	var st forcesync.GuardState
	var ok bool
	err := s.inTx(ctx, "guard take "+req.Name, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO mass_guard (`+guardColumns+`) VALUES ($1, 0, 0, false, 0, 0, 0)
			ON CONFLICT (name) DO NOTHING`, req.Name); err != nil {
			return err
		}
		old, err := scanGuard(tx.QueryRow(ctx, `SELECT `+guardColumns+` FROM mass_guard WHERE name = $1 FOR UPDATE`, req.Name))
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		st, ok = storeplan.GuardTake(old, req)
		return putGuard(ctx, tx, st)
	})
	return st, ok, err
}

// GuardApprove implements forcesync.GuardStore.
func (s *Store) GuardApprove(ctx context.Context, name string, now, until time.Time) (forcesync.GuardState, error) {
	st := forcesync.GuardState{Name: name, WindowStart: now, ApprovedUntil: until}
	err := s.inTx(ctx, "guard approve "+name, func(tx pgx.Tx) error { return putGuard(ctx, tx, st) })
	return st, err
}

// GuardStates implements forcesync.GuardStore.
func (s *Store) GuardStates(ctx context.Context) ([]forcesync.GuardState, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+guardColumns+` FROM mass_guard ORDER BY name`)
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
	return s.inTx(ctx, "bind "+b.Mapping+"/"+b.Key, func(tx pgx.Tx) error {
		if err := s.shareBindLocks(ctx, tx, []string{b.Mapping}); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO bindings (mapping, key, sf_id, fingerprint, updated) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (mapping, key) DO UPDATE SET sf_id = excluded.sf_id, fingerprint = excluded.fingerprint, updated = excluded.updated`,
			b.Mapping, b.Key, b.SalesforceID, b.Fingerprint, ms(s.now()))
		return err
	})
}
