package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/forcesync/forcesync"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Claim implements forcesync.Store. It leases first, in one short write
// transaction that picks the rows straight from the index of free rows,
// and then reads the leased rows, joined with their records, bindings,
// intents and statuses, from a reader: the join and the decoding hold no
// write lock, and claims of several workers never read the same rows.
func (s *Store) Claim(ctx context.Context, req forcesync.ClaimRequest) ([]forcesync.WorkItem, error) {
	if req.Limit <= 0 {
		return nil, nil
	}
	now := req.Now
	if now.IsZero() {
		now = s.now()
	}
	nowMS := ms(now)
	if nowMS >= s.sweepAt.Load() {
		if err := s.sweep(ctx, nowMS); err != nil {
			return nil, err
		}
	}
	until := ms(now.Add(req.Lease))
	keys, err := s.lease(ctx, req, nowMS, until)
	if err != nil || len(keys) == 0 {
		return nil, err
	}
	for {
		// Sweep again when this lease may have run out, if no sweep is due sooner.
		at := s.sweepAt.Load()
		if at <= until || s.sweepAt.CompareAndSwap(at, until) {
			break
		}
	}
	if s.afterLease != nil {
		s.afterLease()
	}
	items, err := s.claimRead(ctx, req.Mapping, keys)
	if err != nil {
		// Give the rows back rather than leave them leased for nothing.
		if rerr := s.release(context.WithoutCancel(ctx), req.Mapping, keys); rerr != nil {
			err = errors.Join(err, rerr)
		}
		return nil, err
	}
	return items, nil
}

