package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/storeplan"
	"github.com/jackc/pgx/v5"
)

// SourceRecord implements forcesync.Store.
func (s *Store) SourceRecord(ctx context.Context, source, key string) (*forcesync.SourceRecord, error) {
	var (
		rec     = forcesync.SourceRecord{Source: source, Key: key}
		fields  string
		updated int64
	)
	err := s.pool.QueryRow(ctx, `SELECT version, deleted, fields, updated, pull_rev FROM source_records WHERE source = $1 AND key = $2 AND version > 0`, source, key).
		Scan(&rec.Version, &rec.Deleted, &fields, &updated, &rec.PullRev)
	if errors.Is(err, pgx.ErrNoRows) {
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
	// version > 0 leaves out an Accept's placeholder rows.
	where, args := `source = $1 AND NOT deleted AND version > 0`, []any{q.Source}
	if q.Field != "" {
		where += ` AND lower(fields::jsonb ->> $2) = lower($3)`
		args = append(args, q.Field, q.Value)
	}
	if q.After != "" {
		args = append(args, q.After)
		where += fmt.Sprintf(` AND key > $%d`, len(args))
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
	n := len(args)
	rows, err := s.pool.Query(ctx, fmt.Sprintf(`SELECT key, version, fields, updated FROM source_records WHERE %s ORDER BY key LIMIT $%d OFFSET $%d`, where, n+1, n+2),
		append(args, limit, q.Offset)...)
	if err != nil {
		return nil, fmt.Errorf("source records %s: %w", q.Source, err)
	}
	var (
		out     []forcesync.SourceRecord
		rec     = forcesync.SourceRecord{Source: q.Source}
		fields  string
		updated int64
	)
	_, err = pgx.ForEachRow(rows, []any{&rec.Key, &rec.Version, &fields, &updated}, func() error {
		r := rec
		storeplan.DecodeListed(&r, fields, updated) // unreadable: listed with Unreadable set
		out = append(out, r)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("source records %s: %w", q.Source, err)
	}
	return out, nil
}

// CountSourceRecords implements forcesync.Store.
func (s *Store) CountSourceRecords(ctx context.Context, q forcesync.SourceQuery) (int, error) {
	where, args, err := sourceWhere(&q)
	if err != nil {
		return 0, err
	}
	var n int
	if err := s.pool.QueryRow(ctx, `SELECT COUNT(*) FROM source_records WHERE `+where, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count source records %s: %w", q.Source, err)
	}
	return n, nil
}
