package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/storeplan"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// SourceRecord implements forcesync.Store.
func (s *Store) SourceRecord(ctx context.Context, source, key string) (*forcesync.SourceRecord, error) {
	var (
		rec     = forcesync.SourceRecord{Source: source, Key: key}
		fields  string
		updated int64
	)
	err := s.r.QueryRowContext(ctx, `SELECT version, deleted, fields, updated, pull_rev FROM source_records WHERE source = ? AND key = ?`, source, key).
		Scan(&rec.Version, &rec.Deleted, &fields, &updated, &rec.PullRev)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, forcesync.Errorf(forcesync.ENotFound, "record %s/%s not found", source, key)
	}
	if err != nil {
		return nil, fmt.Errorf("source record %s/%s: %w", source, key, err)
	}
	if err := storeplan.DecodeRecord(&rec, fields, updated); err != nil {
		return &rec, err // unreadable fields: the record too, for its page (forcesync.Store)
	}
	return &rec, nil
}

// sourceWhere is the WHERE clause and arguments of q.
func sourceWhere(q *forcesync.SourceQuery) (string, []any, error) {
	if err := storeplan.CheckSourceQuery(q); err != nil {
		return "", nil, err
	}
	where, args := `source = ? AND deleted = 0`, []any{q.Source}
	if q.Field != "" {
		where += ` AND lower(json_extract(fields, ?)) = lower(?)`
		args = append(args, "$."+q.Field, q.Value)
	}
	if q.After != "" {
		where += ` AND key > ?`
		args = append(args, q.After)
	}
	return where, args, nil
}

// SourceRecords implements forcesync.Store.
func (s *Store) SourceRecords(ctx context.Context, q forcesync.SourceQuery) ([]forcesync.SourceRecord, error) {
	where, args, err := sourceWhere(&q)
	if err != nil {
		return nil, err
	}
	limit := q.Limit
	if limit == 0 {
		limit = 100
	}
	rows, err := s.r.QueryContext(ctx, `SELECT key, version, fields, updated FROM source_records WHERE `+where+` ORDER BY key LIMIT ? OFFSET ?`,
		append(args, limit, q.Offset)...)
	if err != nil {
		return nil, fmt.Errorf("source records %s: %w", q.Source, err)
	}
	defer rows.Close()
	var out []forcesync.SourceRecord
	for rows.Next() {
		rec := forcesync.SourceRecord{Source: q.Source}
		var fields string
		var updated int64
		if err := rows.Scan(&rec.Key, &rec.Version, &fields, &updated); err != nil {
			return nil, fmt.Errorf("source records %s: %w", q.Source, err)
		}
		storeplan.DecodeListed(&rec, fields, updated) // unreadable: listed with Unreadable set
		out = append(out, rec)
	}
	return out, rows.Err()
}

// CountSourceRecords implements forcesync.Store.
func (s *Store) CountSourceRecords(ctx context.Context, q forcesync.SourceQuery) (int, error) {
	where, args, err := sourceWhere(&q)
	if err != nil {
		return 0, err
	}
	var n int
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM source_records WHERE `+where, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count source records %s: %w", q.Source, err)
	}
	return n, nil
}
