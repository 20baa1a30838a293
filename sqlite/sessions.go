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

var _ forcesync.SessionStore = (*Store)(nil)

// CreateSession implements forcesync.SessionStore.
func (s *Store) CreateSession(ctx context.Context, ses forcesync.Session) error {
	tx, err := s.begin(ctx)
	if err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `INSERT INTO console_sessions (id, username, created, expires) VALUES (?, ?, ?, ?)`,
		ses.ID, ses.User, ms(ses.Created), ms(ses.Expires)); err != nil {
		if strings.Contains(err.Error(), "UNIQUE") {
			return forcesync.Errorf(forcesync.EConflict, "session already exists")
		}
		return fmt.Errorf("create session: %w", err)
	}
	return tx.Commit()
}

// Session implements forcesync.SessionStore.
func (s *Store) Session(ctx context.Context, id string, now time.Time) (*forcesync.Session, error) {
	var ses forcesync.Session
	var created, expires int64
	err := s.r.QueryRowContext(ctx, `SELECT id, username, created, expires FROM console_sessions WHERE id = ? AND expires > ?`,
		id, ms(now)).Scan(&ses.ID, &ses.User, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, forcesync.Errorf(forcesync.ENotFound, "no such session")
	}
	if err != nil {
		return nil, fmt.Errorf("session: %w", err)
	}
	ses.Created, ses.Expires = fromMS(created), fromMS(expires)
	return &ses, nil
}

// DeleteSession implements forcesync.SessionStore.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	_, err := s.sessionExec(ctx, `DELETE FROM console_sessions WHERE id = ?`, id)
	return err
}

// DeleteExpiredSessions implements forcesync.SessionStore.
func (s *Store) DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error) {
	return s.sessionExec(ctx, `DELETE FROM console_sessions WHERE expires <= ?`, ms(now))
}

func (s *Store) sessionExec(ctx context.Context, q string, args ...any) (int, error) {
	tx, err := s.begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("sessions: %w", err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, q, args...)
	if err != nil {
		return 0, fmt.Errorf("sessions: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), tx.Commit()
}
