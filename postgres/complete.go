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

// Complete implements forcesync.Store. Per mapping it locks the outbox rows
// of the outcomes (so an Accept of the same keys waits, or is seen), reads
// their statuses, decides in Go, and writes with one statement per kind of
// change.
func (s *Store) Complete(ctx context.Context, owner string, outcomes []forcesync.Outcome, run *forcesync.Run) error {
	byMapping := map[string][]forcesync.Outcome{}
	var order []string
	for _, o := range outcomes {
		m := o.Item.Mapping
		if _, ok := byMapping[m]; !ok {
			order = append(order, m)
		}
		byMapping[m] = append(byMapping[m], o)
	}
	slices.Sort(order)
	for m, os := range byMapping {
		// Key order for the locks; the last outcome of a key repeated wins.
		slices.SortStableFunc(os, func(a, b forcesync.Outcome) int { return strings.Compare(a.Item.Key, b.Item.Key) })
		last := os[:0]
		for i, o := range os {
			if i+1 < len(os) && os[i+1].Item.Key == o.Item.Key {
				continue
			}
			last = append(last, o)
		}
		byMapping[m] = last
	}
	// The mappings whose bindings the outcomes may write: a pull binding
	// one of their Ids waits for this (see bindLock).
	var binding []string
	for _, m := range order {
		for _, o := range byMapping[m] {
			if o.SalesforceID != "" {
				binding = append(binding, m)
				break
			}
		}
	}
	return s.inTx(ctx, "complete", func(tx pgx.Tx) error {
		if err := s.shareBindLocks(ctx, tx, binding); err != nil {
			return err
		}
		now := ms(s.now())
		// The run first, so each attempt of the history names it.
		var runID int64
		if run != nil {
			var err error
			if runID, err = insertRun(ctx, tx, run); err != nil {
				return fmt.Errorf("run: %w", err)
			}
		}
		for _, m := range order {
			if err := completeMapping(ctx, tx, owner, m, byMapping[m], now, runID); err != nil {
				return fmt.Errorf("%s: %w", m, err)
			}
		}
		if run != nil {
			run.ID = runID
		}
		return nil
	})
}

// statusRows collects statuses to upsert, column by column.
type statusRows struct {
	keys, sources, states, sfIDs, codes, msgs, fields, warnings, fps, heldFPs []string
	attempts                                                                  []int32
	next, versions                                                            []int64
}

func (r *statusRows) add(key, source string, s *storeplan.Status) {
	r.keys, r.sources, r.states, r.sfIDs = append(r.keys, key), append(r.sources, source), append(r.states, string(s.State)), append(r.sfIDs, s.SalesforceID)
	r.codes, r.msgs = append(r.codes, s.ErrorCode), append(r.msgs, s.ErrorMessage)
	r.fields, r.warnings = append(r.fields, s.ErrorFields), append(r.warnings, s.Warnings)
	r.fps, r.heldFPs, r.attempts = append(r.fps, s.Fingerprint), append(r.heldFPs, s.HeldFP), append(r.attempts, int32(s.Attempts))
	r.next, r.versions = append(r.next, ms(s.NextAttempt)), append(r.versions, s.Version)
}

