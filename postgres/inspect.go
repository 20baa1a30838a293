package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/storeplan"
	"github.com/jackc/pgx/v5"
)

var _ forcesync.Inspector = (*Store)(nil)

const peekJoins = `JOIN source_records r ON r.source = x.source AND r.key = x.key
		LEFT JOIN bindings b ON b.mapping = x.mapping AND b.key = x.key
		LEFT JOIN intents i ON i.mapping = x.mapping AND i.key = x.key`

const peekTail = `r.version, r.op, r.fields,
		COALESCE(b.sf_id, ''), COALESCE(b.fingerprint, ''), COALESCE(b.modstamp, 0), COALESCE(b.updated, 0), b.key IS NOT NULL,
		COALESCE(i.match, ''), COALESCE(i.at, 0), i.key IS NOT NULL`

// Peek implements forcesync.Inspector. It reads and writes nothing (no
// lease, no lock).
func (s *Store) Peek(ctx context.Context, q forcesync.PeekQuery) ([]forcesync.WorkItem, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = 1000
	}
	now := q.Now
	if now.IsZero() {
		now = s.now()
	}
	var rows pgx.Rows
	var err error
	if q.Held {
		rows, err = s.pool.Query(ctx, `SELECT x.key, x.source, 0, 0::bigint, x.attempts, true, x.updated, `+peekTail+`, x.held_fp
			FROM statuses x `+peekJoins+`
			WHERE x.mapping = $1 AND x.state = 'held'
				AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.mapping = x.mapping AND o.key = x.key)
			ORDER BY x.key LIMIT $2 OFFSET $3`, q.Mapping, limit, q.Offset)
	} else {
		rows, err = s.pool.Query(ctx, `SELECT x.key, x.source, x.priority, x.seq, x.attempts, x.forced, x.enqueued, `+peekTail+`,
				COALESCE(st.held_fp, '')
			FROM outbox x `+peekJoins+`
			LEFT JOIN statuses st ON st.mapping = x.mapping AND st.key = x.key
			WHERE x.mapping = $1 AND x.due_at <= $2
				AND (x.lease IS NULL OR x.lease IN (SELECT id FROM claim_leases WHERE mapping = $1 AND until <= $2))
			ORDER BY x.priority, x.due_at, x.enqueued, x.key LIMIT $3 OFFSET $4`, q.Mapping, ms(now), limit, q.Offset)
	}
	if err != nil {
		return nil, fmt.Errorf("peek %s: %w", q.Mapping, err)
	}
	var items []forcesync.WorkItem
	var (
		it                            forcesync.WorkItem
		prio                          int32
		forced, hasBinding, hasIntent bool
		enq, bmod, bupd, iat          int64
		op, sfID, fp, imatch, hf      string
		fields                        string
	)
	_, err = pgx.ForEachRow(rows, []any{&it.Key, &it.Source, &prio, &it.Seq, &it.Attempts, &forced, &enq,
		&it.Version, &op, &fields, &sfID, &fp, &bmod, &bupd, &hasBinding, &imatch, &iat, &hasIntent, &hf}, func() error {
		w := it
		w.Mapping, w.Priority, w.Forced, w.Enqueued = q.Mapping, forcesync.Priority(prio), forced, fromMS(enq)
		w.Op, w.HeldFingerprint = forcesync.Op(op), hf
		w.Fields, w.Unreadable = storeplan.DecodeFields([]byte(fields))
		if hasBinding {
			w.Binding = &forcesync.Binding{Mapping: q.Mapping, Key: w.Key, SalesforceID: sfID,
				Fingerprint: fp, Modstamp: fromMS(bmod), Updated: fromMS(bupd)}
		}
		if hasIntent {
			in := &forcesync.Intent{Key: w.Key, At: fromMS(iat)}
			if err := json.Unmarshal([]byte(imatch), &in.Match); err != nil {
				return fmt.Errorf("%s: stored intent: %w", w.Key, err)
			}
			w.Intent = in
		}
		items = append(items, w)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("peek %s: %w", q.Mapping, err)
	}
	return items, nil
}

