package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/storeplan"
	"github.com/jackc/pgx/v5"
)

var _ forcesync.PullStore = (*Store)(nil)

// Watermark implements forcesync.PullStore.
func (s *Store) Watermark(ctx context.Context, mapping string) (forcesync.Watermark, error) {
	wm := forcesync.Watermark{Mapping: mapping, Seen: map[string]time.Time{}}
	var instant, gen int64
	var seen string
	err := s.pool.QueryRow(ctx, `SELECT instant, seen, gen FROM pull_watermarks WHERE mapping = $1`, mapping).Scan(&instant, &seen, &gen)
	if errors.Is(err, pgx.ErrNoRows) {
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
	rows, err := s.pool.Query(ctx, `SELECT b.key, b.sf_id, b.fingerprint, COALESCE(pb.base, ''), COALESCE(pn.fields, ''), COALESCE(pn.held, '')
		FROM bindings b
		LEFT JOIN pull_bases pb ON pb.mapping = b.mapping AND pb.key = b.key
		LEFT JOIN push_notes pn ON pn.mapping = b.mapping AND pn.key = b.key AND pn.fingerprint = b.fingerprint
		WHERE b.mapping = $1 AND b.sf_id = ANY($2)`, mapping, ids)
	if err != nil {
		return nil, fmt.Errorf("pull bindings %s: %w", mapping, err)
	}
	defer rows.Close()
	for rows.Next() {
		var b forcesync.PullBinding
		var base, pushed, held string
		if err := rows.Scan(&b.Key, &b.SalesforceID, &b.Fingerprint, &base, &pushed, &held); err != nil {
			return nil, fmt.Errorf("pull bindings %s: %w", mapping, err)
		}
		if b.Held, err = storeplan.DecodeHeld(held); err != nil {
			return nil, err
		}
		if b.Base, err = storeplan.DecodeMap(base); err != nil {
			return nil, err
		}
		if b.Pushed, err = storeplan.DecodeMap(pushed); err != nil {
			return nil, err
		}
		out[b.SalesforceID] = b
	}
	return out, rows.Err()
}

// UnboundKeys implements forcesync.PullStore.
func (s *Store) UnboundKeys(ctx context.Context, mapping string, ids []string) (map[string]string, error) {
	out := map[string]string{}
	rows, err := s.pool.Query(ctx, `SELECT sf_id, key FROM pull_unbound WHERE mapping = $1 AND sf_id = ANY($2)`, mapping, ids)
	if err != nil {
		return nil, fmt.Errorf("unbound keys %s: %w", mapping, err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, key string
		if err := rows.Scan(&id, &key); err != nil {
			return nil, fmt.Errorf("unbound keys %s: %w", mapping, err)
		}
		out[id] = key
	}
	return out, rows.Err()
}

// NotePushed implements forcesync.PullStore.
func (s *Store) NotePushed(ctx context.Context, mapping string, notes []forcesync.PushNote) error {
	if len(notes) == 0 {
		return nil
	}
	now := ms(s.now())
	return s.inTx(ctx, "note pushed", func(tx pgx.Tx) error {
		for _, n := range notes {
			f, err := storeplan.JSONText(n.Fields)
			if err != nil {
				return err
			}
			held, err := storeplan.EncodeHeld(n.Held)
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `INSERT INTO push_notes (mapping, key, fingerprint, fields, held, at) VALUES ($1, $2, $3, $4, $5, $6)
				ON CONFLICT (mapping, key, fingerprint) DO UPDATE SET fields = excluded.fields, held = excluded.held, at = excluded.at`,
				mapping, n.Key, n.Fingerprint, f, held, now); err != nil {
				return err
			}
		}
		return nil
	})
}

// CommitPull implements forcesync.PullStore.
func (s *Store) CommitPull(ctx context.Context, c *forcesync.PullCommit) error {
	now := ms(c.Now)
	seen, err := storeplan.EncodeSeen(c.Watermark.Seen)
	if err != nil {
		return err
	}
	// Events get their Seq in the transaction; a retried transaction
	// starts from clean copies.
	orig := make([]*forcesync.PulledChange, len(c.Records))
	for i := range c.Records {
		if ev := c.Records[i].Event; ev != nil {
			cp := *ev
			orig[i] = &cp
		}
	}
	binds := false
	for i := range c.Records {
		binds = binds || c.Records[i].Bind
	}
	var stale error
	err = s.inTx(ctx, "commit pull", func(tx pgx.Tx) error {
		stale = nil
		if binds {
			// Alone against the mapping's binding writers (see bindLock),
			// before any row lock.
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, s.bindLock(c.Mapping)); err != nil {
				return err
			}
		}
		var gen int64
		err := tx.QueryRow(ctx, `SELECT gen FROM pull_watermarks WHERE mapping = $1 FOR UPDATE`, c.Mapping).Scan(&gen)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if gen != c.Watermark.Gen {
			stale = forcesync.ErrPullOvertaken
			return stale
		}
		for i := range c.Records {
			if orig[i] != nil {
				cp := *orig[i]
				c.Records[i].Event = &cp
			}
			if err := commitPulled(ctx, tx, c, &c.Records[i], now); err != nil {
				var fe *forcesync.Error
				if errors.As(err, &fe) && fe.Code == forcesync.EConflict {
					stale = err
				}
				return err
			}
		}
		_, err = tx.Exec(ctx, `INSERT INTO pull_watermarks (mapping, instant, seen, updated, gen) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (mapping) DO UPDATE SET instant = excluded.instant, seen = excluded.seen, updated = excluded.updated, gen = excluded.gen`,
			c.Mapping, ms(c.Watermark.Instant), seen, now, gen+1)
		return err
	})
	if stale != nil {
		return stale
	}
	return err
}

