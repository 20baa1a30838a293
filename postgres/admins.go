package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

var (
	_ forcesync.AdminStore = (*Store)(nil)
	_ forcesync.FlowStore  = (*Store)(nil)
)

func uniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// CreateAdmin implements forcesync.AdminStore.
func (s *Store) CreateAdmin(ctx context.Context, a forcesync.StoredAdmin) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO console_admins (username, password_hash, created, updated) VALUES ($1, $2, $3, $4)`,
		a.Username, a.PasswordHash, ms(a.Created), ms(a.Updated))
	if uniqueViolation(err) {
		return forcesync.Errorf(forcesync.EConflict, "admin %q already exists", a.Username)
	}
	if err != nil {
		return fmt.Errorf("create admin: %w", err)
	}
	return nil
}

// Admin implements forcesync.AdminStore.
func (s *Store) Admin(ctx context.Context, username string) (*forcesync.StoredAdmin, error) {
	var a forcesync.StoredAdmin
	var created, updated int64
	err := s.pool.QueryRow(ctx, `SELECT username, password_hash, created, updated FROM console_admins WHERE username = $1`,
		username).Scan(&a.Username, &a.PasswordHash, &created, &updated)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, forcesync.Errorf(forcesync.ENotFound, "no admin %q in the store", username)
	}
	if err != nil {
		return nil, fmt.Errorf("admin: %w", err)
	}
	a.Created, a.Updated = fromMS(created), fromMS(updated)
	return &a, nil
}

// Admins implements forcesync.AdminStore.
func (s *Store) Admins(ctx context.Context) ([]forcesync.StoredAdmin, error) {
	rows, err := s.pool.Query(ctx, `SELECT username, password_hash, created, updated FROM console_admins ORDER BY username`)
	if err != nil {
		return nil, fmt.Errorf("admins: %w", err)
	}
	defer rows.Close()
	var out []forcesync.StoredAdmin
	for rows.Next() {
		var a forcesync.StoredAdmin
		var created, updated int64
		if err := rows.Scan(&a.Username, &a.PasswordHash, &created, &updated); err != nil {
			return nil, fmt.Errorf("admins: %w", err)
		}
		a.Created, a.Updated = fromMS(created), fromMS(updated)
		out = append(out, a)
	}
	return out, rows.Err()
}

// SetAdminPassword implements forcesync.AdminStore.
func (s *Store) SetAdminPassword(ctx context.Context, username, hash string, now time.Time) error {
	return s.adminChange(ctx, username, `UPDATE console_admins SET password_hash = $1, updated = $2 WHERE username = $3`,
		hash, ms(now), username)
}

// DeleteAdmin implements forcesync.AdminStore.
func (s *Store) DeleteAdmin(ctx context.Context, username string) error {
	return s.adminChange(ctx, username, `DELETE FROM console_admins WHERE username = $1`, username)
}

// adminChange runs q on one admin and ends their sessions, in one
// transaction.
func (s *Store) adminChange(ctx context.Context, username, q string, args ...any) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("admin %s: %w", username, err)
	}
	defer tx.Rollback(ctx)
	tag, err := tx.Exec(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("admin %s: %w", username, err)
	}
	if tag.RowsAffected() == 0 {
		return forcesync.Errorf(forcesync.ENotFound, "no admin %q in the store", username)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM console_sessions WHERE username = $1`, username); err != nil {
		return fmt.Errorf("admin %s: ending sessions: %w", username, err)
	}
	return tx.Commit(ctx)
}

// PutFlow implements forcesync.FlowStore.
func (s *Store) PutFlow(ctx context.Context, f forcesync.PendingFlow) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM oauth_flows WHERE expires <= $1`, ms(f.Created)); err != nil {
		return fmt.Errorf("put flow: %w", err)
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO oauth_flows (id, kind, data, created, expires) VALUES ($1, $2, $3, $4, $5)`,
		f.ID, f.Kind, f.Data, ms(f.Created), ms(f.Expires))
	if uniqueViolation(err) {
		return forcesync.Errorf(forcesync.EConflict, "flow already exists")
	}
	if err != nil {
		return fmt.Errorf("put flow: %w", err)
	}
	return nil
}

// TakeFlow implements forcesync.FlowStore. The row goes whatever its kind
// or expiry: a state is tried once. DELETE ... RETURNING makes two
// replicas racing on one callback see it once between them.
func (s *Store) TakeFlow(ctx context.Context, id, kind string, now time.Time) (*forcesync.PendingFlow, error) {
	var f forcesync.PendingFlow
	var created, expires int64
	err := s.pool.QueryRow(ctx, `DELETE FROM oauth_flows WHERE id = $1 RETURNING id, kind, data, created, expires`, id).
		Scan(&f.ID, &f.Kind, &f.Data, &created, &expires)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, forcesync.Errorf(forcesync.ENotFound, "no such flow")
	}
	if err != nil {
		return nil, fmt.Errorf("take flow: %w", err)
	}
	f.Created, f.Expires = fromMS(created), fromMS(expires)
	if f.Kind != kind || !now.Before(f.Expires) {
		return nil, forcesync.Errorf(forcesync.ENotFound, "no such flow")
	}
	return &f, nil
}
