package postgres

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/storeplan"
	"github.com/jackc/pgx/v5"
)

// Accept implements forcesync.Store.
//
// Versions are assigned under row locks: the records of the call's keys are
// first inserted as placeholders where missing (in key order, so two calls
// wait for each other rather than deadlock), then locked and read. A
// concurrent Accept of the same key therefore waits and sees the version
// this one stores.
func (s *Store) Accept(ctx context.Context, mappings []string, changes []forcesync.Change) ([]forcesync.AcceptResult, error) {
	fields := make([]string, len(changes))
	bySource := map[string][]string{}
	for i := range changes {
		c := &changes[i]
		if c.Key == "" {
			return nil, forcesync.Errorf(forcesync.EInvalid, "change %d: key is empty", i+1)
		}
		f, err := storeplan.FieldsJSON(c)
		if err != nil {
			return nil, err
		}
		fields[i] = f
		bySource[c.Source] = append(bySource[c.Source], c.Key)
	}
	sources := make([]string, 0, len(bySource))
	for src, keys := range bySource {
		slices.Sort(keys)
		bySource[src] = slices.Compact(keys)
		sources = append(sources, src)
	}
	slices.Sort(sources)
	mappings = slices.Compact(slices.Sorted(slices.Values(mappings)))
	var res []forcesync.AcceptResult
	err := s.inTx(ctx, "accept", func(tx pgx.Tx) error {
		now := ms(s.now())
		stored := map[storeplan.SourceKey]int64{}
		for _, src := range sources {
			keys := bySource[src]
			if _, err := tx.Exec(ctx, `INSERT INTO source_records (source, key, version, op, fields, updated)
				SELECT $1, k, 0, 'upsert', '{}', $3 FROM unnest($2::text[]) AS k ORDER BY k
				ON CONFLICT (source, key) DO NOTHING`, src, keys, now); err != nil {
				return fmt.Errorf("records: %w", err)
			}
			rows, err := tx.Query(ctx, `SELECT key, version FROM source_records WHERE source = $1 AND key = ANY($2) ORDER BY key FOR UPDATE`, src, keys)
			if err != nil {
				return fmt.Errorf("versions: %w", err)
			}
			var k string
			var v int64
			_, err = pgx.ForEachRow(rows, []any{&k, &v}, func() error {
				stored[storeplan.SourceKey{Source: src, Key: k}] = v
				return nil
			})
			if err != nil {
				return fmt.Errorf("versions: %w", err)
			}
		}
		var out []storeplan.Record
		res, out = storeplan.Versions(changes, fields, stored)
		// Placeholders of keys whose every change was ignored (a version
		// below zero for a new key) must not stay behind as records.
		for _, src := range sources {
			var ghosts []string
			for _, key := range bySource[src] {
				if stored[storeplan.SourceKey{Source: src, Key: key}] == 0 {
					ghosts = append(ghosts, key)
				}
			}
			if len(ghosts) > 0 {
				if _, err := tx.Exec(ctx, `DELETE FROM source_records WHERE source = $1 AND key = ANY($2) AND version = 0`, src, ghosts); err != nil {
					return fmt.Errorf("records: %w", err)
				}
			}
		}
		if len(out) == 0 {
			return nil
		}
		slices.SortFunc(out, func(a, b storeplan.Record) int {
			return cmp.Or(strings.Compare(a.Key, b.Key), strings.Compare(a.Source, b.Source))
		})
		return acceptWrite(ctx, tx, mappings, out, now)
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// acceptWrite writes the records, and the outbox rows and statuses of every
// mapping, one statement each, from arrays.
func acceptWrite(ctx context.Context, tx pgx.Tx, mappings []string, rows []storeplan.Record, now int64) error {
	n := len(rows)
	var (
		srcs, keys, ops, flds = make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		vers                  = make([]int64, n)
		dels                  = make([]bool, n)
		prios                 = make([]int32, n)
	)
	for i, r := range rows {
		srcs[i], keys[i], ops[i], flds[i], vers[i], dels[i], prios[i] = r.Source, r.Key, r.Op, r.Fields, r.Version, r.Deleted, int32(r.Priority)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO source_records (source, key, version, deleted, op, fields, updated)
		SELECT s, k, v, d, o, f, $7 FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bool[], $5::text[], $6::text[]) AS t(s, k, v, d, o, f)
		ON CONFLICT (source, key) DO UPDATE SET version = excluded.version, deleted = excluded.deleted,
			op = excluded.op, fields = excluded.fields, updated = excluded.updated`,
		srcs, keys, vers, dels, ops, flds, now); err != nil {
		return fmt.Errorf("records: %w", err)
	}
	// A mapping reads one source, so its keys are unique here unless the
	// caller mixed sources sharing a key; keep the last of those.
	var bk, bs []string
	var bp []int32
	var bv []int64
	for i := range rows {
		if i+1 < n && keys[i+1] == keys[i] {
			continue
		}
		bk, bs, bp, bv = append(bk, keys[i]), append(bs, srcs[i]), append(bp, prios[i]), append(bv, vers[i])
	}
	var seq int64
	if err := tx.QueryRow(ctx, `SELECT nextval('outbox_seq')`).Scan(&seq); err != nil {
		return fmt.Errorf("outbox seq: %w", err)
	}
	for _, m := range mappings {
		if _, err := tx.Exec(ctx, `INSERT INTO outbox (mapping, key, source, priority, seq, attempts, due_at, enqueued)
			SELECT $1, k, s, p, $5, 0, $6, $6 FROM unnest($2::text[], $3::text[], $4::integer[]) AS t(k, s, p)
			ON CONFLICT (mapping, key) DO UPDATE SET seq = excluded.seq, attempts = 0, due_at = excluded.due_at,
				priority = LEAST(outbox.priority, excluded.priority), enqueued = excluded.enqueued`,
			m, bk, bs, bp, seq, now); err != nil {
			return fmt.Errorf("outbox: %w", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO statuses (mapping, key, source, state, version, updated)
			SELECT $1, k, s, 'pending', v, $5 FROM unnest($2::text[], $3::text[], $4::bigint[]) AS t(k, s, v)
			ON CONFLICT (mapping, key) DO UPDATE SET state = 'pending', version = excluded.version, updated = excluded.updated`,
			m, bk, bs, bv, now); err != nil {
			return fmt.Errorf("statuses: %w", err)
		}
	}
	return nil
}
