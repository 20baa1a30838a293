package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/forcesync/forcesync"
)

// ledgerKeep is how long minutes of the call ledger are kept: the rolling
// 24 hours and an hour of slack.
const ledgerKeep = 25 * time.Hour

// AddAPICalls implements forcesync.Ledger.
func (s *Store) AddAPICalls(ctx context.Context, connection, lane string, at time.Time, n int) error {
	if n <= 0 {
		return nil
	}
	minute := at.UTC().Truncate(time.Minute)
	tx, err := s.begin(ctx)
	if err != nil {
		return fmt.Errorf("api calls %s: %w", connection, err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `INSERT INTO api_calls (connection, minute, lane, calls) VALUES (?, ?, ?, ?)
		ON CONFLICT (connection, minute, lane) DO UPDATE SET calls = calls + excluded.calls`,
		connection, ms(minute), lane, n); err != nil {
		return fmt.Errorf("api calls %s: %w", connection, err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM api_calls WHERE connection = ? AND minute < ?`,
		connection, ms(minute.Add(-ledgerKeep))); err != nil {
		return fmt.Errorf("api calls %s: %w", connection, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("api calls %s: commit: %w", connection, err)
	}
	return nil
}

// APICalls implements forcesync.Ledger.
func (s *Store) APICalls(ctx context.Context, connection string, since time.Time) ([]forcesync.CallBucket, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT minute, lane, calls FROM api_calls WHERE connection = ? AND minute >= ?
		ORDER BY minute, lane`, connection, ms(since.UTC().Truncate(time.Minute)))
	if err != nil {
		return nil, fmt.Errorf("api calls %s: %w", connection, err)
	}
	defer rows.Close()
	var out []forcesync.CallBucket
	for rows.Next() {
		var b forcesync.CallBucket
		var m int64
		if err := rows.Scan(&m, &b.Lane, &b.Calls); err != nil {
			return nil, fmt.Errorf("api calls %s: %w", connection, err)
		}
		b.Minute = fromMS(m).UTC()
		out = append(out, b)
	}
	return out, rows.Err()
}

// SetBudgetState implements forcesync.Ledger.
func (s *Store) SetBudgetState(ctx context.Context, b forcesync.BudgetState) error {
	tx, err := s.begin(ctx)
	if err != nil {
		return fmt.Errorf("budget state %s: %w", b.Connection, err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `INSERT INTO budget_state (connection, paused, reason, since, resume_at, own, budget, org_used, org_max, updated)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (connection) DO UPDATE SET paused = excluded.paused, reason = excluded.reason, since = excluded.since,
		resume_at = excluded.resume_at, own = excluded.own, budget = excluded.budget, org_used = excluded.org_used,
		org_max = excluded.org_max, updated = excluded.updated`,
		b.Connection, strings.Join(b.Paused, ","), b.Reason, ms(b.Since), ms(b.ResumeAt), b.Own, b.Budget,
		b.OrgUsed, b.OrgMax, ms(b.Updated)); err != nil {
		return fmt.Errorf("budget state %s: %w", b.Connection, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("budget state %s: commit: %w", b.Connection, err)
	}
	return nil
}

// BudgetState implements forcesync.Ledger.
func (s *Store) BudgetState(ctx context.Context, connection string) (*forcesync.BudgetState, error) {
	b := forcesync.BudgetState{Connection: connection}
	var paused string
	var since, resume, updated int64
	err := s.r.QueryRowContext(ctx, `SELECT paused, reason, since, resume_at, own, budget, org_used, org_max, updated
		FROM budget_state WHERE connection = ?`, connection).
		Scan(&paused, &b.Reason, &since, &resume, &b.Own, &b.Budget, &b.OrgUsed, &b.OrgMax, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("budget state %s: %w", connection, err)
	}
	if paused != "" {
		b.Paused = strings.Split(paused, ",")
	}
	b.Since, b.ResumeAt, b.Updated = fromMS(since), fromMS(resume), fromMS(updated)
	return &b, nil
}

// OldestQueued implements forcesync.Ledger.
func (s *Store) OldestQueued(ctx context.Context, mapping string) (time.Time, error) {
	var m sql.NullInt64
	if err := s.r.QueryRowContext(ctx, `SELECT MIN(enqueued) FROM outbox WHERE mapping = ?`, mapping).Scan(&m); err != nil {
		return time.Time{}, fmt.Errorf("oldest queued %s: %w", mapping, err)
	}
	if !m.Valid {
		return time.Time{}, nil
	}
	return fromMS(m.Int64), nil
}

// AddBulkJob implements forcesync.Ledger.
func (s *Store) AddBulkJob(ctx context.Context, j forcesync.BulkJobRef) error {
	tx, err := s.begin(ctx)
	if err != nil {
		return fmt.Errorf("bulk job %s: %w", j.ID, err)
	}
	defer tx.Rollback()
	created := j.Created
	if created.IsZero() {
		created = s.now()
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO bulk_jobs (connection, id, owner, mapping, object, created) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (connection, id) DO UPDATE SET created = excluded.created
		WHERE bulk_jobs.owner = excluded.owner AND excluded.created > bulk_jobs.created`, j.Connection, j.ID, j.Owner, j.Mapping, j.Object, ms(created)); err != nil {
		return fmt.Errorf("bulk job %s: %w", j.ID, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("bulk job %s: commit: %w", j.ID, err)
	}
	return nil
}

// RemoveBulkJob implements forcesync.Ledger.
func (s *Store) RemoveBulkJob(ctx context.Context, connection, id string) error {
	tx, err := s.begin(ctx)
	if err != nil {
		return fmt.Errorf("bulk job %s: %w", id, err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM bulk_jobs WHERE connection = ? AND id = ?`, connection, id); err != nil {
		return fmt.Errorf("bulk job %s: %w", id, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("bulk job %s: commit: %w", id, err)
	}
	return nil
}

// BulkJobs implements forcesync.Ledger.
func (s *Store) BulkJobs(ctx context.Context, connection string) ([]forcesync.BulkJobRef, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, owner, mapping, object, created FROM bulk_jobs WHERE connection = ? ORDER BY created, id`, connection)
	if err != nil {
		return nil, fmt.Errorf("bulk jobs %s: %w", connection, err)
	}
	defer rows.Close()
	var out []forcesync.BulkJobRef
	for rows.Next() {
		j := forcesync.BulkJobRef{Connection: connection}
		var c int64
		if err := rows.Scan(&j.ID, &j.Owner, &j.Mapping, &j.Object, &c); err != nil {
			return nil, fmt.Errorf("bulk jobs %s: %w", connection, err)
		}
		j.Created = fromMS(c)
		out = append(out, j)
	}
	return out, rows.Err()
}
