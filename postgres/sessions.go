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

var _ forcesync.SessionStore = (*Store)(nil)

// CreateSession implements forcesync.SessionStore.
func (s *Store) CreateSession(ctx context.Context, ses forcesync.Session) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO console_sessions (id, username, created, expires) VALUES ($1, $2, $3, $4)`,
		ses.ID, ses.User, ms(ses.Created), ms(ses.Expires))
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" {
		return forcesync.Errorf(forcesync.EConflict, "session already exists")
	}
	if err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	return nil
}

// Session implements forcesync.SessionStore.
func (s *Store) Session(ctx context.Context, id string, now time.Time) (*forcesync.Session, error) {
	var ses forcesync.Session
	var created, expires int64
	err := s.pool.QueryRow(ctx, `SELECT id, username, created, expires FROM console_sessions WHERE id = $1 AND expires > $2`,
		id, ms(now)).Scan(&ses.ID, &ses.User, &created, &expires)
	if errors.Is(err, pgx.ErrNoRows) {
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
	if _, err := s.pool.Exec(ctx, `DELETE FROM console_sessions WHERE id = $1`, id); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// DeleteExpiredSessions implements forcesync.SessionStore.
func (s *Store) DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM console_sessions WHERE expires <= $1`, ms(now))
	if err != nil {
		return 0, fmt.Errorf("delete expired sessions: %w", err)
	}
	return int(tag.RowsAffected()), nil
}