// bindLock is the advisory lock key that orders a pull's binds against
// the other binding writes of a mapping. CommitPull refuses to bind a
// Salesforce Id another key holds; at READ COMMITTED its check would miss
// a push's binding committed between the check and its own commit. So a
// CommitPull that binds takes the lock exclusively, and every transaction
// that writes bindings otherwise (Complete, RecordPushed, Bind) takes it
// shared: pushes do not wait for each other, and a pull's bind happens
// wholly before or wholly after each of them, as with SQLite's one writer.
// Each takes it first, before any row lock, so no deadlock comes of it.
func (s *Store) bindLock(mapping string) int64 { return s.lockKey("bind/" + mapping) }

// shareBindLocks takes the bind locks of mappings, shared, in key order.
func (s *Store) shareBindLocks(ctx context.Context, tx pgx.Tx, mappings []string) error {
	if len(mappings) == 0 {
		return nil
	}
	keys := make([]int64, 0, len(mappings))
	for _, m := range mappings {
		keys = append(keys, s.bindLock(m))
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock_shared(k) FROM unnest($1::bigint[]) WITH ORDINALITY AS t(k, n) ORDER BY n`, keys); err != nil {
		return fmt.Errorf("bind locks: %w", err)
	}
	return nil
}

func commitPulled(ctx context.Context, tx pgx.Tx, c *forcesync.PullCommit, r *forcesync.PulledRecord, now int64) error {
	var fp string
	err := tx.QueryRow(ctx, `SELECT fingerprint FROM bindings WHERE mapping = $1 AND key = $2 FOR UPDATE`, c.Mapping, r.Key).Scan(&fp)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("binding: %w", err)
	}
	if fp != r.ExpectFingerprint {
		return storeplan.StalePull(c.Mapping, r.Key, "its binding")
	}
	var version, rev, updated int64
	err = tx.QueryRow(ctx, `SELECT version, pull_rev, updated FROM source_records WHERE source = $1 AND key = $2 FOR UPDATE`, c.Source, r.Key).Scan(&version, &rev, &updated)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("source record: %w", err)
	}
	if version != r.ExpectVersion || rev != r.ExpectPullRev {
		return storeplan.StalePull(c.Mapping, r.Key, "its source record")
	}
	switch {
	case r.Unbind:
		if _, err := tx.Exec(ctx, `DELETE FROM bindings WHERE mapping = $1 AND key = $2`, c.Mapping, r.Key); err != nil {
			return fmt.Errorf("unbind: %w", err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM pull_bases WHERE mapping = $1 AND key = $2`, c.Mapping, r.Key); err != nil {
			return fmt.Errorf("unbind: %w", err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM push_notes WHERE mapping = $1 AND key = $2`, c.Mapping, r.Key); err != nil {
			return fmt.Errorf("unbind: %w", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO pull_unbound (mapping, sf_id, key, at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (mapping, sf_id) DO UPDATE SET key = excluded.key, at = excluded.at`, c.Mapping, r.SalesforceID, r.Key, now); err != nil {
			return fmt.Errorf("unbind: %w", err)
		}
		if _, err := tx.Exec(ctx, storeplan.UnboundStatus("$1", "$2", "$3"), c.Mapping, r.Key, now); err != nil {
			return fmt.Errorf("unbind: status: %w", err)
		}
	case r.Bind:
		// One Salesforce record, one key, as far as a pull is concerned:
		// another key holding the Id means the decision read it unbound
		// before a push bound it. The bind lock CommitPull holds makes
		// every push's binding committed before this visible here, and
		// holds back those to come until this commits.
		var other string
		err := tx.QueryRow(ctx, `SELECT key FROM bindings WHERE mapping = $1 AND sf_id = $2 AND key <> $3 LIMIT 1`,
			c.Mapping, r.SalesforceID, r.Key).Scan(&other)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("bind: %w", err)
		}
		if other != "" && r.SalesforceID != "" {
			return storeplan.BoundElsewhere(c.Mapping, r.Key, r.SalesforceID, other)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO bindings (mapping, key, sf_id, fingerprint, modstamp, updated) VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (mapping, key) DO UPDATE SET sf_id = excluded.sf_id, fingerprint = excluded.fingerprint,
				modstamp = excluded.modstamp, updated = excluded.updated`,
			c.Mapping, r.Key, r.SalesforceID, r.Fingerprint, ms(r.Modstamp), now); err != nil {
			return fmt.Errorf("bind: %w", err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM pull_unbound WHERE mapping = $1 AND sf_id = $2`, c.Mapping, r.SalesforceID); err != nil {
			return fmt.Errorf("bind: %w", err)
		}
		if _, err := tx.Exec(ctx, storeplan.BoundStatus("$1", "$2", "$3", "$4"), c.Mapping, r.Key, r.SalesforceID, now); err != nil {
			return fmt.Errorf("bind: status: %w", err)
		}
	default:
		if _, err := tx.Exec(ctx, `UPDATE bindings SET modstamp = $1, fingerprint = CASE WHEN $2 = '' THEN fingerprint ELSE $2 END
			WHERE mapping = $3 AND key = $4`, ms(r.Modstamp), r.Fingerprint, c.Mapping, r.Key); err != nil {
			return fmt.Errorf("binding: %w", err)
		}
	}
	if r.Base != nil && !r.Unbind {
		b, err := storeplan.JSONText(r.Base)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO pull_bases (mapping, key, base) VALUES ($1, $2, $3)
			ON CONFLICT (mapping, key) DO UPDATE SET base = excluded.base`, c.Mapping, r.Key, b); err != nil {
			return fmt.Errorf("base: %w", err)
		}
		// The notes the decision read are settled; a push still in flight
		// (noted under another fingerprint) keeps its note, so its write is
		// known for forcesync's own when it comes back.
		if _, err := tx.Exec(ctx, `DELETE FROM push_notes WHERE mapping = $1 AND key = $2 AND (fingerprint = $3 OR at < $4)`,
			c.Mapping, r.Key, r.ExpectFingerprint, now-storeplan.NoteKept.Milliseconds()); err != nil {
			return fmt.Errorf("notes: %w", err)
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
		if _, err := tx.Exec(ctx, `INSERT INTO source_records (source, key, version, deleted, op, fields, updated, pull_rev) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
			ON CONFLICT (source, key) DO UPDATE SET version = excluded.version, deleted = excluded.deleted,
				op = excluded.op, fields = excluded.fields, updated = excluded.updated, pull_rev = excluded.pull_rev`,
			c.Source, r.Key, version, r.DeleteSource, string(op), f, updated, rev+1); err != nil {
			return fmt.Errorf("source record: %w", err)
		}
		if !r.DeleteSource {
			queue = c.Queue
		}
	}
	if r.Requeue && !hasString(queue, c.Mapping) {
		queue = append(queue, c.Mapping)
	}
	if len(queue) > 0 {
		var seq int64
		if err := tx.QueryRow(ctx, `SELECT nextval('outbox_seq')`).Scan(&seq); err != nil {
			return fmt.Errorf("outbox seq: %w", err)
		}
		for _, m := range queue {
			if _, err := tx.Exec(ctx, `INSERT INTO outbox (mapping, key, source, priority, seq, attempts, due_at, enqueued) VALUES ($1, $2, $3, 0, $4, 0, $5, $5)
				ON CONFLICT (mapping, key) DO UPDATE SET seq = excluded.seq, attempts = 0, due_at = excluded.due_at,
					priority = LEAST(outbox.priority, excluded.priority), enqueued = excluded.enqueued`,
				m, r.Key, c.Source, seq, now); err != nil {
				return fmt.Errorf("outbox: %w", err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO statuses (mapping, key, source, state, version, updated) VALUES ($1, $2, $3, 'pending', $4, $5)
				ON CONFLICT (mapping, key) DO UPDATE SET state = 'pending', version = excluded.version, updated = excluded.updated`,
				m, r.Key, c.Source, version, now); err != nil {
				return fmt.Errorf("status: %w", err)
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
		if err := tx.QueryRow(ctx, `INSERT INTO pull_events (event_id, mapping, source, key, op, sf_id, fields, changed, merged_into, converted_to, modstamp, at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING seq`,
			ev.EventID, c.Mapping, c.Source, ev.Key, string(ev.Op), ev.SalesforceID, cols.Fields, cols.Changed, ev.MergedInto, ev.ConvertedTo, ms(ev.Modstamp), now).Scan(&ev.Seq); err != nil {
			return fmt.Errorf("event: %w", err)
		}
		for _, sink := range c.Webhooks {
			if _, err := tx.Exec(ctx, `INSERT INTO pull_deliveries (sink, seq, mapping, key, state, next_attempt) VALUES ($1, $2, $3, $4, 'pending', $5)`,
				sink, ev.Seq, c.Mapping, ev.Key, now); err != nil {
				return fmt.Errorf("delivery: %w", err)
			}
		}
	}
	for _, cf := range r.Conflicts {
		if _, err := tx.Exec(ctx, `INSERT INTO pull_conflicts (mapping, key, field, app, remote, policy, winner, modstamp, at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, c.Mapping, r.Key, cf.Field, storeplan.ConflictValue(cf.App), storeplan.ConflictValue(cf.Remote),
			string(cf.Policy), cf.Winner, ms(cf.Modstamp), now); err != nil {
			return fmt.Errorf("conflict: %w", err)
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
	var fields, changed, op string
	var modstamp, at int64
	dst := append([]any{&ev.Seq, &ev.EventID, &ev.Mapping, &ev.Source, &ev.Key, &op, &ev.SalesforceID, &fields, &changed, &ev.MergedInto, &ev.ConvertedTo, &modstamp, &at}, extra...)
	if err := sc.Scan(dst...); err != nil {
		return err
	}
	ev.Op = forcesync.PulledOp(op)
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
	q := `SELECT ` + eventColumns + ` FROM pull_events e WHERE e.seq > $1`
	args := []any{after, limit}
	if mappings != nil {
		if len(mappings) == 0 {
			return nil, nil
		}
		q += ` AND e.mapping = ANY($3)`
		args = append(args, mappings)
	}
	q += ` ORDER BY e.seq LIMIT $2`
	rows, err := s.pool.Query(ctx, q, args...)
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
		WHERE d.sink = $1 AND d.state = 'pending' AND d.next_attempt <= $2
			AND NOT EXISTS (SELECT 1 FROM pull_deliveries p WHERE p.sink = d.sink AND p.mapping = d.mapping AND p.key = d.key
				AND p.state = 'pending' AND p.seq < d.seq)
		ORDER BY d.seq LIMIT $3`, sink, ms(now), limit)
}

