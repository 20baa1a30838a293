package sqlite

import (
	"context"
	"fmt"

	"github.com/forcesync/forcesync"
)

var _ forcesync.SchemaPauses = (*Store)(nil)

// SetSchemaPause implements forcesync.SchemaPauses.
func (s *Store) SetSchemaPause(ctx context.Context, p forcesync.SchemaPause) error {
	if p.Since.IsZero() {
		p.Since = s.now()
	}
	if p.Describe == nil {
		p.Describe = []byte{}
	}
	tx, err := s.begin(ctx)
	if err != nil {
		return fmt.Errorf("schema pause %s: %w", p.Mapping, err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_pauses (mapping, reason, since, describe) VALUES (?, ?, ?, ?)
		ON CONFLICT (mapping) DO UPDATE SET reason = excluded.reason, describe = excluded.describe`,
		p.Mapping, p.Reason, ms(p.Since), p.Describe); err != nil {
		return fmt.Errorf("schema pause %s: %w", p.Mapping, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("schema pause %s: commit: %w", p.Mapping, err)
	}
	return nil
}

// ClearSchemaPause implements forcesync.SchemaPauses.
func (s *Store) ClearSchemaPause(ctx context.Context, mapping string) error {
	tx, err := s.begin(ctx)
	if err != nil {
		return fmt.Errorf("schema pause %s: %w", mapping, err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM schema_pauses WHERE mapping = ?`, mapping); err != nil {
		return fmt.Errorf("schema pause %s: %w", mapping, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("schema pause %s: commit: %w", mapping, err)
	}
	return nil
}

// SchemaPauses implements forcesync.SchemaPauses.
func (s *Store) SchemaPauses(ctx context.Context) ([]forcesync.SchemaPause, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT mapping, reason, since, describe FROM schema_pauses ORDER BY mapping`)
	if err != nil {
		return nil, fmt.Errorf("schema pauses: %w", err)
	}
	defer rows.Close()
	var out []forcesync.SchemaPause
	for rows.Next() {
		var p forcesync.SchemaPause
		var at int64
		if err := rows.Scan(&p.Mapping, &p.Reason, &at, &p.Describe); err != nil {
			return nil, fmt.Errorf("schema pauses: %w", err)
		}
		p.Since = fromMS(at)
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("schema pauses: %w", err)
	}
	return out, nil
}
