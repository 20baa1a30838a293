package postgres

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/storeplan"
	"github.com/jackc/pgx/v5"
)

var _ forcesync.PushRecorder = (*Store)(nil)

// StageRecords implements forcesync.PushRecorder: the records statement of
// RecordPushed alone, rows in key order.
func (s *Store) StageRecords(ctx context.Context, source, mapping string, rows []forcesync.PushedRecord) error {
	sorted := slices.Clone(rows)
	slices.SortFunc(sorted, func(a, b forcesync.PushedRecord) int { return strings.Compare(a.Key, b.Key) })
	keys, flds, vers := make([]string, len(sorted)), make([]string, len(sorted)), make([]int64, len(sorted))
	for i, r := range sorted {
		keys[i], flds[i], vers[i] = r.Key, r.Fields, r.Version
	}
	return s.inTx(ctx, "stage records", func(tx pgx.Tx) error {
		return writeRecords(ctx, tx, source, mapping, keys, vers, flds, ms(s.now()))
	})
}

// writeRecords writes source records from arrays, skipping keys with an
// outbox row under mapping and older versions.
func writeRecords(ctx context.Context, tx pgx.Tx, source, mapping string, keys []string, vers []int64, flds []string, now int64) error {
	if len(keys) == 0 {
		return nil
	}
	if _, err := tx.Exec(ctx, `INSERT INTO source_records (source, key, version, deleted, op, fields, updated)
		SELECT $1, k, v, false, 'upsert', f, $6 FROM unnest($3::text[], $4::bigint[], $5::text[]) AS t(k, v, f)
		WHERE NOT EXISTS (SELECT 1 FROM outbox o WHERE o.mapping = $2 AND o.key = t.k)
		ON CONFLICT (source, key) DO UPDATE SET version = excluded.version, deleted = false, op = 'upsert',
			fields = excluded.fields, updated = excluded.updated
		WHERE excluded.version > source_records.version`, source, mapping, keys, vers, flds, now); err != nil {
		return fmt.Errorf("records: %w", err)
	}
	return nil
}