// DeadLetters implements forcesync.PullStore.
func (s *Store) DeadLetters(ctx context.Context, sink string, limit int) ([]forcesync.Delivery, error) {
	if limit <= 0 {
		limit = 100
	}
	return s.deliveries(ctx, `SELECT `+eventColumns+`, d.attempts, d.next_attempt, d.last_error, d.state FROM pull_deliveries d
		JOIN pull_events e ON e.seq = d.seq
		WHERE d.sink = $1 AND d.state = 'dead' ORDER BY d.seq DESC LIMIT $2`, sink, limit)
}

func (s *Store) deliveries(ctx context.Context, q string, sink string, args ...any) ([]forcesync.Delivery, error) {
	rows, err := s.pool.Query(ctx, q, append([]any{sink}, args...)...)
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
	q := `UPDATE pull_deliveries SET state = 'pending', attempts = 0, next_attempt = $1, last_error = '' WHERE sink = $2 AND state = 'dead'`
	args := []any{ms(now), sink}
	if len(seqs) > 0 {
		q += ` AND seq = ANY($3)`
		args = append(args, seqs)
	}
	tag, err := s.pool.Exec(ctx, q, args...)
	if err != nil {
		return 0, fmt.Errorf("redeliver %s: %w", sink, err)
	}
	return int(tag.RowsAffected()), nil
}

