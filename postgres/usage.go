package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/storeplan"
	"github.com/jackc/pgx/v5"
)

// RecordAPIUsage implements forcesync.Store. Calls are added to today's
// (UTC) counts; a new day starts from zero. Replicas add to the same row
// in turn (it is locked while read).
func (s *Store) RecordAPIUsage(ctx context.Context, u forcesync.APIUsage) error {
	at := u.At
	if at.IsZero() {
		at = s.now()
	}
	day := at.UTC().Format("2006-01-02")
	return s.inTx(ctx, "api usage "+u.Connection, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO api_usage (connection, used, max, day, calls, at) VALUES ($1, 0, 0, $2, '{}', $3)
			ON CONFLICT (connection) DO NOTHING`, u.Connection, day, ms(at)); err != nil {
			return err
		}
		var old storeplan.Usage
		if err := tx.QueryRow(ctx, `SELECT day, calls, used, max FROM api_usage WHERE connection = $1 FOR UPDATE`, u.Connection).
			Scan(&old.Day, &old.Calls, &old.Used, &old.Max); err != nil {
			return err
		}
		row := old.Add(u, day)
		_, err := tx.Exec(ctx, `UPDATE api_usage SET used = $2, max = $3, day = $4, calls = $5, at = $6 WHERE connection = $1`,
			u.Connection, row.Used, row.Max, row.Day, row.Calls, ms(at))
		return err
	})
}

// APIUsage implements forcesync.Store.
func (s *Store) APIUsage(ctx context.Context, connection string) (*forcesync.APIUsage, error) {
	u := forcesync.APIUsage{Connection: connection, Calls: map[string]int{}}
	var row storeplan.Usage
	var at int64
	err := s.pool.QueryRow(ctx, `SELECT used, max, day, calls, at FROM api_usage WHERE connection = $1`, connection).Scan(&row.Used, &row.Max, &row.Day, &row.Calls, &at)
	if errors.Is(err, pgx.ErrNoRows) {
		return &u, nil
	}
	if err != nil {
		return nil, fmt.Errorf("api usage %s: %w", connection, err)
	}
	row.Decode(&u, at, s.now().UTC().Format("2006-01-02"))
	return &u, nil
}
