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

var (
	_ forcesync.AdminStore = (*Store)(nil)
	_ forcesync.FlowStore  = (*Store)(nil)
)

// CreateAdmin implements forcesync.AdminStore.
func (s *Store) CreateAdmin(ctx context.Context, a forcesync.StoredAdmin) error {
	_, err := s.sessionExec(ctx, `INSERT INTO console_admins (username, password_hash, created, updated) VALUES (?, ?, ?, ?)`,
		a.Username, a.PasswordHash, ms(a.Created), ms(a.Updated))
	if err != nil && strings.Contains(err.Error(), "UNIQUE") {
		return forcesync.Errorf(forcesync.EConflict, "admin %q already exists", a.Username)
	}
	return err
}

// Admin implements forcesync.AdminStore.
func (s *Store) Admin(ctx context.Context, username string) (*forcesync.StoredAdmin, error) {
	var a forcesync.StoredAdmin
	var created, updated int64
	err := s.r.QueryRowContext(ctx, `SELECT username, password_hash, created, updated FROM console_admins WHERE username = ?`,
		username).Scan(&a.Username, &a.PasswordHash, &created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
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
	rows, err := s.r.QueryContext(ctx, `SELECT username, password_hash, created, updated FROM console_admins ORDER BY username`)
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
	return s.adminChange(ctx, username, `UPDATE console_admins SET password_hash = ?, updated = ? WHERE username = ?`,
		hash, ms(now), username)
}

// DeleteAdmin implements forcesync.AdminStore.
func (s *Store) DeleteAdmin(ctx context.Context, username string) error {
	return s.adminChange(ctx, username, `DELETE FROM console_admins WHERE username = ?`, username)
}

// adminChange runs q on one admin and ends their sessions, in one
// transaction.
func (s *Store) adminChange(ctx context.Context, username, q string, args ...any) error {
	tx, err := s.begin(ctx)
	if err != nil {
		return fmt.Errorf("admin %s: %w", username, err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("admin %s: %w", username, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return forcesync.Errorf(forcesync.ENotFound, "no admin %q in the store", username)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM console_sessions WHERE username = ?`, username); err != nil {
		return fmt.Errorf("admin %s: ending sessions: %w", username, err)
	}
	return tx.Commit()
}

// PutFlow implements forcesync.FlowStore.
func (s *Store) PutFlow(ctx context.Context, f forcesync.PendingFlow) error {
	tx, err := s.begin(ctx)
	if err != nil {
		return fmt.Errorf("put flow: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM oauth_flows WHERE expires <= ?`, ms(f.Created)); err != nil {
		return fmt.Errorf("put flow: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO oauth_flows (id, kind, data, created, expires) VALUES (?, ?, ?, ?, ?)`,
		f.ID, f.Kind, f.Data, ms(f.Created), ms(f.Expires)); err != nil {
		if strings.Contains(err.Error(), "UNIQUE") {
			return forcesync.Errorf(forcesync.EConflict, "flow already exists")
		}
		return fmt.Errorf("put flow: %w", err)
	}
	return tx.Commit()
}

// TakeFlow implements forcesync.FlowStore. The row goes whatever its kind
// or expiry: a state is tried once.
func (s *Store) TakeFlow(ctx context.Context, id, kind string, now time.Time) (*forcesync.PendingFlow, error) {
	tx, err := s.begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("take flow: %w", err)
	}
	defer tx.Rollback()
	var f forcesync.PendingFlow
	var created, expires int64
	err = tx.QueryRowContext(ctx, `DELETE FROM oauth_flows WHERE id = ? RETURNING id, kind, data, created, expires`, id).
		Scan(&f.ID, &f.Kind, &f.Data, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, forcesync.Errorf(forcesync.ENotFound, "no such flow")
	}
	if err != nil {
		return nil, fmt.Errorf("take flow: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("take flow: %w", err)
	}
	f.Created, f.Expires = fromMS(created), fromMS(expires)
	if f.Kind != kind || !now.Before(f.Expires) {
		return nil, forcesync.Errorf(forcesync.ENotFound, "no such flow")
	}
	return &f, nil
}
