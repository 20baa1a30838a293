package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/forcesync/forcesync"
)

var _ forcesync.Inspector = (*Store)(nil)

// peekColumns are the work item's columns, after its FROM clause's
// aliases: o (outbox or statuses), r, b, i, st.
const peekJoins = `JOIN source_records r ON r.source = x.source AND r.key = x.key
		LEFT JOIN bindings b ON b.mapping = x.mapping AND b.key = x.key
		LEFT JOIN intents i ON i.mapping = x.mapping AND i.key = x.key`

const peekTail = `r.version, r.op, r.fields,
		COALESCE(b.sf_id, ''), COALESCE(b.fingerprint, ''), COALESCE(b.modstamp, 0), COALESCE(b.updated, 0), b.key IS NOT NULL,
		COALESCE(i.match, ''), COALESCE(i.at, 0), i.key IS NOT NULL`

// Peek implements forcesync.Inspector. It reads through the readers and
// writes nothing.
func (s *Store) Peek(ctx context.Context, q forcesync.PeekQuery) ([]forcesync.WorkItem, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = 1000
	}
	now := q.Now
	if now.IsZero() {
		now = s.now()
	}
	var rows *sql.Rows
	var err error
	if q.Held {
		rows, err = s.r.QueryContext(ctx, `SELECT x.key, x.source, 0, 0, x.attempts, 1, x.updated, `+peekTail+`, x.held_fp
			FROM statuses x `+peekJoins+`
			WHERE x.mapping = ? AND x.state = 'held'
				AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.mapping = x.mapping AND o.key = x.key)
			ORDER BY x.key LIMIT ? OFFSET ?`, q.Mapping, limit, q.Offset)
	} else {
		rows, err = s.r.QueryContext(ctx, `SELECT x.key, x.source, x.priority, x.seq, x.attempts, x.forced, x.enqueued, `+peekTail+`,
				COALESCE(st.held_fp, '')
			FROM outbox x `+peekJoins+`
			LEFT JOIN statuses st ON st.mapping = x.mapping AND st.key = x.key
			WHERE x.mapping = ?1 AND x.due_at <= ?2
				AND (x.lease IS NULL OR x.lease IN (SELECT id FROM claim_leases WHERE mapping = ?1 AND until <= ?2))
			ORDER BY x.priority, x.due_at, x.enqueued, x.key LIMIT ?3 OFFSET ?4`, q.Mapping, ms(now), limit, q.Offset)
	}
	if err != nil {
		return nil, fmt.Errorf("peek %s: %w", q.Mapping, err)
	}
	defer rows.Close()
	var items []forcesync.WorkItem
	for rows.Next() {
		it, err := scanWorkItem(rows, q.Mapping, "peek")
		if err != nil {
			return nil, err
		}
		items = append(items, it)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("peek %s: %w", q.Mapping, err)
	}
	return items, nil
}

// MappingFingerprint implements forcesync.Inspector.
func (s *Store) MappingFingerprint(ctx context.Context, mapping string) (string, bool, error) {
	var fp string
	err := s.r.QueryRowContext(ctx, `SELECT fingerprint FROM mappings WHERE name = ?`, mapping).Scan(&fp)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("mapping fingerprint %s: %w", mapping, err)
	}
	return fp, true, nil
}

// Bindings implements forcesync.Inspector.
func (s *Store) Bindings(ctx context.Context, mapping, after string, limit int) ([]forcesync.Binding, error) {
	if limit <= 0 {
		limit = 1000
	}
	rows, err := s.r.QueryContext(ctx, `SELECT key, sf_id, fingerprint, modstamp, updated FROM bindings
		WHERE mapping = ? AND key > ? ORDER BY key LIMIT ?`, mapping, after, limit)
	if err != nil {
		return nil, fmt.Errorf("bindings %s: %w", mapping, err)
	}
	defer rows.Close()
	var out []forcesync.Binding
	for rows.Next() {
		b := forcesync.Binding{Mapping: mapping}
		var mod, upd int64
		if err := rows.Scan(&b.Key, &b.SalesforceID, &b.Fingerprint, &mod, &upd); err != nil {
			return nil, fmt.Errorf("bindings %s: %w", mapping, err)
		}
		b.Modstamp, b.Updated = fromMS(mod), fromMS(upd)
		out = append(out, b)
	}
	return out, rows.Err()
}

