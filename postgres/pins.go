package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/jackc/pgx/v5"
)

var _ forcesync.OrgPins = (*Store)(nil)

// OrgPin implements forcesync.OrgPins.
func (s *Store) OrgPin(ctx context.Context, connection string) (*forcesync.OrgPin, error) {
	p := forcesync.OrgPin{Connection: connection}
	var at, pace int64
	err := s.pool.QueryRow(ctx, `SELECT org_id, instance_url, pinned, bulk_pace_ns FROM org_pins WHERE connection = $1`, connection).
		Scan(&p.OrgID, &p.InstanceURL, &at, &pace)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("org pin %s: %w", connection, err)
	}
	p.Pinned, p.BulkPace = fromMS(at), time.Duration(pace)
	return &p, nil
}

// PinOrg implements forcesync.OrgPins. Replicas logging in at once for the
// first time agree on one pin: the first insert wins and the others read it.
func (s *Store) PinOrg(ctx context.Context, p forcesync.OrgPin, replace bool) (*forcesync.OrgPin, error) {
	if p.Pinned.IsZero() {
		p.Pinned = s.now()
	}
	q := `INSERT INTO org_pins (connection, org_id, instance_url, pinned) VALUES ($1, $2, $3, $4) ON CONFLICT (connection) DO NOTHING`
	if replace {
		q = `INSERT INTO org_pins (connection, org_id, instance_url, pinned) VALUES ($1, $2, $3, $4)
			ON CONFLICT (connection) DO UPDATE SET org_id = excluded.org_id, instance_url = excluded.instance_url, pinned = excluded.pinned,
				bulk_pace_ns = 0`
	}
	got := forcesync.OrgPin{Connection: p.Connection}
	err := s.inTx(ctx, "pin "+p.Connection, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, q, p.Connection, p.OrgID, p.InstanceURL, ms(p.Pinned)); err != nil {
			return err
		}
		var at, pace int64
		if err := tx.QueryRow(ctx, `SELECT org_id, instance_url, pinned, bulk_pace_ns FROM org_pins WHERE connection = $1`, p.Connection).
			Scan(&got.OrgID, &got.InstanceURL, &at, &pace); err != nil {
			return err
		}
		got.Pinned, got.BulkPace = fromMS(at), time.Duration(pace)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &got, nil
}

// SaveBulkPace implements forcesync.OrgPins.
func (s *Store) SaveBulkPace(ctx context.Context, connection string, perRecord time.Duration) error {
	if _, err := s.pool.Exec(ctx, `UPDATE org_pins SET bulk_pace_ns = $1 WHERE connection = $2`, int64(perRecord), connection); err != nil {
		return fmt.Errorf("save bulk pace %s: %w", connection, err)
	}
	return nil
}
