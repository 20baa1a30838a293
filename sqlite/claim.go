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
	s.sweepBy(until) // sweep again when this lease may have run out
	if s.afterLease != nil {
		s.afterLease()
	}
	items, err := s.claimRead(ctx, req.Mapping, keys)
	if err != nil {
		// Give the rows back rather than leave them leased for nothing.
		if rerr := s.release(context.WithoutCancel(ctx), req.Mapping, req.Owner, keys); rerr != nil {
			err = errors.Join(err, rerr)
		}
		return nil, err
	}
	return items, nil
}

// sweep frees the rows of the leases that ran out, whose workers died or
// stalled, and deletes those leases: the rows are claimable again. It
// reads the leases table and the leased rows of the expired leases only,
// so it is cheap; it runs when the earliest lease it knows of may have run
// out, and at least every sweepEvery.
func (s *Store) sweep(ctx context.Context, nowMS int64) error {
	tx, err := s.begin(ctx)
	if err != nil {
		return fmt.Errorf("sweep leases: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `UPDATE outbox SET lease = NULL WHERE lease IN (SELECT id FROM claim_leases WHERE until <= ?)`, nowMS); err != nil {
		return fmt.Errorf("sweep leases: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM claim_leases WHERE until <= ?`, nowMS); err != nil {
		return fmt.Errorf("sweep leases: %w", err)
	}
	var next sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT MIN(until) FROM claim_leases`).Scan(&next); err != nil {
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

// sweepBy makes the next claim at or after until sweep, if no sweep is
// due sooner: a lease ends then.
func (s *Store) sweepBy(until int64) {
	for {
		at := s.sweepAt.Load()
		if at <= until || s.sweepAt.CompareAndSwap(at, until) {
			return
		}
	}
}

// lease leases up to req.Limit free rows that are due, the lowest priority
// value first, then the longest due, and returns their keys in that order.
// The rows name one new lease row, which holds the owner and the lease's
// end; a claim that finds nothing leaves no lease.
func (s *Store) lease(ctx context.Context, req forcesync.ClaimRequest, nowMS, until int64) ([]string, error) {
	tx, err := s.begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("claim %s: %w", req.Mapping, err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `INSERT INTO claim_leases (mapping, owner, until) VALUES (?, ?, ?)`, req.Mapping, req.Owner, until)
	if err != nil {
		return nil, fmt.Errorf("claim %s: lease: %w", req.Mapping, err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return nil, fmt.Errorf("claim %s: lease: %w", req.Mapping, err)
	}
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
			if err := tx.QueryRowContext(ctx, `SELECT MIN(priority) FROM outbox WHERE mapping = ? AND priority > ? AND lease IS NULL`, req.Mapping, prio).Scan(&next); err != nil {
				return nil, fmt.Errorf("claim %s: %w", req.Mapping, err)
			}
			if !next.Valid {
				break
			}
			prio = next.Int64
		}
		rows, err := tx.QueryContext(ctx, `UPDATE outbox SET lease = ?, claimed_seq = seq
			WHERE mapping = ? AND key IN (SELECT key FROM outbox
				WHERE mapping = ? AND priority = ? AND lease IS NULL AND due_at <= ?
				ORDER BY due_at, enqueued LIMIT ?)
			RETURNING key, due_at, enqueued`, id, req.Mapping, req.Mapping, prio, nowMS, req.Limit-len(keys))
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
	if len(keys) == 0 {
		return nil, nil // rolled back: no lease
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("claim %s: commit: %w", req.Mapping, err)
	}
	return keys, nil
}

// release gives owner's leased rows back.
func (s *Store) release(ctx context.Context, mapping, owner string, keys []string) error {
	tx, err := s.begin(ctx)
	if err != nil {
		return fmt.Errorf("release %s: %w", mapping, err)
	}
	defer tx.Rollback()
	if err := execKeys(ctx, tx, `UPDATE outbox SET lease = NULL WHERE mapping = ? AND key IN (`, mapping, keys); err != nil {
		return fmt.Errorf("release %s: %w", mapping, err)
	}
	if err := dropEmptyLeases(ctx, tx, mapping, owner); err != nil {
		return fmt.Errorf("release %s: %w", mapping, err)
	}
	return tx.Commit()
}

// dropEmptyLeases deletes owner's leases of mapping that no row names any
// more: their work is done or given back. A lease that holds no rows
// never gains any, so none is deleted that a row still needs.
func dropEmptyLeases(ctx context.Context, tx *wtx, mapping, owner string) error {
	_, err := tx.ExecContext(ctx, `DELETE FROM claim_leases WHERE mapping = ? AND owner = ?
		AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.lease = claim_leases.id)`, mapping, owner)
	return err
}
