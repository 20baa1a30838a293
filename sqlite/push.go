package sqlite

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/forcesync/forcesync"
)

var _ forcesync.PushRecorder = (*Store)(nil)

// RecordPushed implements forcesync.PushRecorder with three multi-row
// statements per piece of rows (records, bindings, statuses), in one
// transaction. Keys with an outbox row under mapping are left to the
// engine by a NOT EXISTS on the outbox's primary key.
func (s *Store) RecordPushed(ctx context.Context, source, mapping string, rows []forcesync.PushedRecord, run *forcesync.Run) error {
	now := ms(s.now())
	tx, err := s.begin(ctx)
	if err != nil {
		return fmt.Errorf("record pushed: %w", err)
	}
	defer tx.Rollback()
	args := make([]any, 0, min(len(rows), maxRows)*12+1)
	err = eachPiece(len(rows), func(lo, hi int) error {
		part := rows[lo:hi]
		args = args[:0]
		for i := range part {
			r := &part[i]
			args = append(args, source, r.Key, r.Version, r.Fields, now)
		}
		args = append(args, mapping)
		if _, err := tx.ExecContext(ctx, `INSERT INTO source_records (source, key, version, deleted, op, fields, updated)
			SELECT column1, column2, column3, 0, 'upsert', column4, column5 FROM (VALUES `+tuplesWith(len(part), "(?, ?, ?, ?, ?)")+`) v
			WHERE NOT EXISTS (SELECT 1 FROM outbox o WHERE o.mapping = ? AND o.key = v.column2)
			ON CONFLICT (source, key) DO UPDATE SET version = excluded.version, deleted = 0, op = 'upsert',
				fields = excluded.fields, updated = excluded.updated
			WHERE excluded.version > source_records.version`, args...); err != nil {
			return fmt.Errorf("records: %w", err)
		}
		args = args[:0]
		for i := range part {
			if r := &part[i]; r.State == forcesync.StateSynced {
				args = append(args, mapping, r.Key, r.SalesforceID, r.Fingerprint, now)
			}
		}
		if err := execRows(ctx, tx, `INSERT INTO bindings (mapping, key, sf_id, fingerprint, updated) VALUES `, "(?, ?, ?, ?, ?)", `
			ON CONFLICT (mapping, key) DO UPDATE SET sf_id = excluded.sf_id, fingerprint = excluded.fingerprint, updated = excluded.updated`, 5, args); err != nil {
			return fmt.Errorf("bindings: %w", err)
		}
		args = args[:0]
		for i := range part {
			r := &part[i]
			var code, msg, fields, fp, held string
			if r.State == forcesync.StateSynced {
				fp = r.Fingerprint
			} else {
				held = r.Fingerprint
			}
			if r.Error != nil {
				code, msg = r.Error.Code, r.Error.Message
				if len(r.Error.Fields) > 0 {
					b, _ := json.Marshal(r.Error.Fields)
					fields = string(b)
				}
			}
			args = append(args, mapping, r.Key, source, string(r.State), r.SalesforceID, code, msg, fields, fp, held, r.Version, now)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO statuses (mapping, key, source, state, sf_id, error_code, error_message, error_fields,
				fingerprint, held_fp, version, updated)
			SELECT * FROM (VALUES `+tuplesWith(len(part), "("+placeholders(12)+")")+`) v
			WHERE NOT EXISTS (SELECT 1 FROM outbox o WHERE o.mapping = v.column1 AND o.key = v.column2)
			ON CONFLICT (mapping, key) DO UPDATE SET state = excluded.state,
				sf_id = CASE WHEN excluded.state = 'synced' THEN excluded.sf_id ELSE statuses.sf_id END,
				error_code = excluded.error_code, error_message = excluded.error_message, error_fields = excluded.error_fields,
				warnings = '', fingerprint = CASE WHEN excluded.state = 'synced' THEN excluded.fingerprint ELSE statuses.fingerprint END,
				held_fp = excluded.held_fp, attempts = 0, next_attempt = 0,
				version = MAX(statuses.version, excluded.version), updated = excluded.updated`, args...); err != nil {
			return fmt.Errorf("statuses: %w", err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("record pushed %s: %w", mapping, err)
	}
	if run != nil {
		res, err := tx.ExecContext(ctx, `INSERT INTO runs (mapping, api, started, finished, records, created, updated, unchanged, deleted, failed, skipped, api_calls)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			run.Mapping, run.API, ms(run.Started), ms(run.Finished), run.Records, run.Created, run.Updated, run.Unchanged,
			run.Deleted, run.Failed, run.Skipped, run.APICalls)
		if err != nil {
			return fmt.Errorf("record pushed: run: %w", err)
		}
		run.ID, _ = res.LastInsertId()
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("record pushed: commit: %w", err)
	}
	return nil
}
