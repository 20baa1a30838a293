package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/storeplan"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// RecordAPIUsage implements forcesync.Store. Calls are added to today's
// (UTC) counts; a new day starts from zero.
func (s *Store) RecordAPIUsage(ctx context.Context, u forcesync.APIUsage) error {
	at := u.At
	if at.IsZero() {
		at = s.now()
	}
	day := at.UTC().Format("2006-01-02")
	tx, err := s.begin(ctx)
	if err != nil {
		return fmt.Errorf("api usage: %w", err)
	}
	defer tx.Rollback()
	var old storeplan.Usage
	err = tx.QueryRowContext(ctx, `SELECT day, calls, used, max FROM api_usage WHERE connection = ?`, u.Connection).Scan(&old.Day, &old.Calls, &old.Used, &old.Max)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("api usage %s: %w", u.Connection, err)
	}
	row := old.Add(u, day)
	if _, err := tx.ExecContext(ctx, `INSERT INTO api_usage (connection, used, max, day, calls, at) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (connection) DO UPDATE SET used = excluded.used, max = excluded.max, day = excluded.day, calls = excluded.calls, at = excluded.at`,
		u.Connection, row.Used, row.Max, row.Day, row.Calls, ms(at)); err != nil {
		return fmt.Errorf("api usage %s: %w", u.Connection, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("api usage: commit: %w", err)
	}
	return nil
}

// APIUsage implements forcesync.Store.
func (s *Store) APIUsage(ctx context.Context, connection string) (*forcesync.APIUsage, error) {
	u := forcesync.APIUsage{Connection: connection, Calls: map[string]int{}}
	var row storeplan.Usage
	var at int64
	err := s.r.QueryRowContext(ctx, `SELECT used, max, day, calls, at FROM api_usage WHERE connection = ?`, connection).Scan(&row.Used, &row.Max, &row.Day, &row.Calls, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return &u, nil
	}
	if err != nil {
		return nil, fmt.Errorf("api usage %s: %w", connection, err)
	}
	row.Decode(&u, at, s.now().UTC().Format("2006-01-02"))
	return &u, nil
}