// Unbind implements forcesync.Inspector.
func (s *Store) Unbind(ctx context.Context, mapping string, keys []string) error {
	if len(keys) == 0 {
		return nil
	}
	tx, err := s.begin(ctx)
	if err != nil {
		return fmt.Errorf("unbind %s: %w", mapping, err)
	}
	defer tx.Rollback()
	if err := execKeys(ctx, tx, `DELETE FROM bindings WHERE mapping = ? AND key IN (`, mapping, keys); err != nil {
		return fmt.Errorf("unbind %s: %w", mapping, err)
	}
	if err := execKeys(ctx, tx, `UPDATE statuses SET sf_id = '', fingerprint = '' WHERE mapping = ? AND key IN (`, mapping, keys); err != nil {
		return fmt.Errorf("unbind %s: %w", mapping, err)
	}
	return tx.Commit()
}

// SaveReconcile implements forcesync.Inspector.
func (s *Store) SaveReconcile(ctx context.Context, run *forcesync.ReconcileRun, findings []forcesync.Finding) error {
	counts, err := json.Marshal(run.Counts)
	if err != nil {
		return err
	}
	tx, err := s.begin(ctx)
	if err != nil {
		return fmt.Errorf("save reconcile %s: %w", run.Mapping, err)
	}
	defer tx.Rollback()
	if err := tx.QueryRowContext(ctx, `INSERT INTO reconcile_runs (mapping, started, finished, checked, api, api_calls, counts, healed, error)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, run.Mapping, ms(run.Started), ms(run.Finished), run.Checked, run.API,
		run.APICalls, string(counts), run.Healed, run.Error).Scan(&run.ID); err != nil {
		return fmt.Errorf("save reconcile %s: %w", run.Mapping, err)
	}
	for i := range findings {
		f := &findings[i]
		f.RunID = run.ID
		fields, err := json.Marshal(f.Fields)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO reconcile_findings (run_id, key, kind, sf_id, fields, detail, healed)
			VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, run.ID, f.Key, string(f.Kind), f.SalesforceID, string(fields), f.Detail, f.Healed); err != nil {
			return fmt.Errorf("save reconcile %s: finding %s: %w", run.Mapping, f.Key, err)
		}
	}
	return tx.Commit()
}

// ReconcileRuns implements forcesync.Inspector.
func (s *Store) ReconcileRuns(ctx context.Context, mapping string, limit int) ([]forcesync.ReconcileRun, error) {
	if limit <= 0 {
		limit = 20
	}
	rows, err := s.r.QueryContext(ctx, `SELECT id, mapping, started, finished, checked, api, api_calls, counts, healed, error
		FROM reconcile_runs WHERE (? = '' OR mapping = ?) ORDER BY id DESC LIMIT ?`, mapping, mapping, limit)
	if err != nil {
		return nil, fmt.Errorf("reconcile runs: %w", err)
	}
	defer rows.Close()
	var out []forcesync.ReconcileRun
	for rows.Next() {
		var r forcesync.ReconcileRun
		var st, fin int64
		var counts string
		if err := rows.Scan(&r.ID, &r.Mapping, &st, &fin, &r.Checked, &r.API, &r.APICalls, &counts, &r.Healed, &r.Error); err != nil {
			return nil, fmt.Errorf("reconcile runs: %w", err)
		}
		r.Started, r.Finished = fromMS(st), fromMS(fin)
		if err := json.Unmarshal([]byte(counts), &r.Counts); err != nil {
			return nil, fmt.Errorf("reconcile run %d: counts: %w", r.ID, err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Findings implements forcesync.Inspector.
func (s *Store) Findings(ctx context.Context, runID int64) ([]forcesync.Finding, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT f.key, f.kind, f.sf_id, f.fields, f.detail, f.healed, r.mapping
		FROM reconcile_findings f JOIN reconcile_runs r ON r.id = f.run_id
		WHERE f.run_id = ? ORDER BY f.key, f.kind, f.sf_id`, runID)
	if err != nil {
		return nil, fmt.Errorf("findings of run %d: %w", runID, err)
	}
	defer rows.Close()
	var out []forcesync.Finding
	for rows.Next() {
		f := forcesync.Finding{RunID: runID}
		var kind, fields string
		if err := rows.Scan(&f.Key, &kind, &f.SalesforceID, &fields, &f.Detail, &f.Healed, &f.Mapping); err != nil {
			return nil, fmt.Errorf("findings of run %d: %w", runID, err)
		}
		f.Kind = forcesync.DriftKind(kind)
		if err := json.Unmarshal([]byte(fields), &f.Fields); err != nil {
			return nil, fmt.Errorf("findings of run %d: fields: %w", runID, err)
		}
		out = append(out, f)
	}
	return out, rows.Err()
}