// RecordPushed implements forcesync.PushRecorder: three statements from
// arrays (records, bindings, statuses) and the run, in one transaction,
// rows in key order so concurrent writers lock in the same order. Keys with
// an outbox row under mapping are left to the engine by a NOT EXISTS.
func (s *Store) RecordPushed(ctx context.Context, source, mapping string, rows []forcesync.PushedRecord, run *forcesync.Run) error {
	order := make([]int, len(rows))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(rows[a].Key, rows[b].Key) })
	n := len(rows)
	var (
		keys, flds, states, ids, codes, msgs, efs, fps, helds = make([]string, n), make([]string, n), make([]string, n),
			make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		vers              = make([]int64, n)
		bKeys, bIDs, bFPs []string
	)
	for j, i := range order {
		r := &rows[i]
		keys[j], flds[j], states[j], ids[j], vers[j] = r.Key, r.Fields, string(r.State), r.SalesforceID, r.Version
		if r.State == forcesync.StateSynced {
			fps[j] = r.Fingerprint
			if !r.Unchanged {
				bKeys, bIDs, bFPs = append(bKeys, r.Key), append(bIDs, r.SalesforceID), append(bFPs, r.Fingerprint)
			}
		} else {
			helds[j] = r.Fingerprint
		}
		codes[j], msgs[j], efs[j] = storeplan.ErrorColumns(r.Error)
	}
	var rKeys, rFlds []string
	var rVers []int64
	for j, i := range order {
		if !rows[i].Staged {
			rKeys, rFlds, rVers = append(rKeys, keys[j]), append(rFlds, flds[j]), append(rVers, vers[j])
		}
	}
	return s.inTx(ctx, "record pushed", func(tx pgx.Tx) error {
		if len(bKeys) > 0 {
			if err := s.shareBindLocks(ctx, tx, []string{mapping}); err != nil {
				return err
			}
		}
		now := ms(s.now())
		if err := writeRecords(ctx, tx, source, mapping, rKeys, rVers, rFlds, now); err != nil {
			return err
		}
		if len(bKeys) > 0 {
			if _, err := tx.Exec(ctx, `INSERT INTO bindings (mapping, key, sf_id, fingerprint, updated)
				SELECT $1, k, i, f, $5 FROM unnest($2::text[], $3::text[], $4::text[]) AS t(k, i, f)
				ON CONFLICT (mapping, key) DO UPDATE SET sf_id = excluded.sf_id, fingerprint = excluded.fingerprint, updated = excluded.updated`,
				mapping, bKeys, bIDs, bFPs, now); err != nil {
				return fmt.Errorf("bindings: %w", err)
			}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO statuses (mapping, key, source, state, sf_id, error_code, error_message, error_fields,
				fingerprint, held_fp, version, updated)
			SELECT $1, k, $2, st, i, c, m, f, fp, h, v, $12
			FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::bigint[])
				AS t(k, st, i, c, m, f, fp, h, v)
			WHERE NOT EXISTS (SELECT 1 FROM outbox o WHERE o.mapping = $1 AND o.key = t.k)
			ON CONFLICT (mapping, key) DO UPDATE SET state = excluded.state,
				sf_id = CASE WHEN excluded.state = 'synced' THEN excluded.sf_id ELSE statuses.sf_id END,
				error_code = excluded.error_code, error_message = excluded.error_message, error_fields = excluded.error_fields,
				warnings = '', fingerprint = CASE WHEN excluded.state = 'synced' THEN excluded.fingerprint ELSE statuses.fingerprint END,
				held_fp = excluded.held_fp, attempts = 0, next_attempt = 0,
				version = GREATEST(statuses.version, excluded.version), updated = excluded.updated`,
			mapping, source, keys, states, ids, codes, msgs, efs, fps, helds, vers, now); err != nil {
			return fmt.Errorf("statuses: %w", err)
		}
		if run != nil {
			var err error
			if run.ID, err = insertRun(ctx, tx, run); err != nil {
				return fmt.Errorf("run: %w", err)
			}
		}
		return heldHistory(ctx, tx, mapping, rows, now, run)
	})
}

// heldHistory records the attempts of the rows Salesforce refused, with
// their errors, each numbered after its key's newest attempt, so the
// record's history shows them as it shows the engine's. Synced and
// skipped rows of a file push add no attempt: their status says what they
// came to, and a history row each would cost the job's recording a fourth
// write per row.
func heldHistory(ctx context.Context, tx pgx.Tx, mapping string, rows []forcesync.PushedRecord, now int64, run *forcesync.Run) error {
	var keys, ids, codes, msgs, efs, fps []string
	var vers []int64
	for i := range rows {
		r := &rows[i]
		if r.State != forcesync.StateHeld {
			continue
		}
		code, msg, fields := storeplan.ErrorColumns(r.Error)
		keys, ids, codes, msgs, efs, fps, vers = append(keys, r.Key), append(ids, r.SalesforceID), append(codes, code),
			append(msgs, msg), append(efs, fields), append(fps, r.Fingerprint), append(vers, r.Version)
	}
	if len(keys) == 0 {
		return nil
	}
	var runID int64
	if run != nil {
		runID = run.ID
	}
	if _, err := tx.Exec(ctx, `INSERT INTO record_history (mapping, key, slot, n, at, run_id, op, state, sf_id,
			error_code, error_message, error_fields, fingerprint, version)
		SELECT $1, x.k, x.n % $4, x.n, $2, $3, 'upsert', 'held', x.i, x.c, x.m, x.f, x.fp, x.v
		FROM (SELECT t.*, (SELECT COALESCE(MAX(h.n), 0) + 1 FROM record_history h WHERE h.mapping = $1 AND h.key = t.k) AS n
			FROM unnest($5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::bigint[]) AS t(k, i, c, m, f, fp, v)) x
		`+storeplan.HistoryConflict,
		mapping, now, runID, forcesync.HistoryKept, keys, ids, codes, msgs, efs, fps, vers); err != nil {
		return fmt.Errorf("history: %w", err)
	}
	return nil
}
