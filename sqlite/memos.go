package sqlite

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/forcesync/forcesync"
)

// RememberMapping implements forcesync.MappingMemory.
func (s *Store) RememberMapping(ctx context.Context, m forcesync.MappingMemo) error {
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("remember mapping %s: %w", m.Name, err)
	}
	tx, err := s.begin(ctx)
	if err != nil {
		return fmt.Errorf("remember mapping %s: %w", m.Name, err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `INSERT INTO mapping_memos (name, connection, memo, updated) VALUES (?, ?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET connection = excluded.connection, memo = excluded.memo, updated = excluded.updated`,
		m.Name, m.Connection, string(b), ms(s.now())); err != nil {
		return fmt.Errorf("remember mapping %s: %w", m.Name, err)
	}
	return tx.Commit()
}

// MappingMemos implements forcesync.MappingMemory.
func (s *Store) MappingMemos(ctx context.Context) ([]forcesync.MappingMemo, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT memo FROM mapping_memos ORDER BY name`)
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
	tx, err := s.begin(ctx)
	if err != nil {
		return fmt.Errorf("keep mapping %s: %w", name, err)
	}
	defer tx.Rollback()
	var b string
	if err := tx.QueryRowContext(ctx, `SELECT memo FROM mapping_memos WHERE name = ?`, name).Scan(&b); err != nil {
		return fmt.Errorf("keep mapping %s: %w", name, err)
	}
	var m forcesync.MappingMemo
	if err := json.Unmarshal([]byte(b), &m); err != nil {
		return fmt.Errorf("keep mapping %s: %w", name, err)
	}
	m.Removal = forcesync.RemovalKept
	nb, err := json.Marshal(m)
	if err != nil {
		return err
	}
	now := ms(s.now())
	for _, q := range []struct {
		stmt string
		args []any
	}{
		{`UPDATE mapping_memos SET memo = ?, updated = ? WHERE name = ?`, []any{string(nb), now, name}},
		{`DELETE FROM outbox WHERE mapping = ?`, []any{name}},
		{`DELETE FROM claim_leases WHERE mapping = ?`, []any{name}},
		{`UPDATE statuses SET state = 'skipped', error_code = ?, error_message = ?, error_fields = '', held_fp = '', next_attempt = 0, updated = ?
			WHERE mapping = ? AND state IN ('pending', 'retrying', 'held')`,
			[]any{forcesync.CodeMappingRemoved, "mapping " + name + " left the config; its Salesforce records and bindings were kept", now, name}},
	} {
		if _, err := tx.ExecContext(ctx, q.stmt, q.args...); err != nil {
			return fmt.Errorf("keep mapping %s: %w", name, err)
		}
	}
	return tx.Commit()
}

// MarkPasswords implements forcesync.PasswordMarks.
func (s *Store) MarkPasswords(ctx context.Context, source string, keys []string, at int64) error {
	if len(keys) == 0 {
		return nil
	}
	tx, err := s.begin(ctx)
	if err != nil {
		return fmt.Errorf("mark passwords: %w", err)
	}
	defer tx.Rollback()
	args := make([]any, 0, 3*len(keys))
	for _, k := range keys {
		args = append(args, source, k, at)
	}
	if err := execRows(ctx, tx, `INSERT INTO password_marks (source, key, at) VALUES `, "(?, ?, ?)",
		` ON CONFLICT (source, key) DO UPDATE SET at = max(password_marks.at, excluded.at)`, 3, args); err != nil {
		return fmt.Errorf("mark passwords: %w", err)
	}
	return tx.Commit()
}

// PasswordMarked implements forcesync.PasswordMarks.
func (s *Store) PasswordMarked(ctx context.Context, source string, keys []string) (map[string]int64, error) {
	out := map[string]int64{}
	err := eachPiece(len(keys), func(lo, hi int) error {
		rows, err := s.r.QueryContext(ctx, `SELECT key, at FROM password_marks WHERE source = ? AND key IN (`+placeholders(hi-lo)+`)`,
			keyArgs(source, keys[lo:hi])...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var k string
			var at int64
			if err := rows.Scan(&k, &at); err != nil {
				return err
			}
			out[k] = at
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("password marks: %w", err)
	}
	return out, nil
}

// ClearPasswordMark implements forcesync.PasswordMarks.
func (s *Store) ClearPasswordMark(ctx context.Context, source, key string, at int64) error {
	tx, err := s.begin(ctx)
	if err != nil {
		return fmt.Errorf("clear password mark: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM password_marks WHERE source = ? AND key = ? AND at <= ?`, source, key, at); err != nil {
		return fmt.Errorf("clear password mark: %w", err)
	}
	return tx.Commit()
}
