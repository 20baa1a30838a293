package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/forcesync/forcesync"
)

var _ forcesync.OrgPins = (*Store)(nil)

// OrgPin implements forcesync.OrgPins.
func (s *Store) OrgPin(ctx context.Context, connection string) (*forcesync.OrgPin, error) {
	p := forcesync.OrgPin{Connection: connection}
	var at, pace int64
	err := s.r.QueryRowContext(ctx, `SELECT org_id, instance_url, pinned, bulk_pace_ns FROM org_pins WHERE connection = ?`, connection).
		Scan(&p.OrgID, &p.InstanceURL, &at, &pace)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("org pin %s: %w", connection, err)
	}
	p.Pinned, p.BulkPace = fromMS(at), time.Duration(pace)
	return &p, nil
}

// PinOrg implements forcesync.OrgPins.
func (s *Store) PinOrg(ctx context.Context, p forcesync.OrgPin, replace bool) (*forcesync.OrgPin, error) {
	if p.Pinned.IsZero() {
		p.Pinned = s.now()
	}
	q := `INSERT INTO org_pins (connection, org_id, instance_url, pinned) VALUES (?, ?, ?, ?) ON CONFLICT (connection) DO NOTHING`
	if replace {
		q = `INSERT INTO org_pins (connection, org_id, instance_url, pinned) VALUES (?, ?, ?, ?)
			ON CONFLICT (connection) DO UPDATE SET org_id = excluded.org_id, instance_url = excluded.instance_url, pinned = excluded.pinned,
				bulk_pace_ns = 0`
	}
	tx, err := s.begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("pin %s: %w", p.Connection, err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, q, p.Connection, p.OrgID, p.InstanceURL, ms(p.Pinned)); err != nil {
		return nil, fmt.Errorf("pin %s: %w", p.Connection, err)
	}
	var got forcesync.OrgPin
	var at, pace int64
	got.Connection = p.Connection
	if err := tx.QueryRowContext(ctx, `SELECT org_id, instance_url, pinned, bulk_pace_ns FROM org_pins WHERE connection = ?`, p.Connection).
		Scan(&got.OrgID, &got.InstanceURL, &at, &pace); err != nil {
		return nil, fmt.Errorf("pin %s: %w", p.Connection, err)
	}
	got.Pinned, got.BulkPace = fromMS(at), time.Duration(pace)
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("pin %s: commit: %w", p.Connection, err)
	}
	return &got, nil
}

// SaveBulkPace implements forcesync.OrgPins.
func (s *Store) SaveBulkPace(ctx context.Context, connection string, perRecord time.Duration) error {
	tx, err := s.begin(ctx)
	if err != nil {
		return fmt.Errorf("save bulk pace %s: %w", connection, err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `UPDATE org_pins SET bulk_pace_ns = ? WHERE connection = ?`, int64(perRecord), connection); err != nil {
		return fmt.Errorf("save bulk pace %s: %w", connection, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("save bulk pace %s: commit: %w", connection, err)
	}
	return nil
}
