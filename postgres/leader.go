package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/jackc/pgx/v5"
)

var _ forcesync.LeaderStore = (*Store)(nil)

// acquireLease grants the lease when it is new, lapsed, released, or the
// owner's already; the token grows unless owner renews a term it holds.
// The upsert locks the row, so replicas asking at once are served in turn
// and only one of them finds it free.
const acquireLease = `INSERT INTO leader_leases (name, owner, token, until, mark) VALUES ($1, $2, 1, $3, 0)
	ON CONFLICT (name) DO UPDATE SET
		token = CASE WHEN leader_leases.owner = excluded.owner AND leader_leases.until > $4
			THEN leader_leases.token ELSE leader_leases.token + 1 END,
		owner = excluded.owner, until = excluded.until
	WHERE leader_leases.until <= $4 OR leader_leases.owner = excluded.owner
	RETURNING owner, token, until, mark`

// AcquireLease implements forcesync.LeaderStore.
func (s *Store) AcquireLease(ctx context.Context, name, owner string, ttl time.Duration) (forcesync.Lease, bool, error) {
	now := s.now()
	l := forcesync.Lease{Name: name}
	var until, mark int64
	err := s.pool.QueryRow(ctx, acquireLease, name, owner, ms(now.Add(ttl)), ms(now)).Scan(&l.Owner, &l.Token, &until, &mark)
	if errors.Is(err, pgx.ErrNoRows) {
		// Another owner holds it: report its state.
		err = s.pool.QueryRow(ctx, `SELECT owner, token, until, mark FROM leader_leases WHERE name = $1`, name).
			Scan(&l.Owner, &l.Token, &until, &mark)
	}
	if err != nil {
		return l, false, fmt.Errorf("acquire lease %s: %w", name, err)
	}
	l.Until, l.Mark = fromMS(until), fromMS(mark)
	return l, l.Owner == owner && l.Until.After(now), nil
}

// RenewLease implements forcesync.LeaderStore.
func (s *Store) RenewLease(ctx context.Context, name, owner string, token int64, ttl time.Duration) (bool, error) {
	now := s.now()
	tag, err := s.pool.Exec(ctx, `UPDATE leader_leases SET until = $1 WHERE name = $2 AND owner = $3 AND token = $4 AND until > $5`,
		ms(now.Add(ttl)), name, owner, token, ms(now))
	if err != nil {
		return false, fmt.Errorf("renew lease %s: %w", name, err)
	}
	return tag.RowsAffected() == 1, nil
}

// ReleaseLease implements forcesync.LeaderStore.
func (s *Store) ReleaseLease(ctx context.Context, name, owner string, token int64) error {
	if _, err := s.pool.Exec(ctx, `UPDATE leader_leases SET owner = '', until = 0 WHERE name = $1 AND owner = $2 AND token = $3`,
		name, owner, token); err != nil {
		return fmt.Errorf("release lease %s: %w", name, err)
	}
	return nil
}

// MarkLease implements forcesync.LeaderStore.
func (s *Store) MarkLease(ctx context.Context, name string, token int64, mark time.Time) (bool, error) {
	tag, err := s.pool.Exec(ctx, `UPDATE leader_leases SET mark = $1 WHERE name = $2 AND token = $3 AND until > $4`,
		ms(mark), name, token, ms(s.now()))
	if err != nil {
		return false, fmt.Errorf("mark lease %s: %w", name, err)
	}
	return tag.RowsAffected() == 1, nil
}

// Leases implements forcesync.LeaderStore.
func (s *Store) Leases(ctx context.Context, prefix string) ([]forcesync.Lease, error) {
	rows, err := s.pool.Query(ctx, `SELECT name, owner, token, until, mark FROM leader_leases
		WHERE substr(name, 1, $1) = $2 ORDER BY name`, len([]rune(prefix)), prefix)
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