// sweep frees the rows whose lease ran out: their worker died or stalled,
// and they are claimable again. It scans the outbox, so it runs only when
// the earliest lease it knows of may have expired, and at least every
// sweepEvery.
func (s *Store) sweep(ctx context.Context, nowMS int64) error {
	tx, err := s.begin(ctx)
	if err != nil {
		return fmt.Errorf("sweep leases: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `UPDATE outbox SET lease_owner = NULL, lease_until = 0 WHERE lease_owner IS NOT NULL AND lease_until <= ?`, nowMS); err != nil {
		return fmt.Errorf("sweep leases: %w", err)
	}
	var next sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT MIN(lease_until) FROM outbox WHERE lease_owner IS NOT NULL`).Scan(&next); err != nil {
		return fmt.Errorf("sweep leases: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sweep leases: commit: %w", err)
	}
	at := nowMS + sweepEvery.Milliseconds()
	if next.Valid && next.Int64 < at {
		at = next.Int64
	}
	s.sweepAt.Store(at)
	return nil
}

// lease leases up to req.Limit free rows that are due, the lowest priority
// value first, then the longest due, and returns their keys in that order.
func (s *Store) lease(ctx context.Context, req forcesync.ClaimRequest, nowMS, until int64) ([]string, error) {
	tx, err := s.begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("claim %s: %w", req.Mapping, err)
	}
	defer tx.Rollback()
	type leased struct {
		key      string
		due, enq int64
	}
	var keys []string
	prio := int64(math.MinInt64)
	for len(keys) < req.Limit {
		if req.Priority != nil {
			if prio != math.MinInt64 {
				break
			}
			prio = int64(*req.Priority)
		} else {
			// The next priority present: one step down the index.
			var next sql.NullInt64
			if err := tx.QueryRowContext(ctx, `SELECT MIN(priority) FROM outbox WHERE mapping = ? AND priority > ? AND lease_owner IS NULL`, req.Mapping, prio).Scan(&next); err != nil {
				return nil, fmt.Errorf("claim %s: %w", req.Mapping, err)
			}
			if !next.Valid {
				break
			}
			prio = next.Int64
		}
		rows, err := tx.QueryContext(ctx, `UPDATE outbox SET lease_owner = ?, lease_until = ?
			WHERE mapping = ? AND key IN (SELECT key FROM outbox
				WHERE mapping = ? AND priority = ? AND lease_owner IS NULL AND due_at <= ?
				ORDER BY due_at, enqueued LIMIT ?)
			RETURNING key, due_at, enqueued`, req.Owner, until, req.Mapping, req.Mapping, prio, nowMS, req.Limit-len(keys))
		if err != nil {
			return nil, fmt.Errorf("claim %s: lease: %w", req.Mapping, err)
		}
		var got []leased
		for rows.Next() {
			var l leased
			if err := rows.Scan(&l.key, &l.due, &l.enq); err != nil {
				rows.Close()
				return nil, fmt.Errorf("claim %s: lease: %w", req.Mapping, err)
			}
			got = append(got, l)
		}
		if err := rows.Close(); err != nil {
			return nil, fmt.Errorf("claim %s: lease: %w", req.Mapping, err)
		}
		slices.SortFunc(got, func(a, b leased) int {
			return cmp.Or(cmp.Compare(a.due, b.due), cmp.Compare(a.enq, b.enq), strings.Compare(a.key, b.key))
		})
		for _, l := range got {
			keys = append(keys, l.key)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("claim %s: commit: %w", req.Mapping, err)
	}
	return keys, nil
}

// release gives leased rows back.
func (s *Store) release(ctx context.Context, mapping string, keys []string) error {
	tx, err := s.begin(ctx)
	if err != nil {
		return fmt.Errorf("release %s: %w", mapping, err)
	}
	defer tx.Rollback()
	if err := execKeys(ctx, tx, `UPDATE outbox SET lease_owner = NULL, lease_until = 0 WHERE mapping = ? AND key IN (`, mapping, keys); err != nil {
		return fmt.Errorf("release %s: %w", mapping, err)
	}
	return tx.Commit()
}

// claimRead reads the leased rows of keys with their records, bindings,
// intents and statuses, in the order of keys.
func (s *Store) claimRead(ctx context.Context, mapping string, keys []string) ([]forcesync.WorkItem, error) {
	doc, err := json.Marshal(keys)
	if err != nil {
		return nil, fmt.Errorf("claim %s: %w", mapping, err)
	}
	rows, err := s.cr.QueryContext(ctx, `SELECT o.key, o.source, o.priority, o.seq, o.attempts, o.forced, o.enqueued,
			r.version, r.op, r.fields,
			COALESCE(b.sf_id, ''), COALESCE(b.fingerprint, ''), COALESCE(b.modstamp, 0), COALESCE(b.updated, 0), b.key IS NOT NULL,
			COALESCE(i.match, ''), COALESCE(i.at, 0), i.key IS NOT NULL,
			COALESCE(st.held_fp, '')
		FROM json_each(?) k
		CROSS JOIN outbox o ON o.mapping = ? AND o.key = k.value -- CROSS: the keys drive the join
		JOIN source_records r ON r.source = o.source AND r.key = o.key
		LEFT JOIN bindings b ON b.mapping = o.mapping AND b.key = o.key
		LEFT JOIN intents i ON i.mapping = o.mapping AND i.key = o.key
		LEFT JOIN statuses st ON st.mapping = o.mapping AND st.key = o.key`, string(doc), mapping)
	if err != nil {
		return nil, fmt.Errorf("claim %s: %w", mapping, err)
	}
	defer rows.Close()
	byKey := make(map[string]forcesync.WorkItem, len(keys))
	for rows.Next() {
		var (
			it                            forcesync.WorkItem
			prio                          int
			forced, hasBinding, hasIntent bool
			enq, bmod, bupd, iat          int64
			op, sfID, fp, imatch, hf      string
			fields                        sql.RawBytes // decoded at once; no copy
		)
		if err := rows.Scan(&it.Key, &it.Source, &prio, &it.Seq, &it.Attempts, &forced, &enq,
			&it.Version, &op, &fields,
			&sfID, &fp, &bmod, &bupd, &hasBinding,
			&imatch, &iat, &hasIntent, &hf); err != nil {
			return nil, fmt.Errorf("claim %s: %w", mapping, err)
		}
		it.Mapping = mapping
		it.Priority = forcesync.Priority(prio)
		it.Forced = forced
		it.Enqueued = fromMS(enq)
		it.Op = forcesync.Op(op)
		it.HeldFingerprint = hf
		if err := json.Unmarshal(fields, &it.Fields); err != nil {
			return nil, fmt.Errorf("claim %s/%s: stored fields: %w", mapping, it.Key, err)
		}
		if hasBinding {
			it.Binding = &forcesync.Binding{Mapping: mapping, Key: it.Key, SalesforceID: sfID,
				Fingerprint: fp, Modstamp: fromMS(bmod), Updated: fromMS(bupd)}
		}
		if hasIntent {
			in := &forcesync.Intent{Key: it.Key, At: fromMS(iat)}
			if err := json.Unmarshal([]byte(imatch), &in.Match); err != nil {
				return nil, fmt.Errorf("claim %s/%s: stored intent: %w", mapping, it.Key, err)
			}
			it.Intent = in
		}
		byKey[it.Key] = it
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("claim %s: %w", mapping, err)
	}
	items := make([]forcesync.WorkItem, 0, len(keys))
	for _, k := range keys {
		if it, ok := byKey[k]; ok {
			items = append(items, it)
		}
	}
	return items, nil
}
