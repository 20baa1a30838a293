package sqlite

import (
	"context"
	"fmt"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/storeplan"
)

var _ forcesync.PushRecorder = (*Store)(nil)

// RecordPushed implements forcesync.PushRecorder with multi-row statements
// per piece of rows (records, bindings, statuses), in one transaction. Keys
// with an outbox row under mapping are left to the engine by a NOT EXISTS
// on the outbox's primary key.
//
// The statements are shaped for a big job: what every row shares (source,
// mapping, time) is bound once per statement, a synced row's status binds
// four values, a held row's status its own shape. The writer keeps its
// statement journal in memory (temp_store, see Open): every upsert needs
// one, and on disk it was a tenth of the cost.
func (s *Store) RecordPushed(ctx context.Context, source, mapping string, rows []forcesync.PushedRecord, run *forcesync.Run) error {
	now := ms(s.now())
	tx, err := s.begin(ctx)
	if err != nil {
		return fmt.Errorf("record pushed: %w", err)
	}
	defer tx.Rollback()
	if err := recordPushed(ctx, tx, source, mapping, rows, now); err != nil {
		return fmt.Errorf("record pushed %s: %w", mapping, err)
	}
	var runID int64
	if run != nil {
		if runID, err = insertRun(ctx, tx, run); err != nil {
			return fmt.Errorf("record pushed: run: %w", err)
		}
		run.ID = runID
	}
	if err := heldHistory(ctx, tx, mapping, rows, now, runID); err != nil {
		return fmt.Errorf("record pushed %s: %w", mapping, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("record pushed: commit: %w", err)
	}
	return nil
}

// pushedHistory adds an attempt to the history of each key of its rows
// (?1 mapping, ?2 now, ?3 run, ?4 forcesync.HistoryKept), numbered after
// the key's newest.
const pushedHistory = `WITH c (mapping, now, run, kept) AS (SELECT ?1, ?2, ?3, ?4),
		v (key, sf_id, code, msg, fields, fp, version) AS (VALUES %s),
		x AS (SELECT v.*, (SELECT COALESCE(MAX(h.n), 0) + 1 FROM record_history h, c WHERE h.mapping = c.mapping AND h.key = v.key) AS n FROM v)
	INSERT INTO record_history (mapping, key, slot, n, at, run_id, op, state, sf_id, error_code, error_message, error_fields,
		fingerprint, version)
	SELECT c.mapping, x.key, x.n %% c.kept, x.n, c.now, c.run, 'upsert', 'held', x.sf_id, x.code, x.msg, x.fields, x.fp, x.version
	FROM x CROSS JOIN c WHERE true
	` + storeplan.HistoryConflict

// heldHistory records the attempts of the rows Salesforce refused, with
// their errors, so the record's history shows them as it shows the
// engine's. Synced and skipped rows of a file push add no attempt: their
// status says what they came to, and a history row each would cost the
// job's recording a fourth write per row.
func heldHistory(ctx context.Context, tx *wtx, mapping string, rows []forcesync.PushedRecord, now, runID int64) error {
	var held []*forcesync.PushedRecord
	for i := range rows {
		if rows[i].State == forcesync.StateHeld {
			held = append(held, &rows[i])
		}
	}
	return eachPiece(len(held), func(lo, hi int) error {
		args := []any{mapping, now, runID, forcesync.HistoryKept}
		for _, r := range held[lo:hi] {
			code, msg, fields := storeplan.ErrorColumns(r.Error)
			args = append(args, r.Key, r.SalesforceID, code, msg, fields, r.Fingerprint, r.Version)
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf(pushedHistory, tuplesWith(hi-lo, "(?, ?, ?, ?, ?, ?, ?)")), args...); err != nil {
			return fmt.Errorf("history: %w", err)
		}
		return nil
	})
}

// The statements of recordPushed. Each starts with the values its rows
// share as ?1, ?2, ?3 (source or mapping, mapping, now), so the rows'
// plain ? marks are numbered after them. A synced row's status is the
// common case and binds key, Salesforce Id, fingerprint and version.
const (
	pushedRecords = `INSERT INTO source_records (source, key, version, deleted, op, fields, updated)
		SELECT c.source, v.column1, v.column2, 0, 'upsert', v.column3, c.now
		FROM (SELECT ?1 AS source, ?2 AS mapping, ?3 AS now) c CROSS JOIN (VALUES %s) v
		WHERE NOT EXISTS (SELECT 1 FROM outbox o WHERE o.mapping = c.mapping AND o.key = v.column1)
		ON CONFLICT (source, key) DO UPDATE SET version = excluded.version, deleted = 0, op = 'upsert',
			fields = excluded.fields, updated = excluded.updated
		WHERE excluded.version > source_records.version`
	pushedBindings = `INSERT INTO bindings (mapping, key, sf_id, fingerprint, updated)
		SELECT c.mapping, v.column1, v.column2, v.column3, c.now
		FROM (SELECT ?1 AS mapping, ?2 AS now) c CROSS JOIN (VALUES %s) v WHERE true
		ON CONFLICT (mapping, key) DO UPDATE SET sf_id = excluded.sf_id, fingerprint = excluded.fingerprint, updated = excluded.updated`
	pushedSynced = `INSERT INTO statuses (mapping, key, source, state, sf_id, fingerprint, version, updated)
		SELECT c.mapping, v.column1, c.source, 'synced', v.column2, v.column3, v.column4, c.now
		FROM (SELECT ?1 AS source, ?2 AS mapping, ?3 AS now) c CROSS JOIN (VALUES %s) v
		WHERE NOT EXISTS (SELECT 1 FROM outbox o WHERE o.mapping = c.mapping AND o.key = v.column1)
		ON CONFLICT (mapping, key) DO UPDATE SET state = 'synced', sf_id = excluded.sf_id,
			error_code = '', error_message = '', error_fields = '', warnings = '', fingerprint = excluded.fingerprint,
			held_fp = '', attempts = 0, next_attempt = 0,
			version = MAX(statuses.version, excluded.version), updated = excluded.updated`
	// pushedUnsynced writes the statuses of held or skipped rows (?4).
	pushedUnsynced = `INSERT INTO statuses (mapping, key, source, state, sf_id, error_code, error_message, error_fields,
			fingerprint, held_fp, version, updated)
		SELECT c.mapping, v.column1, c.source, c.state, v.column2, v.column3, v.column4, v.column5, '', v.column6, v.column7, c.now
		FROM (SELECT ?1 AS source, ?2 AS mapping, ?3 AS now, ?4 AS state) c CROSS JOIN (VALUES %s) v
		WHERE NOT EXISTS (SELECT 1 FROM outbox o WHERE o.mapping = c.mapping AND o.key = v.column1)
		ON CONFLICT (mapping, key) DO UPDATE SET state = excluded.state,
			error_code = excluded.error_code, error_message = excluded.error_message, error_fields = excluded.error_fields,
			warnings = '', held_fp = excluded.held_fp, attempts = 0, next_attempt = 0,
			version = MAX(statuses.version, excluded.version), updated = excluded.updated`
)

// StageRecords implements forcesync.PushRecorder: the records statement of
// RecordPushed alone, in one transaction.
func (s *Store) StageRecords(ctx context.Context, source, mapping string, rows []forcesync.PushedRecord) error {
	now := ms(s.now())
	tx, err := s.begin(ctx)
	if err != nil {
		return fmt.Errorf("stage records: %w", err)
	}
	defer tx.Rollback()
	if err := writeRecords(ctx, tx, source, mapping, rows, now); err != nil {
		return fmt.Errorf("stage records %s: %w", mapping, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("stage records: commit: %w", err)
	}
	return nil
}

// writeRecords writes the source records of rows (pushedRecords).
func writeRecords(ctx context.Context, tx *wtx, source, mapping string, rows []forcesync.PushedRecord, now int64) error {
	args := make([]any, 0, 3+min(len(rows), maxRows)*3)
	return eachPiece(len(rows), func(lo, hi int) error {
		part := rows[lo:hi]
		args = append(args[:0], source, mapping, now)
		for i := range part {
			r := &part[i]
			args = append(args, r.Key, r.Version, r.Fields)
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf(pushedRecords, tuplesWith(len(part), "(?, ?, ?)")), args...); err != nil {
			return fmt.Errorf("records: %w", err)
		}
		return nil
	})
}

// recordPushed writes the records of rows not staged, then bindings and
// statuses in runs of one state (synced, held or skipped), in the rows' order, so
// a key given twice ends as its last row says.
func recordPushed(ctx context.Context, tx *wtx, source, mapping string, rows []forcesync.PushedRecord, now int64) error {
	unstaged := rows
	for i := range rows {
		if rows[i].Staged {
			unstaged = nil // rows of a staged job are all staged: usually none is left
			for _, r := range rows {
				if !r.Staged {
					unstaged = append(unstaged, r)
				}
			}
			break
		}
	}
	if err := writeRecords(ctx, tx, source, mapping, unstaged, now); err != nil {
		return err
	}
	args := make([]any, 0, 3+min(len(rows), maxRows)*7)
	for lo := 0; lo < len(rows); {
		state := rows[lo].State
		synced := state == forcesync.StateSynced
		hi := lo + 1
		for hi < len(rows) && rows[hi].State == state {
			hi++
		}
		run := rows[lo:hi]
		lo = hi
		err := eachPiece(len(run), func(lo, hi int) error {
			part := run[lo:hi]
			if !synced {
				args = append(args[:0], source, mapping, now, string(state))
				for i := range part {
					r := &part[i]
					code, msg, fields := storeplan.ErrorColumns(r.Error)
					args = append(args, r.Key, r.SalesforceID, code, msg, fields, r.Fingerprint, r.Version)
				}
				if _, err := tx.ExecContext(ctx, fmt.Sprintf(pushedUnsynced, tuplesWith(len(part), "(?, ?, ?, ?, ?, ?, ?)")), args...); err != nil {
					return fmt.Errorf("statuses: %w", err)
				}
				return nil
			}
			args = append(args[:0], mapping, now)
			bound := 0
			for i := range part {
				r := &part[i]
				if !r.Unchanged {
					args = append(args, r.Key, r.SalesforceID, r.Fingerprint)
					bound++
				}
			}
			if bound > 0 {
				if _, err := tx.ExecContext(ctx, fmt.Sprintf(pushedBindings, tuplesWith(bound, "(?, ?, ?)")), args...); err != nil {
					return fmt.Errorf("bindings: %w", err)
				}
			}
			args = append(args[:0], source, mapping, now)
			for i := range part {
				r := &part[i]
				args = append(args, r.Key, r.SalesforceID, r.Fingerprint, r.Version)
			}
			if _, err := tx.ExecContext(ctx, fmt.Sprintf(pushedSynced, tuplesWith(len(part), "(?, ?, ?, ?)")), args...); err != nil {
				return fmt.Errorf("statuses: %w", err)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}
