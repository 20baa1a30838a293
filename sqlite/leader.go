package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/forcesync/forcesync"
)

var _ forcesync.LeaderStore = (*Store)(nil)

// acquireLease grants the lease when it is new, lapsed, released, or the
// owner's already; the token grows unless owner renews a term it holds.
const acquireLease = `INSERT INTO leader_leases (name, owner, token, until, mark) VALUES (?1, ?2, 1, ?3, 0)
	ON CONFLICT (name) DO UPDATE SET
		token = CASE WHEN leader_leases.owner = excluded.owner AND leader_leases.until > ?4
			THEN leader_leases.token ELSE leader_leases.token + 1 END,
		owner = excluded.owner, until = excluded.until
	WHERE leader_leases.until <= ?4 OR leader_leases.owner = excluded.owner
	RETURNING owner, token, until, mark`

// AcquireLease implements forcesync.LeaderStore.
func (s *Store) AcquireLease(ctx context.Context, name, owner string, ttl time.Duration) (forcesync.Lease, bool, error) {
	now := s.now()
	l := forcesync.Lease{Name: name}
	tx, err := s.begin(ctx)
	if err != nil {
		return l, false, fmt.Errorf("acquire lease %s: %w", name, err)
	}
	defer tx.Rollback()
	var until, mark int64
	err = tx.QueryRowContext(ctx, acquireLease, name, owner, ms(now.Add(ttl)), ms(now)).Scan(&l.Owner, &l.Token, &until, &mark)
	if errors.Is(err, sql.ErrNoRows) {
		// Another owner holds it: report its state.
		err = tx.QueryRowContext(ctx, `SELECT owner, token, until, mark FROM leader_leases WHERE name = ?`, name).
			Scan(&l.Owner, &l.Token, &until, &mark)
	}
	if err != nil {
		return l, false, fmt.Errorf("acquire lease %s: %w", name, err)
	}
	if err := tx.Commit(); err != nil {
		return l, false, fmt.Errorf("acquire lease %s: commit: %w", name, err)
	}
	l.Until, l.Mark = fromMS(until), fromMS(mark)
	return l, l.Owner == owner && l.Until.After(now), nil
}

// RenewLease implements forcesync.LeaderStore.
func (s *Store) RenewLease(ctx context.Context, name, owner string, token int64, ttl time.Duration) (bool, error) {
	now := s.now()
	n, err := s.leaseExec(ctx, "renew lease "+name, `UPDATE leader_leases SET until = ? WHERE name = ? AND owner = ? AND token = ? AND until > ?`,
		ms(now.Add(ttl)), name, owner, token, ms(now))
	return n == 1, err
}

// ReleaseLease implements forcesync.LeaderStore.
func (s *Store) ReleaseLease(ctx context.Context, name, owner string, token int64) error {
	_, err := s.leaseExec(ctx, "release lease "+name, `UPDATE leader_leases SET owner = '', until = 0 WHERE name = ? AND owner = ? AND token = ?`,
		name, owner, token)
	return err
}

// MarkLease implements forcesync.LeaderStore.
func (s *Store) MarkLease(ctx context.Context, name string, token int64, mark time.Time) (bool, error) {
	n, err := s.leaseExec(ctx, "mark lease "+name, `UPDATE leader_leases SET mark = ? WHERE name = ? AND token = ? AND until > ?`,
		ms(mark), name, token, ms(s.now()))
	return n == 1, err
}

func (s *Store) leaseExec(ctx context.Context, what, q string, args ...any) (int64, error) {
	tx, err := s.begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", what, err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, q, args...)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", what, err)
	}
	n, _ := res.RowsAffected()
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("%s: commit: %w", what, err)
	}
	return n, nil
}

// Leases implements forcesync.LeaderStore.
func (s *Store) Leases(ctx context.Context, prefix string) ([]forcesync.Lease, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT name, owner, token, until, mark FROM leader_leases
		WHERE substr(name, 1, ?) = ? ORDER BY name`, len([]rune(prefix)), prefix)
	if err != nil {
		return nil, fmt.Errorf("leases %s: %w", prefix, err)
	}
	defer rows.Close()
	out := []forcesync.Lease{}
	for rows.Next() {
		var l forcesync.Lease
		var until, mark int64
		if err := rows.Scan(&l.Name, &l.Owner, &l.Token, &until, &mark); err != nil {
			return nil, fmt.Errorf("leases %s: %w", prefix, err)
		}
		l.Until, l.Mark = fromMS(until), fromMS(mark)
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("leases %s: %w", prefix, err)
	}
	return out, nil
}
