package postgres

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/storeplan"
	"github.com/jackc/pgx/v5"
)

// Claim implements forcesync.Store. One statement picks due rows that no
// live lease holds (skipping rows another claim is locking right now),
// writes one lease row for them, points them at it, and returns them
// joined with their records, bindings, intents and statuses. Free rows are
// found in an index of their own (outbox_free); when the mapping has
// leases that ran out (a replica died), the rows of those leases too
// (outbox_lease).
func (s *Store) Claim(ctx context.Context, req forcesync.ClaimRequest) ([]forcesync.WorkItem, error) {
	if req.Limit <= 0 {
		return nil, nil
	}
	now := req.Now
	if now.IsZero() {
		now = s.now()
	}
	nowMS, until := ms(now), ms(now.Add(req.Lease))
	var prio *int32
	if req.Priority != nil {
		p := int32(*req.Priority)
		prio = &p
	}
	type claimed struct {
		it       forcesync.WorkItem
		due, enq int64
	}
	var got []claimed
	err := s.inTx(ctx, "claim "+req.Mapping, func(tx pgx.Tx) error {
		got = got[:0]
		// Claims of one mapping take turns (for the few milliseconds a
		// claim takes), across replicas too: two at once would split the
		// due rows between them, and a Bulk-sized batch would become two
		// jobs, each with its fixed cost in API calls. The same round trip
		// deletes the mapping's leases that ran out and hold no rows any
		// more (claims took them over; an empty lease never gains rows, so
		// that needs no lock) and lists those that still hold some, as the
		// lock is taken (one that runs out a moment later waits for the
		// next claim).
		var expired []int64
		if err := tx.QueryRow(ctx, `WITH gone AS (
				DELETE FROM claim_leases l WHERE l.mapping = $2 AND l.until <= $3
					AND (SELECT 1 FROM outbox o WHERE o.lease = l.id LIMIT 1) IS NULL
				RETURNING id
			)
			SELECT pg_advisory_xact_lock($1),
				ARRAY(SELECT id FROM claim_leases WHERE mapping = $2 AND until <= $3 AND id NOT IN (SELECT id FROM gone))`,
			s.lockKey("claim/"+req.Mapping), req.Mapping, nowMS).Scan(nil, &expired); err != nil {
			return err
		}
		args := []any{req.Mapping, nowMS, req.Limit, req.Owner, until, prio}
		picked := pickFree
		if len(expired) > 0 {
			picked = pickFreeOrExpired // rare: a worker died or stalled
			args = append(args, expired)
		}
		rows, err := tx.Query(ctx, claimQuery(picked), args...)
		if err != nil {
			return err
		}
		var (
			c                  claimed
			p                  int32
			op, fields, heldFP string
			sfID, fp, imatch   *string
			bmod, bupd, iat    *int64
		)
		_, err = pgx.ForEachRow(rows, []any{&c.it.Key, &c.it.Source, &p, &c.it.Seq, &c.it.Attempts, &c.it.Forced, &c.enq, &c.due,
			&c.it.Version, &op, &fields, &sfID, &fp, &bmod, &bupd, &imatch, &iat, &heldFP}, func() error {
			it := c.it
			it.Mapping = req.Mapping
			it.Priority = forcesync.Priority(p)
			it.Enqueued = fromMS(c.enq)
			it.Op = forcesync.Op(op)
			it.HeldFingerprint = heldFP
			it.Fields, it.Unreadable = storeplan.DecodeFields([]byte(fields)) // unreadable: held by the engine, not a failed claim
			if sfID != nil {
				it.Binding = &forcesync.Binding{Mapping: req.Mapping, Key: it.Key, SalesforceID: *sfID,
					Fingerprint: *fp, Modstamp: fromMS(*bmod), Updated: fromMS(*bupd)}
			}
			if imatch != nil {
				in := &forcesync.Intent{Key: it.Key, At: fromMS(*iat)}
				if err := json.Unmarshal([]byte(*imatch), &in.Match); err != nil {
					return fmt.Errorf("%s: stored intent: %w", it.Key, err)
				}
				it.Intent = in
			}
			got = append(got, claimed{it: it, due: c.due, enq: c.enq})
			return nil
		})
		return err // a failed read rolls the leases back
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(got, func(a, b claimed) int {
		return cmp.Or(cmp.Compare(a.it.Priority, b.it.Priority), cmp.Compare(a.due, b.due),
			cmp.Compare(a.enq, b.enq), strings.Compare(a.it.Key, b.it.Key))
	})
	items := make([]forcesync.WorkItem, len(got))
	for i := range got {
		items[i] = got[i].it
	}
	return items, nil
}

// claimQuery is the claim's statement, picking its rows with picked
// (pickFree or pickFreeOrExpired): it writes the lease row, points the
// picked rows at it and reads them with their records, bindings, intents
// and statuses. $1 mapping, $2 now, $3 limit, $4 owner, $5 the lease's
// end, $6 the priority or NULL.
func claimQuery(picked string) string {
	return `WITH picked AS (` + picked + `), lease AS (
		INSERT INTO claim_leases (mapping, owner, until) SELECT $1, $4, $5 WHERE EXISTS (SELECT 1 FROM picked)
		RETURNING id
	), leased AS (
		UPDATE outbox o SET lease = lease.id, claimed_seq = o.seq
		FROM picked, lease WHERE o.mapping = $1 AND o.key = picked.key
		RETURNING o.key, o.source, o.priority, o.seq, o.attempts, o.forced, o.enqueued, picked.due_at AS due
	)
	SELECT l.key, l.source, l.priority, l.seq, l.attempts, l.forced, l.enqueued, l.due,
		r.version, r.op, r.fields,
		b.sf_id, b.fingerprint, b.modstamp, b.updated,
		i.match, i.at,
		COALESCE(st.held_fp, '')
	FROM leased l
	JOIN source_records r ON r.source = l.source AND r.key = l.key
	LEFT JOIN bindings b ON b.mapping = $1 AND b.key = l.key
	LEFT JOIN intents i ON i.mapping = $1 AND i.key = l.key
	LEFT JOIN statuses st ON st.mapping = $1 AND st.key = l.key`
}

// pickFree picks a claim's rows among the free ones: $1 mapping, $2 now,
// $3 limit, $6 the priority or NULL.
const pickFree = `SELECT key, due_at FROM outbox
	WHERE mapping = $1 AND lease IS NULL AND due_at <= $2 AND ($6::integer IS NULL OR priority = $6)
	ORDER BY priority, due_at, enqueued
	LIMIT $3
	FOR UPDATE SKIP LOCKED`

// pickFreeOrExpired is pickFree when the mapping has leases that ran out
// ($7, their ids): the first rows in claim order of the free rows and of
// those leases' rows together. Each lease's rows are read in claim order
// from outbox_lease, up to the limit per branch, without a lock; only the
// rows picked from them are locked, so that a claim after a worker died
// locks the rows it takes and no more (locking in each branch locked up to
// the limit again per branch until the claim committed). A picked row
// another transaction locks is skipped, and one that changed since is
// checked again (still due, still free or under one of those leases).
const pickFreeOrExpired = `SELECT o.key, o.due_at FROM (
		SELECT key FROM (
			SELECT * FROM (SELECT key, priority, due_at, enqueued FROM outbox
				WHERE mapping = $1 AND lease IS NULL AND due_at <= $2 AND ($6::integer IS NULL OR priority = $6)
				ORDER BY priority, due_at, enqueued LIMIT $3) f
			UNION ALL
			SELECT x.* FROM unnest($7::bigint[]) AS e(id), LATERAL (SELECT key, priority, due_at, enqueued FROM outbox
				WHERE lease = e.id AND due_at <= $2 AND ($6::integer IS NULL OR priority = $6)
				ORDER BY priority, due_at, enqueued LIMIT $3) x
		) c
		ORDER BY priority, due_at, enqueued
		LIMIT $3
	) p
	JOIN outbox o ON o.mapping = $1 AND o.key = p.key
	WHERE o.due_at <= $2 AND (o.lease IS NULL OR o.lease = ANY($7::bigint[])) AND ($6::integer IS NULL OR o.priority = $6)
	FOR UPDATE OF o SKIP LOCKED`

// dropEmptyLeases deletes owner's leases of mapping that no row names any
// more: their work is done or given back. A lease that holds no rows
// never gains any, so none is deleted that a row still needs. (Whether a
// lease holds rows is asked as a subquery with LIMIT 1, so PostgreSQL
// stops at the first row rather than gather a large lease's rows, as a
// semi-join through a bitmap scan did.)
func dropEmptyLeases(ctx context.Context, tx pgx.Tx, mapping, owner string) error {
	_, err := tx.Exec(ctx, `DELETE FROM claim_leases WHERE mapping = $1 AND owner = $2
		AND (SELECT 1 FROM outbox o WHERE o.lease = claim_leases.id LIMIT 1) IS NULL`, mapping, owner)
	return err
}