func completeMapping(ctx context.Context, tx pgx.Tx, owner, mapping string, outs []forcesync.Outcome, now, runID int64) error {
	keys := make([]string, len(outs))
	for i, o := range outs {
		keys[i] = o.Item.Key
	}
	box := map[string]storeplan.Row{}
	old := map[string]storeplan.Prev{}
	rows, err := tx.Query(ctx, `SELECT o.key, o.seq, COALESCE(l.owner, '') FROM outbox o LEFT JOIN claim_leases l ON l.id = o.lease
		WHERE o.mapping = $1 AND o.key = ANY($2) ORDER BY o.key FOR UPDATE OF o`, mapping, keys)
	if err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	var k string
	var b storeplan.Row
	if _, err := pgx.ForEachRow(rows, []any{&k, &b.Seq, &b.Owner}, func() error { box[k] = b; return nil }); err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	rows, err = tx.Query(ctx, `SELECT k.key, COALESCE(st.sf_id, ''), COALESCE(st.held_fp, ''),
			COALESCE((SELECT MAX(h.n) FROM record_history h WHERE h.mapping = $1 AND h.key = k.key), 0)
		FROM unnest($2::text[]) AS k(key) LEFT JOIN statuses st ON st.mapping = $1 AND st.key = k.key`, mapping, keys)
	if err != nil {
		return fmt.Errorf("statuses: %w", err)
	}
	var p storeplan.Prev
	var n int64
	attempts := map[string]int64{} // the key's last attempt number in the history
	if _, err := pgx.ForEachRow(rows, []any{&k, &p.SalesforceID, &p.HeldFingerprint, &n}, func() error {
		old[k] = p
		attempts[k] = n
		return nil
	}); err != nil {
		return fmt.Errorf("statuses: %w", err)
	}

	var release, done, unbind, unintent, retryKeys []string
	var retryDue []int64
	var bindKeys, bindIDs, bindFPs []string
	var sts statusRows
	var hist historyRows
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
			retryKeys, retryDue = append(retryKeys, it.Key), append(retryDue, ms(o.NextAttempt))
		case storeplan.OutboxDelete:
			done = append(done, it.Key)
		}
		switch {
		case step.Unbind:
			unbind = append(unbind, it.Key)
		case step.Bind:
			bindKeys, bindIDs, bindFPs = append(bindKeys, it.Key), append(bindIDs, o.SalesforceID), append(bindFPs, step.BindFingerprint)
		}
		if step.Unintent {
			unintent = append(unintent, it.Key)
		}
		sts.add(it.Key, it.Source, &step.Status)
		attempts[it.Key]++
		hist.add(storeplan.HistoryRow(o, attempts[it.Key]))
	}
	if err := hist.write(ctx, tx, mapping, now, runID); err != nil {
		return err
	}
	if len(retryKeys) > 0 {
		if _, err := tx.Exec(ctx, `UPDATE outbox o SET lease = NULL, attempts = o.attempts + 1, due_at = t.due
			FROM unnest($2::text[], $3::bigint[]) AS t(key, due) WHERE o.mapping = $1 AND o.key = t.key`, mapping, retryKeys, retryDue); err != nil {
			return fmt.Errorf("retry: %w", err)
		}
	}
	if len(release) > 0 {
		// The newer change set due_at when it arrived; it stays.
		if _, err := tx.Exec(ctx, `UPDATE outbox SET lease = NULL, forced = false WHERE mapping = $1 AND key = ANY($2)`, mapping, release); err != nil {
			return fmt.Errorf("release: %w", err)
		}
	}
	if len(done) > 0 {
		if _, err := tx.Exec(ctx, `DELETE FROM outbox WHERE mapping = $1 AND key = ANY($2)`, mapping, done); err != nil {
			return fmt.Errorf("outbox: %w", err)
		}
	}
	if len(unbind) > 0 {
		if _, err := tx.Exec(ctx, `DELETE FROM bindings WHERE mapping = $1 AND key = ANY($2)`, mapping, unbind); err != nil {
			return fmt.Errorf("bindings: %w", err)
		}
	}
	if len(bindKeys) > 0 {
		if _, err := tx.Exec(ctx, `INSERT INTO bindings (mapping, key, sf_id, fingerprint, updated)
			SELECT $1, k, i, f, $5 FROM unnest($2::text[], $3::text[], $4::text[]) AS t(k, i, f)
			ON CONFLICT (mapping, key) DO UPDATE SET sf_id = excluded.sf_id, fingerprint = excluded.fingerprint, updated = excluded.updated`,
			mapping, bindKeys, bindIDs, bindFPs, now); err != nil {
			return fmt.Errorf("bindings: %w", err)
		}
	}
	if len(unintent) > 0 {
		if _, err := tx.Exec(ctx, `DELETE FROM intents WHERE mapping = $1 AND key = ANY($2)`, mapping, unintent); err != nil {
			return fmt.Errorf("intents: %w", err)
		}
	}
	if len(sts.keys) > 0 {
		if _, err := tx.Exec(ctx, `INSERT INTO statuses (mapping, key, source, state, sf_id, error_code, error_message, error_fields,
				warnings, fingerprint, held_fp, attempts, next_attempt, version, updated)
			SELECT $1, k, s, st, i, c, m, f, w, fp, h, a, n, v, $15
			FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
				$10::text[], $11::text[], $12::integer[], $13::bigint[], $14::bigint[]) AS t(k, s, st, i, c, m, f, w, fp, h, a, n, v)
			ON CONFLICT (mapping, key) DO UPDATE SET state = excluded.state, sf_id = excluded.sf_id,
				error_code = excluded.error_code, error_message = excluded.error_message, error_fields = excluded.error_fields,
				warnings = excluded.warnings, fingerprint = excluded.fingerprint, held_fp = excluded.held_fp,
				attempts = excluded.attempts, next_attempt = excluded.next_attempt,
				version = GREATEST(statuses.version, excluded.version), updated = excluded.updated`,
			mapping, sts.keys, sts.sources, sts.states, sts.sfIDs, sts.codes, sts.msgs, sts.fields, sts.warnings,
			sts.fps, sts.heldFPs, sts.attempts, sts.next, sts.versions, now); err != nil {
			return fmt.Errorf("statuses: %w", err)
		}
	}
	if err := dropEmptyLeases(ctx, tx, mapping, owner); err != nil {
		return fmt.Errorf("leases: %w", err)
	}
	return nil
}

// insertRun writes a run of Complete or RecordPushed and returns its id.
func insertRun(ctx context.Context, tx pgx.Tx, run *forcesync.Run) (int64, error) {
	var id int64
	err := tx.QueryRow(ctx, `INSERT INTO runs (mapping, api, started, finished, records, created, updated, unchanged, deleted, failed, skipped, api_calls)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id`,
		run.Mapping, run.API, ms(run.Started), ms(run.Finished), run.Records, run.Created, run.Updated, run.Unchanged,
		run.Deleted, run.Failed, run.Skipped, run.APICalls).Scan(&id)
	return id, err
}
