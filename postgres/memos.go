package postgres

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/forcesync/forcesync"
	"github.com/jackc/pgx/v5"
)

// RememberMapping implements forcesync.MappingMemory.
func (s *Store) RememberMapping(ctx context.Context, m forcesync.MappingMemo) error {
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("remember mapping %s: %w", m.Name, err)
	}
	if _, err := s.pool.Exec(ctx, `INSERT INTO mapping_memos (name, connection, memo, updated) VALUES ($1, $2, $3, $4)
		ON CONFLICT (name) DO UPDATE SET connection = excluded.connection, memo = excluded.memo, updated = excluded.updated`,
		m.Name, m.Connection, string(b), ms(s.now())); err != nil {
		return fmt.Errorf("remember mapping %s: %w", m.Name, err)
	}
	return nil
}

// MappingMemos implements forcesync.MappingMemory.
func (s *Store) MappingMemos(ctx context.Context) ([]forcesync.MappingMemo, error) {
	rows, err := s.pool.Query(ctx, `SELECT memo FROM mapping_memos ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("mapping memos: %w", err)
	}
	defer rows.Close()
	var out []forcesync.MappingMemo
	for rows.Next() {
		var b string
		var m forcesync.MappingMemo
		if err := rows.Scan(&b); err != nil {
			return nil, fmt.Errorf("mapping memos: %w", err)
		}
		if err := json.Unmarshal([]byte(b), &m); err != nil {
			return nil, fmt.Errorf("mapping memos: %w", err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// KeepMapping implements forcesync.MappingMemory.
func (s *Store) KeepMapping(ctx context.Context, name string) error {
	return s.inTx(ctx, "keep mapping "+name, func(tx pgx.Tx) error {
		var b string
		if err := tx.QueryRow(ctx, `SELECT memo FROM mapping_memos WHERE name = $1 FOR UPDATE`, name).Scan(&b); err != nil {
			return err
		}
		var m forcesync.MappingMemo
		if err := json.Unmarshal([]byte(b), &m); err != nil {
			return err
		}
		m.Removal = forcesync.RemovalKept
		nb, err := json.Marshal(m)
		if err != nil {
			return err
		}
		now := ms(s.now())
		if _, err := tx.Exec(ctx, `UPDATE mapping_memos SET memo = $1, updated = $2 WHERE name = $3`, string(nb), now, name); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM outbox WHERE mapping = $1`, name); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM claim_leases WHERE mapping = $1`, name); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE statuses SET state = 'skipped', error_code = $1, error_message = $2, error_fields = '', held_fp = '', next_attempt = 0, updated = $3
			WHERE mapping = $4 AND state IN ('pending', 'retrying', 'held')`,
			forcesync.CodeMappingRemoved, "mapping "+name+" left the config; its Salesforce records and bindings were kept", now, name)
		return err
	})
}

// MarkPasswords implements forcesync.PasswordMarks.
func (s *Store) MarkPasswords(ctx context.Context, source string, keys []string, at int64) error {
	if len(keys) == 0 {
		return nil
	}
	if _, err := s.pool.Exec(ctx, `INSERT INTO password_marks (source, key, at) SELECT $1, k, $3 FROM unnest($2::text[]) AS k
		ON CONFLICT (source, key) DO UPDATE SET at = GREATEST(password_marks.at, excluded.at)`, source, keys, at); err != nil {
		return fmt.Errorf("mark passwords: %w", err)
	}
	return nil
}

// PasswordMarked implements forcesync.PasswordMarks.
func (s *Store) PasswordMarked(ctx context.Context, source string, keys []string) (map[string]int64, error) {
	out := map[string]int64{}
	if len(keys) == 0 {
		return out, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT key, at FROM password_marks WHERE source = $1 AND key = ANY($2)`, source, keys)
	if err != nil {
		return nil, fmt.Errorf("password marks: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		var at int64
		if err := rows.Scan(&k, &at); err != nil {
			return nil, fmt.Errorf("password marks: %w", err)
		}
		out[k] = at
	}
	return out, rows.Err()
}

// ClearPasswordMark implements forcesync.PasswordMarks.
func (s *Store) ClearPasswordMark(ctx context.Context, source, key string, at int64) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM password_marks WHERE source = $1 AND key = $2 AND at <= $3`, source, key, at); err != nil {
		return fmt.Errorf("clear password mark: %w", err)
	}
	return nil
}