// MappingFingerprint implements forcesync.Inspector.
func (s *Store) MappingFingerprint(ctx context.Context, mapping string) (string, bool, error) {
	var fp string
	err := s.pool.QueryRow(ctx, `SELECT fingerprint FROM mappings WHERE name = $1`, mapping).Scan(&fp)
	if errors.Is(err, pgx.ErrNoRows) {
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
	rows, err := s.pool.Query(ctx, `SELECT key, sf_id, fingerprint, modstamp, updated FROM bindings
		WHERE mapping = $1 AND key > $2 ORDER BY key LIMIT $3`, mapping, after, limit)
	if err != nil {
		return nil, fmt.Errorf("bindings %s: %w", mapping, err)
	}
	var out []forcesync.Binding
	var b forcesync.Binding
	var mod, upd int64
	_, err = pgx.ForEachRow(rows, []any{&b.Key, &b.SalesforceID, &b.Fingerprint, &mod, &upd}, func() error {
		c := b
		c.Mapping, c.Modstamp, c.Updated = mapping, fromMS(mod), fromMS(upd)
		out = append(out, c)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("bindings %s: %w", mapping, err)
	}
	return out, nil
}

// Unbind implements forcesync.Inspector.
func (s *Store) Unbind(ctx context.Context, mapping string, keys []string) error {
	if len(keys) == 0 {
		return nil
	}
	return s.inTx(ctx, "unbind "+mapping, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM bindings WHERE mapping = $1 AND key = ANY($2)`, mapping, keys); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE statuses SET sf_id = '', fingerprint = '' WHERE mapping = $1 AND key = ANY($2)`, mapping, keys)
		return err
	})
}

// SaveReconcile implements forcesync.Inspector.
func (s *Store) SaveReconcile(ctx context.Context, run *forcesync.ReconcileRun, findings []forcesync.Finding) error {
	counts, err := json.Marshal(run.Counts)
	if err != nil {
		return err
	}
	return s.inTx(ctx, "save reconcile "+run.Mapping, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO reconcile_runs (mapping, started, finished, checked, api, api_calls, counts, healed, error)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`, run.Mapping, ms(run.Started), ms(run.Finished), run.Checked, run.API,
			run.APICalls, string(counts), run.Healed, run.Error).Scan(&run.ID); err != nil {
			return err
		}
		for i := range findings {
			f := &findings[i]
			f.RunID = run.ID
			fields, err := json.Marshal(f.Fields)
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `INSERT INTO reconcile_findings (run_id, key, kind, sf_id, fields, detail, healed)
				VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`, run.ID, f.Key, string(f.Kind), f.SalesforceID, string(fields), f.Detail, f.Healed); err != nil {
				return fmt.Errorf("finding %s: %w", f.Key, err)
			}
		}
		return nil
	})
}

// ReconcileRuns implements forcesync.Inspector.
func (s *Store) ReconcileRuns(ctx context.Context, mapping string, limit int) ([]forcesync.ReconcileRun, error) {
	if limit <= 0 {
		limit = 20
	}
	rows, err := s.pool.Query(ctx, `SELECT id, mapping, started, finished, checked, api, api_calls, counts, healed, error
		FROM reconcile_runs WHERE ($1 = '' OR mapping = $1) ORDER BY id DESC LIMIT $2`, mapping, limit)
	if err != nil {
		return nil, fmt.Errorf("reconcile runs: %w", err)
	}
	var out []forcesync.ReconcileRun
	var r forcesync.ReconcileRun
	var st, fin int64
	var counts string
	_, err = pgx.ForEachRow(rows, []any{&r.ID, &r.Mapping, &st, &fin, &r.Checked, &r.API, &r.APICalls, &counts, &r.Healed, &r.Error}, func() error {
		c := r
		c.Started, c.Finished, c.Counts = fromMS(st), fromMS(fin), nil
		if err := json.Unmarshal([]byte(counts), &c.Counts); err != nil {
			return fmt.Errorf("run %d: counts: %w", c.ID, err)
		}
		out = append(out, c)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reconcile runs: %w", err)
	}
	return out, nil
}

// Findings implements forcesync.Inspector.
func (s *Store) Findings(ctx context.Context, runID int64) ([]forcesync.Finding, error) {
	rows, err := s.pool.Query(ctx, `SELECT f.key, f.kind, f.sf_id, f.fields, f.detail, f.healed, r.mapping
		FROM reconcile_findings f JOIN reconcile_runs r ON r.id = f.run_id
		WHERE f.run_id = $1 ORDER BY f.key, f.kind, f.sf_id`, runID)
	if err != nil {
		return nil, fmt.Errorf("findings of run %d: %w", runID, err)
	}
	var out []forcesync.Finding
	var f forcesync.Finding
	var kind, fields string
	_, err = pgx.ForEachRow(rows, []any{&f.Key, &kind, &f.SalesforceID, &fields, &f.Detail, &f.Healed, &f.Mapping}, func() error {
		c := f
		c.RunID, c.Kind, c.Fields = runID, forcesync.DriftKind(kind), nil
		if err := json.Unmarshal([]byte(fields), &c.Fields); err != nil {
			return fmt.Errorf("fields: %w", err)
		}
		out = append(out, c)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("findings of run %d: %w", runID, err)
	}
	return out, nil
}
