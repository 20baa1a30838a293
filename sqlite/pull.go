package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/storeplan"
)

var _ forcesync.PullStore = (*Store)(nil)

// Watermark implements forcesync.PullStore.
func (s *Store) Watermark(ctx context.Context, mapping string) (forcesync.Watermark, error) {
	wm := forcesync.Watermark{Mapping: mapping, Seen: map[string]time.Time{}}
	var instant, gen int64
	var seen string
	err := s.r.QueryRowContext(ctx, `SELECT instant, seen, gen FROM pull_watermarks WHERE mapping = ?`, mapping).Scan(&instant, &seen, &gen)
	if errors.Is(err, sql.ErrNoRows) {
		return wm, nil
	}
	if err != nil {
		return wm, fmt.Errorf("watermark %s: %w", mapping, err)
	}
	wm.Instant, wm.Gen = fromMS(instant), gen
	wm.Seen, err = storeplan.DecodeSeen(seen)
	return wm, err
}

// PullBindings implements forcesync.PullStore.
func (s *Store) PullBindings(ctx context.Context, mapping string, ids []string) (map[string]forcesync.PullBinding, error) {
	out := map[string]forcesync.PullBinding{}
	err := eachPiece(len(ids), func(lo, hi int) error {
		part := ids[lo:hi]
		args := []any{mapping}
		for _, id := range part {
			args = append(args, id)
		}
		rows, err := s.r.QueryContext(ctx, `SELECT b.key, b.sf_id, b.fingerprint, COALESCE(pb.base, ''), COALESCE(pn.fields, ''), COALESCE(pn.held, '')
			FROM bindings b
			LEFT JOIN pull_bases pb ON pb.mapping = b.mapping AND pb.key = b.key
			LEFT JOIN push_notes pn ON pn.mapping = b.mapping AND pn.key = b.key AND pn.fingerprint = b.fingerprint
			WHERE b.mapping = ? AND b.sf_id IN (`+placeholders(len(part))+`)`, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var b forcesync.PullBinding
			var base, pushed, held string
			if err := rows.Scan(&b.Key, &b.SalesforceID, &b.Fingerprint, &base, &pushed, &held); err != nil {
				return err
			}
			if b.Held, err = storeplan.DecodeHeld(held); err != nil {
				return err
			}
			if b.Base, err = storeplan.DecodeMap(base); err != nil {
				return err
			}
			if b.Pushed, err = storeplan.DecodeMap(pushed); err != nil {
				return err
			}
			out[b.SalesforceID] = b
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("pull bindings %s: %w", mapping, err)
	}
	return out, nil
}

// UnboundKeys implements forcesync.PullStore.
func (s *Store) UnboundKeys(ctx context.Context, mapping string, ids []string) (map[string]string, error) {
	out := map[string]string{}
	err := eachPiece(len(ids), func(lo, hi int) error {
		args := []any{mapping}
		for _, id := range ids[lo:hi] {
			args = append(args, id)
		}
		rows, err := s.r.QueryContext(ctx, `SELECT sf_id, key FROM pull_unbound WHERE mapping = ? AND sf_id IN (`+placeholders(hi-lo)+`)`, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id, key string
			if err := rows.Scan(&id, &key); err != nil {
				return err
			}
			out[id] = key
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("unbound keys %s: %w", mapping, err)
	}
	return out, nil
}

// NotePushed implements forcesync.PullStore.
func (s *Store) NotePushed(ctx context.Context, mapping string, notes []forcesync.PushNote) error {
	if len(notes) == 0 {
		return nil
	}
	tx, err := s.begin(ctx)
	if err != nil {
		return fmt.Errorf("note pushed: %w", err)
	}
	defer tx.Rollback()
	now := ms(s.now())
	for _, n := range notes {
		f, err := storeplan.JSONText(n.Fields)
		if err != nil {
			return err
		}
		held, err := storeplan.EncodeHeld(n.Held)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO push_notes (mapping, key, fingerprint, fields, held, at) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (mapping, key, fingerprint) DO UPDATE SET fields = excluded.fields, held = excluded.held, at = excluded.at`,
			mapping, n.Key, n.Fingerprint, f, held, now); err != nil {
			return fmt.Errorf("note pushed: %w", err)
		}
	}
	return tx.Commit()
}

// CommitPull implements forcesync.PullStore.
func (s *Store) CommitPull(ctx context.Context, c *forcesync.PullCommit) error {
	tx, err := s.begin(ctx)
	if err != nil {
		return fmt.Errorf("commit pull: %w", err)
	}
	defer tx.Rollback()
	now := ms(c.Now)
	var gen int64
	err = tx.QueryRowContext(ctx, `SELECT gen FROM pull_watermarks WHERE mapping = ?`, c.Mapping).Scan(&gen)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("commit pull: watermark: %w", err)
	}
	if gen != c.Watermark.Gen {
		return forcesync.ErrPullOvertaken
	}
	for i := range c.Records {
		if err := s.commitPulled(ctx, tx, c, &c.Records[i], now); err != nil {
			return err
		}
	}
	seen, err := storeplan.EncodeSeen(c.Watermark.Seen)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO pull_watermarks (mapping, instant, seen, updated, gen) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (mapping) DO UPDATE SET instant = excluded.instant, seen = excluded.seen, updated = excluded.updated, gen = excluded.gen`,
		c.Mapping, ms(c.Watermark.Instant), seen, now, gen+1); err != nil {
		return fmt.Errorf("commit pull: watermark: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit pull: %w", err)
	}
	return nil
}

func (s *Store) commitPulled(ctx context.Context, tx *wtx, c *forcesync.PullCommit, r *forcesync.PulledRecord, now int64) error {
	var fp string
	err := tx.QueryRowContext(ctx, `SELECT fingerprint FROM bindings WHERE mapping = ? AND key = ?`, c.Mapping, r.Key).Scan(&fp)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("commit pull: binding: %w", err)
	}
	if fp != r.ExpectFingerprint {
		return storeplan.StalePull(c.Mapping, r.Key, "its binding")
	}
	var version, rev, updated int64
	err = tx.QueryRowContext(ctx, `SELECT version, pull_rev, updated FROM source_records WHERE source = ? AND key = ?`, c.Source, r.Key).Scan(&version, &rev, &updated)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("commit pull: source record: %w", err)
	}
	if version != r.ExpectVersion || rev != r.ExpectPullRev {
		return storeplan.StalePull(c.Mapping, r.Key, "its source record")
	}
	switch {
	case r.Unbind:
		if _, err := tx.ExecContext(ctx, `DELETE FROM bindings WHERE mapping = ? AND key = ?`, c.Mapping, r.Key); err != nil {
			return fmt.Errorf("commit pull: unbind: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM pull_bases WHERE mapping = ? AND key = ?`, c.Mapping, r.Key); err != nil {
			return fmt.Errorf("commit pull: unbind: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM push_notes WHERE mapping = ? AND key = ?`, c.Mapping, r.Key); err != nil {
			return fmt.Errorf("commit pull: unbind: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO pull_unbound (mapping, sf_id, key, at) VALUES (?, ?, ?, ?)
			ON CONFLICT (mapping, sf_id) DO UPDATE SET key = excluded.key, at = excluded.at`, c.Mapping, r.SalesforceID, r.Key, now); err != nil {
			return fmt.Errorf("commit pull: unbind: %w", err)
		}
		if _, err := tx.ExecContext(ctx, storeplan.UnboundStatus("?1", "?2", "?3"), c.Mapping, r.Key, now); err != nil {
			return fmt.Errorf("commit pull: unbind: status: %w", err)
		}
	case r.Bind:
		// One Salesforce record, one key, as far as a pull is concerned:
		// another key holding the Id means the decision read it unbound
		// before a push bound it (the writer runs one transaction at a
		// time, so this sees every binding committed before).
		var other string
		err := tx.QueryRowContext(ctx, `SELECT key FROM bindings WHERE mapping = ? AND sf_id = ? AND key <> ? LIMIT 1`,
			c.Mapping, r.SalesforceID, r.Key).Scan(&other)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("commit pull: bind: %w", err)
		}
		if other != "" && r.SalesforceID != "" {
			return storeplan.BoundElsewhere(c.Mapping, r.Key, r.SalesforceID, other)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO bindings (mapping, key, sf_id, fingerprint, modstamp, updated) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (mapping, key) DO UPDATE SET sf_id = excluded.sf_id, fingerprint = excluded.fingerprint,
				modstamp = excluded.modstamp, updated = excluded.updated`,
			c.Mapping, r.Key, r.SalesforceID, r.Fingerprint, ms(r.Modstamp), now); err != nil {
			return fmt.Errorf("commit pull: bind: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM pull_unbound WHERE mapping = ? AND sf_id = ?`, c.Mapping, r.SalesforceID); err != nil {
			return fmt.Errorf("commit pull: bind: %w", err)
		}
		if _, err := tx.ExecContext(ctx, storeplan.BoundStatus("?1", "?2", "?3", "?4"), c.Mapping, r.Key, r.SalesforceID, now); err != nil {
			return fmt.Errorf("commit pull: bind: status: %w", err)
		}
	default:
		if _, err := tx.ExecContext(ctx, `UPDATE bindings SET modstamp = ?, fingerprint = CASE WHEN ? = '' THEN fingerprint ELSE ? END
			WHERE mapping = ? AND key = ?`, ms(r.Modstamp), r.Fingerprint, r.Fingerprint, c.Mapping, r.Key); err != nil {
			return fmt.Errorf("commit pull: binding: %w", err)
		}
	}
	if r.Base != nil && !r.Unbind {
		b, err := storeplan.JSONText(r.Base)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO pull_bases (mapping, key, base) VALUES (?, ?, ?)
			ON CONFLICT (mapping, key) DO UPDATE SET base = excluded.base`, c.Mapping, r.Key, b); err != nil {
			return fmt.Errorf("commit pull: base: %w", err)
		}
		// The notes the decision read are settled; a push still in flight
		// (noted under another fingerprint) keeps its note, so its write is
		// known for forcesync's own when it comes back.
		if _, err := tx.ExecContext(ctx, `DELETE FROM push_notes WHERE mapping = ? AND key = ? AND (fingerprint = ? OR at < ?)`,
			c.Mapping, r.Key, r.ExpectFingerprint, now-storeplan.NoteKept.Milliseconds()); err != nil {
			return fmt.Errorf("commit pull: notes: %w", err)
		}
	}
	var queue []string
	if r.SourceFields != nil || r.DeleteSource {
		fields := r.SourceFields
		if fields == nil {
			fields = map[string]any{}
		}
		f, err := storeplan.JSONText(fields)
		if err != nil {
			return err
		}
		op := forcesync.OpUpsert
		if r.DeleteSource {
			op = forcesync.OpDelete
		}
		version, updated = storeplan.PulledVersion(version, updated, now)
		if _, err := tx.ExecContext(ctx, `INSERT INTO source_records (source, key, version, deleted, op, fields, updated, pull_rev) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (source, key) DO UPDATE SET version = excluded.version, deleted = excluded.deleted,
				op = excluded.op, fields = excluded.fields, updated = excluded.updated, pull_rev = excluded.pull_rev`,
			c.Source, r.Key, version, r.DeleteSource, op, f, updated, rev+1); err != nil {
			return fmt.Errorf("commit pull: source record: %w", err)
		}
		if !r.DeleteSource {
			queue = c.Queue
		}
	}
	if r.Requeue && !hasString(queue, c.Mapping) {
		queue = append(queue, c.Mapping)
	}
	if len(queue) > 0 {
		seq, err := nextSeq(ctx, tx)
		if err != nil {
			return err
		}
		for _, m := range queue {
			if _, err := tx.ExecContext(ctx, `INSERT INTO outbox (mapping, key, source, priority, seq, attempts, due_at, enqueued) VALUES (?, ?, ?, 0, ?, 0, ?, ?)
				ON CONFLICT (mapping, key) DO UPDATE SET seq = excluded.seq, attempts = 0, due_at = excluded.due_at,
					priority = MIN(outbox.priority, excluded.priority), enqueued = excluded.enqueued`,
				m, r.Key, c.Source, seq, now, now); err != nil {
				return fmt.Errorf("commit pull: outbox: %w", err)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO statuses (mapping, key, source, state, version, updated) VALUES (?, ?, ?, 'pending', ?, ?)
				ON CONFLICT (mapping, key) DO UPDATE SET state = 'pending', version = excluded.version, updated = excluded.updated`,
				m, r.Key, c.Source, version, now); err != nil {
				return fmt.Errorf("commit pull: status: %w", err)
			}
		}
	}
	if ev := r.Event; ev != nil {
		ev.Mapping, ev.Source = c.Mapping, c.Source
		ev.At = c.Now
		ev.EventID = storeplan.EventID(ev)
		cols, err := storeplan.EncodeEvent(ev)
		if err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `INSERT INTO pull_events (event_id, mapping, source, key, op, sf_id, fields, changed, merged_into, converted_to, modstamp, at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq`,
			ev.EventID, c.Mapping, c.Source, ev.Key, ev.Op, ev.SalesforceID, cols.Fields, cols.Changed, ev.MergedInto, ev.ConvertedTo, ms(ev.Modstamp), now).Scan(&ev.Seq); err != nil {
			return fmt.Errorf("commit pull: event: %w", err)
		}
		for _, sink := range c.Webhooks {
			if _, err := tx.ExecContext(ctx, `INSERT INTO pull_deliveries (sink, seq, mapping, key, state, next_attempt) VALUES (?, ?, ?, ?, 'pending', ?)`,
				sink, ev.Seq, c.Mapping, ev.Key, now); err != nil {
				return fmt.Errorf("commit pull: delivery: %w", err)
			}
		}
	}
	for _, cf := range r.Conflicts {
		if _, err := tx.ExecContext(ctx, `INSERT INTO pull_conflicts (mapping, key, field, app, remote, policy, winner, modstamp, at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, c.Mapping, r.Key, cf.Field, storeplan.ConflictValue(cf.App), storeplan.ConflictValue(cf.Remote),
			cf.Policy, cf.Winner, ms(cf.Modstamp), now); err != nil {
			return fmt.Errorf("commit pull: conflict: %w", err)
		}
	}
	return nil
}

func hasString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

const eventColumns = `e.seq, e.event_id, e.mapping, e.source, e.key, e.op, e.sf_id, e.fields, e.changed, e.merged_into, e.converted_to, e.modstamp, e.at`

func scanEvent(sc interface{ Scan(...any) error }, ev *forcesync.PulledChange, extra ...any) error {
	var fields, changed string
	var modstamp, at int64
	dst := append([]any{&ev.Seq, &ev.EventID, &ev.Mapping, &ev.Source, &ev.Key, &ev.Op, &ev.SalesforceID, &fields, &changed, &ev.MergedInto, &ev.ConvertedTo, &modstamp, &at}, extra...)
	if err := sc.Scan(dst...); err != nil {
		return err
	}
	ev.Modstamp, ev.At = fromMS(modstamp), fromMS(at)
	return storeplan.DecodeEvent(ev, fields, changed)
}

// Changes implements forcesync.PullStore.
func (s *Store) Changes(ctx context.Context, after int64, limit int, mappings []string) ([]forcesync.PulledChange, error) {
	if limit <= 0 {
		limit = 100
	}
	if err := s.checkCursor(ctx, after, mappings); err != nil {
		return nil, err
	}
	q := `SELECT ` + eventColumns + ` FROM pull_events e WHERE e.seq > ?`
	args := []any{after}
	if mappings != nil {
		if len(mappings) == 0 {
			return nil, nil
		}
		q += ` AND e.mapping IN (` + placeholders(len(mappings)) + `)`
		for _, m := range mappings {
			args = append(args, m)
		}
	}
	q += ` ORDER BY e.seq LIMIT ?`
	rows, err := s.r.QueryContext(ctx, q, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("changes: %w", err)
	}
	defer rows.Close()
	var out []forcesync.PulledChange
	for rows.Next() {
		var ev forcesync.PulledChange
		if err := scanEvent(rows, &ev); err != nil {
			return nil, fmt.Errorf("changes: %w", err)
		}
		out = append(out, ev)
	}
	return out, rows.Err()
}

// ClaimDeliveries implements forcesync.PullStore.
func (s *Store) ClaimDeliveries(ctx context.Context, sink string, now time.Time, limit int) ([]forcesync.Delivery, error) {
	return s.deliveries(ctx, `SELECT `+eventColumns+`, d.attempts, d.next_attempt, d.last_error, d.state FROM pull_deliveries d
		JOIN pull_events e ON e.seq = d.seq
		WHERE d.sink = ? AND d.state = 'pending' AND d.next_attempt <= ?
			AND NOT EXISTS (SELECT 1 FROM pull_deliveries p WHERE p.sink = d.sink AND p.mapping = d.mapping AND p.key = d.key
				AND p.state = 'pending' AND p.seq < d.seq)
		ORDER BY d.seq LIMIT ?`, sink, ms(now), limit)
}

// DeadLetters implements forcesync.PullStore.
func (s *Store) DeadLetters(ctx context.Context, sink string, limit int) ([]forcesync.Delivery, error) {
	if limit <= 0 {
		limit = 100
	}
	return s.deliveries(ctx, `SELECT `+eventColumns+`, d.attempts, d.next_attempt, d.last_error, d.state FROM pull_deliveries d
		JOIN pull_events e ON e.seq = d.seq
		WHERE d.sink = ? AND d.state = 'dead' ORDER BY d.seq DESC LIMIT ?`, sink, limit)
}

func (s *Store) deliveries(ctx context.Context, q string, sink string, args ...any) ([]forcesync.Delivery, error) {
	rows, err := s.r.QueryContext(ctx, q, append([]any{sink}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("deliveries %s: %w", sink, err)
	}
	defer rows.Close()
	var out []forcesync.Delivery
	for rows.Next() {
		d := forcesync.Delivery{Sink: sink}
		var next int64
		var state string
		if err := scanEvent(rows, &d.Change, &d.Attempts, &next, &d.LastError, &state); err != nil {
			return nil, fmt.Errorf("deliveries %s: %w", sink, err)
		}
		d.NextAttempt, d.Dead = fromMS(next), state == "dead"
		out = append(out, d)
	}
	return out, rows.Err()
}

// Redeliver implements forcesync.PullStore.
func (s *Store) Redeliver(ctx context.Context, sink string, seqs []int64, now time.Time) (int, error) {
	tx, err := s.begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("redeliver %s: %w", sink, err)
	}
	defer tx.Rollback()
	const set = `UPDATE pull_deliveries SET state = 'pending', attempts = 0, next_attempt = ?, last_error = '' WHERE sink = ? AND state = 'dead'`
	n := int64(0)
	if len(seqs) == 0 {
		res, err := tx.ExecContext(ctx, set, ms(now), sink)
		if err != nil {
			return 0, fmt.Errorf("redeliver %s: %w", sink, err)
		}
		n, _ = res.RowsAffected()
	}
	err = eachPiece(len(seqs), func(lo, hi int) error {
		args := []any{ms(now), sink}
		for _, seq := range seqs[lo:hi] {
			args = append(args, seq)
		}
		res, err := tx.ExecContext(ctx, set+` AND seq IN (`+placeholders(hi-lo)+`)`, args...)
		if err != nil {
			return err
		}
		m, _ := res.RowsAffected()
		n += m
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("redeliver %s: %w", sink, err)
	}
	return int(n), tx.Commit()
}

// FinishDeliveries implements forcesync.PullStore.
func (s *Store) FinishDeliveries(ctx context.Context, sink string, results []forcesync.DeliveryResult) error {
	tx, err := s.begin(ctx)
	if err != nil {
		return fmt.Errorf("finish deliveries: %w", err)
	}
	defer tx.Rollback()
	for _, r := range results {
		if _, err := tx.ExecContext(ctx, `UPDATE pull_deliveries SET state = ?, attempts = attempts + 1, next_attempt = ?, last_error = ?
			WHERE sink = ? AND seq = ?`, storeplan.DeliveryState(r), ms(r.NextAttempt), r.Error, sink, r.Seq); err != nil {
			return fmt.Errorf("finish deliveries: %w", err)
		}
	}
	return tx.Commit()
}

// Conflicts implements forcesync.PullStore.
func (s *Store) Conflicts(ctx context.Context, mapping, key string) ([]forcesync.Conflict, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT field, app, remote, policy, winner, modstamp, at FROM pull_conflicts
		WHERE mapping = ? AND key = ? ORDER BY id DESC LIMIT 100`, mapping, key)
	if err != nil {
		return nil, fmt.Errorf("conflicts: %w", err)
	}
	defer rows.Close()
	var out []forcesync.Conflict
	for rows.Next() {
		c := forcesync.Conflict{Mapping: mapping, Key: key}
		var app, remote string
		var modstamp, at int64
		if err := rows.Scan(&c.Field, &app, &remote, &c.Policy, &c.Winner, &modstamp, &at); err != nil {
			return nil, fmt.Errorf("conflicts: %w", err)
		}
		c.App, c.Remote = storeplan.DecodeConflictValue(app), storeplan.DecodeConflictValue(remote)
		c.Modstamp, c.At = fromMS(modstamp), fromMS(at)
		out = append(out, c)
	}
	return out, rows.Err()
}

// Intents implements forcesync.PullStore.
func (s *Store) Intents(ctx context.Context, mapping string) ([]forcesync.Intent, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT i.key, i.match, i.at FROM intents i
		JOIN outbox o ON o.mapping = i.mapping AND o.key = i.key
		WHERE i.mapping = ? ORDER BY i.key`, mapping)
	if err != nil {
		return nil, fmt.Errorf("intents %s: %w", mapping, err)
	}
	defer rows.Close()
	var out []forcesync.Intent
	for rows.Next() {
		var key, match string
		var at int64
		if err := rows.Scan(&key, &match, &at); err != nil {
			return nil, fmt.Errorf("intents %s: %w", mapping, err)
		}
		in, err := storeplan.DecodeIntent(key, match, at)
		if err != nil {
			return nil, fmt.Errorf("intents %s: %w", mapping, err)
		}
		out = append(out, in)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("intents %s: %w", mapping, err)
	}
	return out, nil
}

// Unpushed implements forcesync.PullStore.
func (s *Store) Unpushed(ctx context.Context, mapping, field string, values []string) (map[string][]string, error) {
	segs, err := storeplan.FieldPath(field)
	if err != nil {
		return nil, err
	}
	out := map[string][]string{}
	lower := storeplan.LowerValues(values)
	if len(lower) == 0 {
		return out, nil
	}
	path := "$"
	for _, seg := range segs {
		path += `."` + seg + `"`
	}
	want, err := json.Marshal(lower)
	if err != nil {
		return nil, err
	}
	rows, err := s.r.QueryContext(ctx, `SELECT v, key FROM (
			SELECT lower(json_extract(r.fields, ?1)) AS v, o.key AS key FROM outbox o
			JOIN source_records r ON r.source = o.source AND r.key = o.key
			WHERE o.mapping = ?2 AND r.deleted = 0 AND json_type(r.fields, ?1) = 'text'
			AND NOT EXISTS (SELECT 1 FROM bindings b WHERE b.mapping = o.mapping AND b.key = o.key AND b.sf_id <> ''))
		WHERE v IN (SELECT value FROM json_each(?3)) ORDER BY v, key`, path, mapping, string(want))
	if err != nil {
		return nil, fmt.Errorf("unpushed %s: %w", mapping, err)
	}
	defer rows.Close()
	for rows.Next() {
		var v, key string
		if err := rows.Scan(&v, &key); err != nil {
			return nil, fmt.Errorf("unpushed %s: %w", mapping, err)
		}
		out[v] = append(out[v], key)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("unpushed %s: %w", mapping, err)
	}
	return out, nil
}
