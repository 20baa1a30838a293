package sqlite

import (
	"context"
	"fmt"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/storeplan"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Accept implements forcesync.Store. It reads the stored versions of the
// keys in one query per chunk and writes records, outbox rows and statuses
// with multi-row statements: a few statements per hundred changes rather
// than four per change.
func (s *Store) Accept(ctx context.Context, mappings []string, changes []forcesync.Change) ([]forcesync.AcceptResult, error) {
	now := ms(s.now())
	bySource := map[string][]string{}
	fields := make([]string, len(changes))
	for i := range changes {
		c := &changes[i]
		if c.Key == "" {
			return nil, forcesync.Errorf(forcesync.EInvalid, "change %d: key is empty", i+1)
		}
		f, err := storeplan.FieldsJSON(c)
		if err != nil {
			return nil, err
		}
		fields[i] = f
		bySource[c.Source] = append(bySource[c.Source], c.Key)
	}
	tx, err := s.begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("accept: %w", err)
	}
	defer tx.Rollback()

	stored := map[storeplan.SourceKey]int64{}
	for src, keys := range bySource {
		err := eachPiece(len(keys), func(lo, hi int) error {
			part := keys[lo:hi]
			args := make([]any, 0, len(part)+1)
			args = append(args, src)
			for _, k := range part {
				args = append(args, k)
			}
			rows, err := tx.QueryContext(ctx, `SELECT key, version FROM source_records WHERE source = ? AND key IN (`+placeholders(len(part))+`)`, args...)
			if err != nil {
				return err
			}
			for rows.Next() {
				var k string
				var v int64
				if err := rows.Scan(&k, &v); err != nil {
					rows.Close()
					return err
				}
				stored[storeplan.SourceKey{Source: src, Key: k}] = v
			}
			return rows.Close()
		})
		if err != nil {
			return nil, fmt.Errorf("accept: versions: %w", err)
		}
	}

	res, out := storeplan.Versions(changes, fields, stored)

	seq, err := nextSeq(ctx, tx)
	if err != nil {
		return nil, fmt.Errorf("accept: %w", err)
	}
	if err := acceptWrite(ctx, tx, mappings, out, now, seq); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("accept: commit: %w", err)
	}
	return res, nil
}

// nextSeq takes the next outbox sequence number for the rows one
// transaction writes. It is store-wide and never reused, so a key's seq
// differs between any two writes of its outbox row.
func nextSeq(ctx context.Context, tx *wtx) (int64, error) {
	var seq int64
	if err := tx.QueryRowContext(ctx, `UPDATE counters SET value = value + 1 WHERE name = 'outbox_seq' RETURNING value`).Scan(&seq); err != nil {
		return 0, fmt.Errorf("outbox seq: %w", err)
	}
	return seq, nil
}

// acceptWrite writes the records, and the outbox rows and statuses of every
// mapping, with multi-row statements.
func acceptWrite(ctx context.Context, tx *wtx, mappings []string, rows []storeplan.Record, now, seq int64) error {
	args := make([]any, 0, len(rows)*7)
	for _, r := range rows {
		args = append(args, r.Source, r.Key, r.Version, r.Deleted, r.Op, r.Fields, now)
	}
	if err := execRows(ctx, tx, `INSERT INTO source_records (source, key, version, deleted, op, fields, updated) VALUES `,
		"("+placeholders(7)+")", `
		ON CONFLICT (source, key) DO UPDATE SET version = excluded.version, deleted = excluded.deleted,
			op = excluded.op, fields = excluded.fields, updated = excluded.updated`, 7, args); err != nil {
		return fmt.Errorf("accept: records: %w", err)
	}
	for _, m := range mappings {
		args = args[:0]
		for _, r := range rows {
			args = append(args, m, r.Key, r.Source, r.Priority, seq, now, now)
		}
		if err := execRows(ctx, tx, `INSERT INTO outbox (mapping, key, source, priority, seq, attempts, due_at, enqueued) VALUES `,
			"(?, ?, ?, ?, ?, 0, ?, ?)", `
			ON CONFLICT (mapping, key) DO UPDATE SET seq = excluded.seq, attempts = 0, due_at = excluded.due_at,
				priority = MIN(outbox.priority, excluded.priority), enqueued = excluded.enqueued`, 7, args); err != nil {
			return fmt.Errorf("accept: outbox: %w", err)
		}
		args = args[:0]
		for _, r := range rows {
			args = append(args, m, r.Key, r.Source, r.Version, now)
		}
		if err := execRows(ctx, tx, `INSERT INTO statuses (mapping, key, source, state, version, updated) VALUES `,
			"(?, ?, ?, 'pending', ?, ?)", `
			ON CONFLICT (mapping, key) DO UPDATE SET state = 'pending', version = excluded.version, updated = excluded.updated`, 5, args); err != nil {
			return fmt.Errorf("accept: statuses: %w", err)
		}
	}
	return nil
}
