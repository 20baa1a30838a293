package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/forcesync/forcesync"
)

var _ forcesync.OrgPins = (*Store)(nil)

// OrgPin implements forcesync.OrgPins.
func (s *Store) OrgPin(ctx context.Context, connection string) (*forcesync.OrgPin, error) {
	p := forcesync.OrgPin{Connection: connection}
	var at int64
	err := s.r.QueryRowContext(ctx, `SELECT org_id, instance_url, pinned FROM org_pins WHERE connection = ?`, connection).
		Scan(&p.OrgID, &p.InstanceURL, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("org pin %s: %w", connection, err)
	}
	p.Pinned = fromMS(at)
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
			ON CONFLICT (connection) DO UPDATE SET org_id = excluded.org_id, instance_url = excluded.instance_url, pinned = excluded.pinned`
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
	var at int64
	got.Connection = p.Connection
	if err := tx.QueryRowContext(ctx, `SELECT org_id, instance_url, pinned FROM org_pins WHERE connection = ?`, p.Connection).
		Scan(&got.OrgID, &got.InstanceURL, &at); err != nil {
		return nil, fmt.Errorf("pin %s: %w", p.Connection, err)
	}
	got.Pinned = fromMS(at)
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("pin %s: commit: %w", p.Connection, err)
	}
	return &got, nil
}
