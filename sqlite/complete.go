package sqlite

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/storeplan"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Complete implements forcesync.Store. It reads the outbox rows and
// statuses of the outcomes in one query each per chunk, decides in Go, and
// writes with set-based statements, so a batch costs a handful of
// statements rather than several per record.
func (s *Store) Complete(ctx context.Context, owner string, outcomes []forcesync.Outcome, run *forcesync.Run) error {
	now := ms(s.now())
	tx, err := s.begin(ctx)
	if err != nil {
		return fmt.Errorf("complete: %w", err)
	}
	defer tx.Rollback()
	// Group by mapping, in the batch's order. A batch is usually of one
	// mapping; then outcomes is used as it is, without copying.
	byMapping := map[string][]forcesync.Outcome{}
	var order []string
	if len(outcomes) > 0 && oneMapping(outcomes) {
		m := outcomes[0].Item.Mapping
		byMapping[m], order = outcomes, []string{m}
	} else {
		for _, o := range outcomes {
			m := o.Item.Mapping
			if _, ok := byMapping[m]; !ok {
				order = append(order, m)
			}
			byMapping[m] = append(byMapping[m], o)
		}
	}
	// The run first, so each attempt of the history names it.
	var runID int64
	if run != nil {
		if runID, err = insertRun(ctx, tx, run); err != nil {
			return fmt.Errorf("complete: run: %w", err)
		}
	}
	for _, m := range order {
		os := byMapping[m]
		if err := eachPiece(len(os), func(lo, hi int) error {
			return completeChunk(ctx, tx, owner, m, os[lo:hi], now, runID)
		}); err != nil {
			return fmt.Errorf("complete %s: %w", m, err)
		}
		if err := dropEmptyLeases(ctx, tx, m, owner); err != nil {
			return fmt.Errorf("complete %s: leases: %w", m, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("complete: commit: %w", err)
	}
	if run != nil {
		run.ID = runID
	}
	return nil
}

func oneMapping(outcomes []forcesync.Outcome) bool {
	for _, o := range outcomes {
		if o.Item.Mapping != outcomes[0].Item.Mapping {
			return false
		}
	}
	return true
}

func completeChunk(ctx context.Context, tx *wtx, owner, mapping string, outs []forcesync.Outcome, now, runID int64) error {
	keys := make([]string, len(outs))
	for i, o := range outs {
		keys[i] = o.Item.Key
	}
	// The outbox row (gone if another owner finished it) and the status of
	// every key, in one pass.
	box := map[string]storeplan.Row{}
	old := map[string]storeplan.Prev{}
	attempts := map[string]int64{} // the key's last attempt number in the history
	doc, err := json.Marshal(keys)
	if err != nil {
		return err
	}
	rows, err := tx.QueryContext(ctx, `SELECT k.value, o.key IS NOT NULL, COALESCE(o.seq, 0), COALESCE(l.owner, ''),
			COALESCE(st.sf_id, ''), COALESCE(st.held_fp, ''),
			COALESCE((SELECT MAX(h.n) FROM record_history h WHERE h.mapping = ? AND h.key = k.value), 0)
		FROM json_each(?) k
		LEFT JOIN outbox o ON o.mapping = ? AND o.key = k.value
		LEFT JOIN claim_leases l ON l.id = o.lease
		LEFT JOIN statuses st ON st.mapping = ? AND st.key = k.value`, mapping, string(doc), mapping, mapping)
	if err != nil {
		return err
	}
	for rows.Next() {
		var (
			k     string
			inBox bool
			b     storeplan.Row
			p     storeplan.Prev
			n     int64
		)
		if err := rows.Scan(&k, &inBox, &b.Seq, &b.Owner, &p.SalesforceID, &p.HeldFingerprint, &n); err != nil {
			rows.Close()
			return err
		}
		if inBox {
			box[k] = b
		}
		old[k] = p
		attempts[k] = n
	}
	if err := rows.Close(); err != nil {
		return err
	}

	var release, done, unbind, unintent []string
	bindArgs := make([]any, 0, len(outs)*5)
	statusArgs := make([]any, 0, len(outs)*15)
	syncedArgs := make([]any, 0, len(outs)*7)
	historyArgs := make([]any, 0, len(outs)*14)
	for i := range outs {
		o := &outs[i]
		it := &o.Item
		var row *storeplan.Row
		if b, ok := box[it.Key]; ok {
			row = &b
		}
		step := storeplan.Complete(o, owner, row, old[it.Key])
		if step.Skip {
			continue
		}
		switch step.Outbox {
		case storeplan.OutboxRelease:
			release = append(release, it.Key)
		case storeplan.OutboxRetry:
			if _, err := tx.ExecContext(ctx, `UPDATE outbox SET lease = NULL, attempts = attempts + 1, due_at = ? WHERE mapping = ? AND key = ?`,
				ms(o.NextAttempt), mapping, it.Key); err != nil {
				return err
			}
		case storeplan.OutboxDelete:
			done = append(done, it.Key) // seq checked in this transaction
		}
		switch {
		case step.Unbind:
			unbind = append(unbind, it.Key)
		case step.Bind:
			bindArgs = append(bindArgs, mapping, it.Key, o.SalesforceID, step.BindFingerprint, now)
		}
		if step.Unintent {
			unintent = append(unintent, it.Key)
		}
		attempts[it.Key]++
		h := storeplan.HistoryRow(o, attempts[it.Key])
		historyArgs = append(historyArgs, mapping, h.Key, h.Slot, h.N, now, runID, h.Op, h.State, h.SalesforceID,
			h.ErrorCode, h.ErrorMessage, h.ErrorFields, h.Fingerprint, h.Version)
		st := &step.Status
		if st.Plain() {
			// The common case, written with half the parameters.
			syncedArgs = append(syncedArgs, mapping, it.Key, it.Source, st.SalesforceID, st.Fingerprint, st.Version, now)
			continue
		}
		statusArgs = append(statusArgs, mapping, it.Key, it.Source, string(st.State), st.SalesforceID, st.ErrorCode, st.ErrorMessage,
			st.ErrorFields, st.Warnings, st.Fingerprint, st.HeldFP, st.Attempts, ms(st.NextAttempt), st.Version, now)
	}
	if err := execRows(ctx, tx, `INSERT INTO record_history (mapping, key, slot, n, at, run_id, op, state, sf_id,
			error_code, error_message, error_fields, fingerprint, version) VALUES `, "("+placeholders(14)+")",
		storeplan.HistoryConflict, 14, historyArgs); err != nil {
		return err
	}
	if err := execKeys(ctx, tx, `UPDATE outbox SET lease = NULL, forced = 0 WHERE mapping = ? AND key IN (`, mapping, release); err != nil {
		return err
	}
	if err := execKeys(ctx, tx, `DELETE FROM outbox WHERE mapping = ? AND key IN (`, mapping, done); err != nil {
		return err
	}
	if err := execKeys(ctx, tx, `DELETE FROM bindings WHERE mapping = ? AND key IN (`, mapping, unbind); err != nil {
		return err
	}
	if err := execRows(ctx, tx, `INSERT INTO bindings (mapping, key, sf_id, fingerprint, updated) VALUES `, "(?, ?, ?, ?, ?)", `
			ON CONFLICT (mapping, key) DO UPDATE SET sf_id = excluded.sf_id, fingerprint = excluded.fingerprint, updated = excluded.updated`, 5, bindArgs); err != nil {
		return err
	}
	if len(unintent) > 0 {
		// Most mappings never record intents (an External ID upsert needs
		// none): one look saves a probe per key.
		var has bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM intents WHERE mapping = ?)`, mapping).Scan(&has); err != nil {
			return err
		}
		if !has {
			unintent = nil
		}
	}
	if err := execKeys(ctx, tx, `DELETE FROM intents WHERE mapping = ? AND key IN (`, mapping, unintent); err != nil {
		return err
	}
	if err := execRows(ctx, tx, `INSERT INTO statuses (mapping, key, source, state, sf_id, error_code, error_message, error_fields, warnings, fingerprint, held_fp, attempts, next_attempt, version, updated)
			VALUES `, "("+placeholders(15)+")", `
			ON CONFLICT (mapping, key) DO UPDATE SET state = excluded.state, sf_id = excluded.sf_id,
				error_code = excluded.error_code, error_message = excluded.error_message, error_fields = excluded.error_fields,
				warnings = excluded.warnings, fingerprint = excluded.fingerprint, held_fp = excluded.held_fp,
				attempts = excluded.attempts, next_attempt = excluded.next_attempt,
				version = MAX(statuses.version, excluded.version), updated = excluded.updated`, 15, statusArgs); err != nil {
		return err
	}
	if err := execRows(ctx, tx, `INSERT INTO statuses (mapping, key, source, state, sf_id, fingerprint, version, updated) VALUES `,
		"(?, ?, ?, 'synced', ?, ?, ?, ?)", `
			ON CONFLICT (mapping, key) DO UPDATE SET state = 'synced', sf_id = excluded.sf_id,
				error_code = '', error_message = '', error_fields = '', warnings = '', fingerprint = excluded.fingerprint,
				held_fp = '', attempts = 0, next_attempt = 0,
				version = MAX(statuses.version, excluded.version), updated = excluded.updated`, 7, syncedArgs); err != nil {
		return err
	}
	return nil
}

// insertRun writes a run of Complete or RecordPushed and returns its id.
func insertRun(ctx context.Context, tx *wtx, run *forcesync.Run) (int64, error) {
	res, err := tx.ExecContext(ctx, `INSERT INTO runs (mapping, api, started, finished, records, created, updated, unchanged, deleted, failed, skipped, api_calls)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		run.Mapping, run.API, ms(run.Started), ms(run.Finished), run.Records, run.Created, run.Updated, run.Unchanged,
		run.Deleted, run.Failed, run.Skipped, run.APICalls)
	if err != nil {
		return 0, err
	}
	return res.LastInsertId()
}