// FinishDeliveries implements forcesync.PullStore.
func (s *Store) FinishDeliveries(ctx context.Context, sink string, results []forcesync.DeliveryResult) error {
	return s.inTx(ctx, "finish deliveries", func(tx pgx.Tx) error {
		for _, r := range results {
			if _, err := tx.Exec(ctx, `UPDATE pull_deliveries SET state = $1, attempts = attempts + 1, next_attempt = $2, last_error = $3
				WHERE sink = $4 AND seq = $5`, storeplan.DeliveryState(r), ms(r.NextAttempt), r.Error, sink, r.Seq); err != nil {
				return err
			}
		}
		return nil
	})
}

// Conflicts implements forcesync.PullStore.
func (s *Store) Conflicts(ctx context.Context, mapping, key string) ([]forcesync.Conflict, error) {
	rows, err := s.pool.Query(ctx, `SELECT field, app, remote, policy, winner, modstamp, at FROM pull_conflicts
		WHERE mapping = $1 AND key = $2 ORDER BY id DESC LIMIT 100`, mapping, key)
	if err != nil {
		return nil, fmt.Errorf("conflicts: %w", err)
	}
	defer rows.Close()
	var out []forcesync.Conflict
	for rows.Next() {
		c := forcesync.Conflict{Mapping: mapping, Key: key}
		var app, remote, policy string
		var modstamp, at int64
		if err := rows.Scan(&c.Field, &app, &remote, &policy, &c.Winner, &modstamp, &at); err != nil {
			return nil, fmt.Errorf("conflicts: %w", err)
		}
		c.Policy = forcesync.ConflictPolicy(policy)
		c.App, c.Remote = storeplan.DecodeConflictValue(app), storeplan.DecodeConflictValue(remote)
		c.Modstamp, c.At = fromMS(modstamp), fromMS(at)
		out = append(out, c)
	}
	return out, rows.Err()
}

