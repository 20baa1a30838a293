package postgres

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/forcesync/forcesync"
	"github.com/jackc/pgx/v5"
)

// Claim implements forcesync.Store. One statement picks due rows that no
// live lease holds (skipping rows another claim is locking right now),
// leases them, and returns them joined with their records, bindings,
// intents and statuses. Leasing moves a row's due time to the lease's end,
// so leased rows leave the range later claims scan, and come back by
// themselves if the lease runs out.
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
		// jobs, each with its fixed cost in API calls.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, s.lockKey("claim/"+req.Mapping)); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `WITH picked AS (
			SELECT key, due_at FROM outbox
			WHERE mapping = $1 AND due_at <= $2 AND (lease_owner IS NULL OR lease_until <= $2)
				AND ($6::integer IS NULL OR priority = $6)
			ORDER BY priority, due_at, enqueued
			LIMIT $3
			FOR UPDATE SKIP LOCKED
		), leased AS (
			UPDATE outbox o SET lease_owner = $4, lease_until = $5, due_at = $5
			FROM picked WHERE o.mapping = $1 AND o.key = picked.key
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
		LEFT JOIN statuses st ON st.mapping = $1 AND st.key = l.key`,
			req.Mapping, nowMS, req.Limit, req.Owner, until, prio)
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
			if err := json.Unmarshal([]byte(fields), &it.Fields); err != nil {
				return fmt.Errorf("%s: stored fields: %w", it.Key, err)
			}
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
