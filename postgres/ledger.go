package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/jackc/pgx/v5"
)

// ledgerKeep is how long minutes of the call ledger are kept: the rolling
// 24 hours and an hour of slack.
const ledgerKeep = 25 * time.Hour

// AddAPICalls implements forcesync.Ledger. Replicas add to the same rows.
func (s *Store) AddAPICalls(ctx context.Context, connection, lane string, at time.Time, n int) error {
	if n <= 0 {
		return nil
	}
	minute := at.UTC().Truncate(time.Minute)
	return s.inTx(ctx, "api calls "+connection, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO api_calls (connection, minute, lane, calls) VALUES ($1, $2, $3, $4)
			ON CONFLICT (connection, minute, lane) DO UPDATE SET calls = api_calls.calls + excluded.calls`,
			connection, ms(minute), lane, n); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `DELETE FROM api_calls WHERE connection = $1 AND minute < $2`, connection, ms(minute.Add(-ledgerKeep)))
		return err
	})
}

// APICalls implements forcesync.Ledger.
func (s *Store) APICalls(ctx context.Context, connection string, since time.Time) ([]forcesync.CallBucket, error) {
	rows, err := s.pool.Query(ctx, `SELECT minute, lane, calls FROM api_calls WHERE connection = $1 AND minute >= $2
		ORDER BY minute, lane`, connection, ms(since.UTC().Truncate(time.Minute)))
	if err != nil {
		return nil, fmt.Errorf("api calls %s: %w", connection, err)
	}
	defer rows.Close()
	var out []forcesync.CallBucket
	for rows.Next() {
		var b forcesync.CallBucket
		var m, n int64
		if err := rows.Scan(&m, &b.Lane, &n); err != nil {
			return nil, fmt.Errorf("api calls %s: %w", connection, err)
		}
		b.Minute, b.Calls = fromMS(m).UTC(), int(n)
		out = append(out, b)
	}
	return out, rows.Err()
}

// SetBudgetState implements forcesync.Ledger.
func (s *Store) SetBudgetState(ctx context.Context, b forcesync.BudgetState) error {
	return s.inTx(ctx, "budget state "+b.Connection, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO budget_state (connection, paused, reason, since, resume_at, own, budget, org_used, org_max, updated)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
			ON CONFLICT (connection) DO UPDATE SET paused = excluded.paused, reason = excluded.reason, since = excluded.since,
			resume_at = excluded.resume_at, own = excluded.own, budget = excluded.budget, org_used = excluded.org_used,
			org_max = excluded.org_max, updated = excluded.updated`,
			b.Connection, strings.Join(b.Paused, ","), b.Reason, ms(b.Since), ms(b.ResumeAt), b.Own, b.Budget,
			b.OrgUsed, b.OrgMax, ms(b.Updated))
		return err
	})
}

// BudgetState implements forcesync.Ledger.
func (s *Store) BudgetState(ctx context.Context, connection string) (*forcesync.BudgetState, error) {
	b := forcesync.BudgetState{Connection: connection}
	var paused string
	var since, resume, updated, own, budget, used, max int64
	err := s.pool.QueryRow(ctx, `SELECT paused, reason, since, resume_at, own, budget, org_used, org_max, updated
		FROM budget_state WHERE connection = $1`, connection).
		Scan(&paused, &b.Reason, &since, &resume, &own, &budget, &used, &max, &updated)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("budget state %s: %w", connection, err)
	}
	if paused != "" {
		b.Paused = strings.Split(paused, ",")
	}
	b.Own, b.Budget, b.OrgUsed, b.OrgMax = int(own), int(budget), int(used), int(max)
	b.Since, b.ResumeAt, b.Updated = fromMS(since), fromMS(resume), fromMS(updated)
	return &b, nil
}

// OldestQueued implements forcesync.Ledger.
func (s *Store) OldestQueued(ctx context.Context, mapping string) (time.Time, error) {
	var m *int64
	if err := s.pool.QueryRow(ctx, `SELECT MIN(enqueued) FROM outbox WHERE mapping = $1`, mapping).Scan(&m); err != nil {
		return time.Time{}, fmt.Errorf("oldest queued %s: %w", mapping, err)
	}
	if m == nil {
		return time.Time{}, nil
	}
	return fromMS(*m), nil
}

// AddBulkJob implements forcesync.Ledger.
func (s *Store) AddBulkJob(ctx context.Context, j forcesync.BulkJobRef) error {
	created := j.Created
	if created.IsZero() {
		created = s.now()
	}
	return s.inTx(ctx, "bulk job "+j.ID, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO bulk_jobs (connection, id, owner, mapping, object, created) VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (connection, id) DO UPDATE SET created = excluded.created
			WHERE bulk_jobs.owner = excluded.owner AND excluded.created > bulk_jobs.created`, j.Connection, j.ID, j.Owner, j.Mapping, j.Object, ms(created))
		return err
	})
}

// RemoveBulkJob implements forcesync.Ledger.
func (s *Store) RemoveBulkJob(ctx context.Context, connection, id string) error {
	return s.inTx(ctx, "bulk job "+id, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `DELETE FROM bulk_jobs WHERE connection = $1 AND id = $2`, connection, id)
		return err
	})
}

// BulkJobs implements forcesync.Ledger.
func (s *Store) BulkJobs(ctx context.Context, connection string) ([]forcesync.BulkJobRef, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, owner, mapping, object, created FROM bulk_jobs WHERE connection = $1 ORDER BY created, id`, connection)
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