// Intents implements forcesync.PullStore.
func (s *Store) Intents(ctx context.Context, mapping string) ([]forcesync.Intent, error) {
	rows, err := s.pool.Query(ctx, `SELECT i.key, i.match, i.at FROM intents i
		JOIN outbox o ON o.mapping = i.mapping AND o.key = i.key
		WHERE i.mapping = $1 ORDER BY i.key`, mapping)
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
	// version > 0 leaves out an Accept's placeholder rows.
	rows, err := s.pool.Query(ctx, `SELECT v, key FROM (
			SELECT lower(r.fields::jsonb #>> $1::text[]) AS v, o.key AS key FROM outbox o
			JOIN source_records r ON r.source = o.source AND r.key = o.key
			WHERE o.mapping = $2 AND NOT r.deleted AND r.version > 0
			AND jsonb_typeof(r.fields::jsonb #> $1::text[]) = 'string'
			AND NOT EXISTS (SELECT 1 FROM bindings b WHERE b.mapping = o.mapping AND b.key = o.key AND b.sf_id <> '')) u
		WHERE v = ANY($3::text[]) ORDER BY v, key`, segs, mapping, lower)
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
	for _, keys := range out {
		slices.Sort(keys) // in Go's order, whatever the database's collation
	}
	return out, nil
}
