package sqlite

import (
	"cmp"
	"context"
	"database/sql"
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
