// Package postgres is the PostgreSQL implementation of forcesync.Store, for
// several replicas of forcesync serve sharing one database. Claims lease
// rows with FOR UPDATE SKIP LOCKED, so replicas never wait for each other's
// batches, and a lease that runs out (its replica died) makes the rows
// claimable again.
package postgres

import (
	"cmp"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/storeplan"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is the PostgreSQL forcesync.Store.
type Store struct {
	pool *pgxpool.Pool
	now  func() time.Time
	// lockSpace keeps this deployment's advisory locks apart from those of
	// deployments in other schemas of the same database.
	lockSpace string
}

// lockKey is the advisory lock key of name in this store's space.
func (s *Store) lockKey(name string) int64 {
	h := fnv.New64a()
	h.Write([]byte("forcesync/" + s.lockSpace + "/" + name))
	return int64(h.Sum64() >> 1)
}

var _ forcesync.Store = (*Store)(nil)

// Options tunes Open. The zero value is the default.
type Options struct {
	// Now returns the current time; nil means time.Now. Every replica must
	// have a synchronised clock: leases and retry times are compared with it.
	Now func() time.Time
	// Schema, when set, holds forcesync's tables (created if missing);
	// otherwise the connection's search_path decides.
	Schema string
	// MaxConns caps the pool; zero means defaultMaxConns.
	MaxConns int32
}

// defaultMaxConns is the pool's size unless set. Ingest requests, claims
// and completions each hold a connection for a transaction; pgxpool's own
// default (the number of CPUs, at least 4) made claims queue behind
// ingest: in the stream benchmark a claim waited 110 ms on average.
const defaultMaxConns = 16

var schemaName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,62}$`)

// Open connects to the database named by dsn (a postgres:// URL or a
// key=value string) and runs the embedded migrations. Replicas starting
// together take turns migrating, under an advisory lock.
func Open(ctx context.Context, dsn string, opt Options) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx's message leaves the password out.
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if opt.Schema != "" {
		if !schemaName.MatchString(opt.Schema) {
			return nil, fmt.Errorf("postgres: schema %q: use letters, digits and underscores, starting with a letter or underscore", opt.Schema)
		}
		cfg.ConnConfig.RuntimeParams["search_path"] = opt.Schema
	}
	// Plan every statement for its arguments. A cached generic plan made
	// while the tables were empty (a new deployment, before autovacuum's
	// first ANALYZE) kept scanning whole tables as they grew: in the stream
	// benchmark the key lookups of Accept and Complete were most of the
	// server's CPU. Planning these short statements costs little.
	if _, ok := cfg.ConnConfig.RuntimeParams["plan_cache_mode"]; !ok {
		cfg.ConnConfig.RuntimeParams["plan_cache_mode"] = "force_custom_plan"
	}
	cfg.MaxConns = defaultMaxConns
	if opt.MaxConns > 0 {
		cfg.MaxConns = opt.MaxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	s := &Store{pool: pool, now: opt.Now, lockSpace: opt.Schema}
	if s.now == nil {
		s.now = time.Now
	}
	if err := s.migrate(ctx, opt.Schema); err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

func (s *Store) migrate(ctx context.Context, schema string) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("postgres: connect to %s:%d: %w", s.pool.Config().ConnConfig.Host, s.pool.Config().ConnConfig.Port, err)
	}
	if schema != "" {
		_, err := s.pool.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS `+pgx.Identifier{schema}.Sanitize())
		var pe *pgconn.PgError
		if errors.As(err, &pe) && (pe.Code == "23505" || pe.Code == "42P06") {
			err = nil // another replica created it at the same moment
		}
		if err != nil {
			return fmt.Errorf("postgres: create schema %s: %w", schema, err)
		}
	}
	// One lock per schema: replicas of one deployment migrate in turn,
	// deployments in other schemas do not wait for them.
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(s.lockKey("migrations")))
	if err != nil {
		return fmt.Errorf("postgres: migrations: %w", err)
	}
	db := stdlib.OpenDBFromPool(s.pool)
	defer db.Close()
	sub, _ := fs.Sub(migrations, "migrations")
	p, err := goose.NewProvider(goose.DialectPostgres, db, sub, goose.WithSessionLocker(locker))
	if err != nil {
		return fmt.Errorf("postgres: migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	return nil
}

// Close closes the pool.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// ms and fromMS convert the stores' time columns (Unix milliseconds).
var ms, fromMS = storeplan.MS, storeplan.FromMS

// inTx runs fn in a transaction and commits. A transaction PostgreSQL
// aborted to break a deadlock or a serialization conflict is run again
// (fn must start from scratch each time); other errors are returned.
func (s *Store) inTx(ctx context.Context, what string, fn func(tx pgx.Tx) error) error {
	const attempts = 8
	for i := 1; ; i++ {
		err := pgx.BeginFunc(ctx, s.pool, fn)
		if err == nil {
			return nil
		}
		var pe *pgconn.PgError
		if i < attempts && ctx.Err() == nil && errors.As(err, &pe) && (pe.Code == "40P01" || pe.Code == "40001") {
			// Back off a little, at random, so the two sides do not meet again.
			t := time.NewTimer(time.Duration(rand.Int64N(int64(i) * int64(5*time.Millisecond))))
			select {
			case <-ctx.Done():
				t.Stop()
				return fmt.Errorf("%s: %w", what, ctx.Err())
			case <-t.C:
			}
			continue
		}
		return fmt.Errorf("%s: %w", what, err)
	}
}

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
	return s.inTx(ctx, "complete", func(tx pgx.Tx) error {
		now := ms(s.now())
		for _, m := range order {
			if err := completeMapping(ctx, tx, owner, m, byMapping[m], now); err != nil {
				return fmt.Errorf("%s: %w", m, err)
			}
		}
		if run != nil {
			if err := tx.QueryRow(ctx, `INSERT INTO runs (mapping, api, started, finished, records, created, updated, unchanged, deleted, failed, skipped, api_calls)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id`,
				run.Mapping, run.API, ms(run.Started), ms(run.Finished), run.Records, run.Created, run.Updated, run.Unchanged,
				run.Deleted, run.Failed, run.Skipped, run.APICalls).Scan(&run.ID); err != nil {
				return fmt.Errorf("run: %w", err)
			}
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

func completeMapping(ctx context.Context, tx pgx.Tx, owner, mapping string, outs []forcesync.Outcome, now int64) error {
	keys := make([]string, len(outs))
	for i, o := range outs {
		keys[i] = o.Item.Key
	}
	box := map[string]storeplan.Row{}
	old := map[string]storeplan.Prev{}
	rows, err := tx.Query(ctx, `SELECT key, seq, COALESCE(lease_owner, '') FROM outbox WHERE mapping = $1 AND key = ANY($2) ORDER BY key FOR UPDATE`, mapping, keys)
	if err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	var k string
	var b storeplan.Row
	if _, err := pgx.ForEachRow(rows, []any{&k, &b.Seq, &b.Owner}, func() error { box[k] = b; return nil }); err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	rows, err = tx.Query(ctx, `SELECT key, sf_id, held_fp FROM statuses WHERE mapping = $1 AND key = ANY($2)`, mapping, keys)
	if err != nil {
		return fmt.Errorf("statuses: %w", err)
	}
	var p storeplan.Prev
	if _, err := pgx.ForEachRow(rows, []any{&k, &p.SalesforceID, &p.HeldFingerprint}, func() error { old[k] = p; return nil }); err != nil {
		return fmt.Errorf("statuses: %w", err)
	}

	var release, done, unbind, unintent, retryKeys []string
	var retryDue []int64
	var bindKeys, bindIDs, bindFPs []string
	var sts statusRows
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
	}
	if len(retryKeys) > 0 {
		if _, err := tx.Exec(ctx, `UPDATE outbox o SET lease_owner = NULL, lease_until = 0, attempts = o.attempts + 1, due_at = t.due
			FROM unnest($2::text[], $3::bigint[]) AS t(key, due) WHERE o.mapping = $1 AND o.key = t.key`, mapping, retryKeys, retryDue); err != nil {
			return fmt.Errorf("retry: %w", err)
		}
	}
	if len(release) > 0 {
		// The newer change set due_at when it arrived; it stays.
		if _, err := tx.Exec(ctx, `UPDATE outbox SET lease_owner = NULL, lease_until = 0, forced = false WHERE mapping = $1 AND key = ANY($2)`, mapping, release); err != nil {
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
	return nil
}

// HoldMatches implements forcesync.Store. Values are taken in order, so two
// replicas asking for overlapping sets wait for each other rather than
// deadlock; RETURNING lists the holds taken, renewed or taken over.
func (s *Store) HoldMatches(ctx context.Context, mapping, owner string, values []string, now, until time.Time) ([]string, error) {
	values = slices.Compact(slices.Sorted(slices.Values(values)))
	if len(values) == 0 {
		return nil, nil
	}
	var held []string
	err := s.inTx(ctx, "hold matches "+mapping, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `INSERT INTO match_holds (mapping, value, owner, until)
			SELECT $1, v, $2, $4 FROM unnest($3::text[]) AS v ORDER BY v
			ON CONFLICT (mapping, value) DO UPDATE SET owner = excluded.owner, until = excluded.until
				WHERE match_holds.owner = excluded.owner OR match_holds.until <= $5
			RETURNING value`, mapping, owner, values, ms(until), ms(now))
		if err != nil {
			return err
		}
		held, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
	return held, err
}

// ReleaseMatches implements forcesync.Store.
func (s *Store) ReleaseMatches(ctx context.Context, mapping, owner string, values []string) error {
	if len(values) == 0 {
		return nil
	}
	if _, err := s.pool.Exec(ctx, `DELETE FROM match_holds WHERE mapping = $1 AND owner = $2 AND value = ANY($3)`, mapping, owner, values); err != nil {
		return fmt.Errorf("release matches %s: %w", mapping, err)
	}
	return nil
}

// RecordIntents implements forcesync.Store.
func (s *Store) RecordIntents(ctx context.Context, mapping string, intents []forcesync.Intent) error {
	if len(intents) == 0 {
		return nil
	}
	now := s.now()
	byKey := map[string]int{}
	var keys, matches []string
	var ats []int64
	for _, in := range intents {
		b, err := json.Marshal(in.Match)
		if err != nil {
			return fmt.Errorf("record intent %s: %w", in.Key, err)
		}
		at := in.At
		if at.IsZero() {
			at = now
		}
		if j, ok := byKey[in.Key]; ok {
			matches[j], ats[j] = string(b), ms(at)
			continue
		}
		byKey[in.Key] = len(keys)
		keys, matches, ats = append(keys, in.Key), append(matches, string(b)), append(ats, ms(at))
	}
	return s.inTx(ctx, "record intents", func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO intents (mapping, key, match, at)
			SELECT $1, k, m, a FROM unnest($2::text[], $3::text[], $4::bigint[]) AS t(k, m, a)
			ON CONFLICT (mapping, key) DO UPDATE SET match = excluded.match, at = excluded.at`, mapping, keys, matches, ats)
		return err
	})
}

// Requeue implements forcesync.Store.
func (s *Store) Requeue(ctx context.Context, mapping string, keys []string) (int, error) {
	var n int64
	err := s.inTx(ctx, "requeue "+mapping, func(tx pgx.Tx) error {
		now := ms(s.now())
		const ins = `INSERT INTO outbox (mapping, key, source, priority, seq, attempts, due_at, forced, enqueued)
			SELECT st.mapping, st.key, st.source, 0, nextval('outbox_seq'), 0, $1, true, $1 FROM statuses st
			JOIN source_records r ON r.source = st.source AND r.key = st.key
			WHERE st.mapping = $2 AND %s
			ORDER BY st.key
			ON CONFLICT (mapping, key) DO UPDATE SET seq = excluded.seq, attempts = 0, due_at = excluded.due_at, forced = true`
		var (
			tag pgconn.CommandTag
			err error
		)
		if keys == nil {
			if tag, err = tx.Exec(ctx, fmt.Sprintf(ins, `st.state = 'held'`), now, mapping); err != nil {
				return err
			}
			_, err = tx.Exec(ctx, `UPDATE statuses SET state = 'pending', updated = $1 WHERE mapping = $2 AND state = 'held'`, now, mapping)
		} else {
			if tag, err = tx.Exec(ctx, fmt.Sprintf(ins, `st.key = ANY($3)`), now, mapping, keys); err != nil {
				return err
			}
			_, err = tx.Exec(ctx, `UPDATE statuses SET state = 'pending', updated = $1 WHERE mapping = $2 AND key = ANY($3)`, now, mapping, keys)
		}
		n = tag.RowsAffected()
		return err
	})
	return int(n), err
}

// MappingVersion implements forcesync.Store.
func (s *Store) MappingVersion(ctx context.Context, mapping, fingerprint string) (bool, error) {
	var changed bool
	err := s.inTx(ctx, "mapping version "+mapping, func(tx pgx.Tx) error {
		// The row is made first if missing, then locked, so replicas
		// starting together agree on what changed.
		tag, err := tx.Exec(ctx, `INSERT INTO mappings (name, fingerprint) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`, mapping, fingerprint)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 1 {
			changed = false // first sight: nothing to compare with
			return nil
		}
		var old string
		if err := tx.QueryRow(ctx, `SELECT fingerprint FROM mappings WHERE name = $1 FOR UPDATE`, mapping).Scan(&old); err != nil {
			return err
		}
		changed = old != fingerprint
		if changed {
			_, err = tx.Exec(ctx, `UPDATE mappings SET fingerprint = $2 WHERE name = $1`, mapping, fingerprint)
		}
		return err
	})
	return changed, err
}

// SourceRecord implements forcesync.Store.
func (s *Store) SourceRecord(ctx context.Context, source, key string) (*forcesync.SourceRecord, error) {
	var (
		rec     = forcesync.SourceRecord{Source: source, Key: key}
		fields  string
		updated int64
	)
	err := s.pool.QueryRow(ctx, `SELECT version, deleted, fields, updated FROM source_records WHERE source = $1 AND key = $2 AND version > 0`, source, key).
		Scan(&rec.Version, &rec.Deleted, &fields, &updated)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, forcesync.Errorf(forcesync.ENotFound, "record %s/%s not found", source, key)
	}
	if err != nil {
		return nil, fmt.Errorf("source record %s/%s: %w", source, key, err)
	}
	if err := storeplan.DecodeRecord(&rec, fields, updated); err != nil {
		return nil, err
	}
	return &rec, nil
}

// sourceWhere is the WHERE clause and arguments of q.
func sourceWhere(q *forcesync.SourceQuery) (string, []any, error) {
	if err := storeplan.CheckSourceQuery(q); err != nil {
		return "", nil, err
	}
	// version > 0 leaves out an Accept's placeholder rows.
	where, args := `source = $1 AND NOT deleted AND version > 0`, []any{q.Source}
	if q.Field != "" {
		where += ` AND lower(fields::jsonb ->> $2) = lower($3)`
		args = append(args, q.Field, q.Value)
	}
	return where, args, nil
}

// SourceRecords implements forcesync.Store.
func (s *Store) SourceRecords(ctx context.Context, q forcesync.SourceQuery) ([]forcesync.SourceRecord, error) {
	where, args, err := sourceWhere(&q)
	if err != nil {
		return nil, err
	}
	limit := q.Limit
	if limit == 0 {
		limit = 100
	}
	n := len(args)
	rows, err := s.pool.Query(ctx, fmt.Sprintf(`SELECT key, version, fields, updated FROM source_records WHERE %s ORDER BY key LIMIT $%d OFFSET $%d`, where, n+1, n+2),
		append(args, limit, q.Offset)...)
	if err != nil {
		return nil, fmt.Errorf("source records %s: %w", q.Source, err)
	}
	var (
		out     []forcesync.SourceRecord
		rec     = forcesync.SourceRecord{Source: q.Source}
		fields  string
		updated int64
	)
	_, err = pgx.ForEachRow(rows, []any{&rec.Key, &rec.Version, &fields, &updated}, func() error {
		r := rec
		if err := storeplan.DecodeRecord(&r, fields, updated); err != nil {
			return err
		}
		out = append(out, r)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("source records %s: %w", q.Source, err)
	}
	return out, nil
}

// CountSourceRecords implements forcesync.Store.
func (s *Store) CountSourceRecords(ctx context.Context, q forcesync.SourceQuery) (int, error) {
	where, args, err := sourceWhere(&q)
	if err != nil {
		return 0, err
	}
	var n int
	if err := s.pool.QueryRow(ctx, `SELECT COUNT(*) FROM source_records WHERE `+where, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count source records %s: %w", q.Source, err)
	}
	return n, nil
}

const statusCols = `mapping, key, source, state, sf_id, error_code, error_message, error_fields, warnings, attempts, next_attempt, version, updated`

func scanStatuses(rows pgx.Rows) ([]forcesync.RecordStatus, error) {
	var (
		out []forcesync.RecordStatus
		st  forcesync.RecordStatus
		c   storeplan.StatusColumns
	)
	_, err := pgx.ForEachRow(rows, []any{&st.Mapping, &st.Key, &st.Source, &c.State, &st.SalesforceID, &c.Code, &c.Message, &c.Fields, &c.Warnings,
		&st.Attempts, &c.Next, &st.Version, &c.Updated}, func() error {
		r := st
		c.Decode(&r)
		out = append(out, r)
		return nil
	})
	return out, err
}

// Statuses implements forcesync.Store.
func (s *Store) Statuses(ctx context.Context, source, key string) ([]forcesync.RecordStatus, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+statusCols+` FROM statuses WHERE source = $1 AND key = $2 ORDER BY mapping`, source, key)
	if err != nil {
		return nil, fmt.Errorf("statuses %s/%s: %w", source, key, err)
	}
	out, err := scanStatuses(rows)
	if err != nil {
		return nil, fmt.Errorf("statuses %s/%s: %w", source, key, err)
	}
	return out, nil
}

// Binding implements forcesync.Store.
func (s *Store) Binding(ctx context.Context, mapping, key string) (*forcesync.Binding, error) {
	b := forcesync.Binding{Mapping: mapping, Key: key}
	var mod, upd int64
	err := s.pool.QueryRow(ctx, `SELECT sf_id, fingerprint, modstamp, updated FROM bindings WHERE mapping = $1 AND key = $2`, mapping, key).
		Scan(&b.SalesforceID, &b.Fingerprint, &mod, &upd)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("binding %s/%s: %w", mapping, key, err)
	}
	b.Modstamp, b.Updated = fromMS(mod), fromMS(upd)
	return &b, nil
}

// List implements forcesync.Store.
func (s *Store) List(ctx context.Context, f forcesync.StatusFilter) ([]forcesync.RecordStatus, error) {
	var where []string
	var args []any
	if f.Mapping != "" {
		args = append(args, f.Mapping)
		where = append(where, fmt.Sprintf("mapping = $%d", len(args)))
	}
	if len(f.States) > 0 {
		states := make([]string, len(f.States))
		problems := true
		for i, st := range f.States {
			states[i] = string(st)
			problems = problems && (st == forcesync.StateHeld || st == forcesync.StateRetrying)
		}
		args = append(args, states)
		where = append(where, fmt.Sprintf("state = ANY($%d)", len(args)))
		if problems {
			// Spelled as in the partial index statuses_problems, so the
			// planner may use it.
			where = append(where, "state IN ('held', 'retrying')")
		}
	}
	q := `SELECT ` + statusCols + ` FROM statuses`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	args = append(args, limit)
	q += fmt.Sprintf(` ORDER BY updated DESC, key LIMIT $%d`, len(args))
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list statuses: %w", err)
	}
	out, err := scanStatuses(rows)
	if err != nil {
		return nil, fmt.Errorf("list statuses: %w", err)
	}
	return out, nil
}

// Counts implements forcesync.Store.
func (s *Store) Counts(ctx context.Context, mapping string) (map[forcesync.State]int, error) {
	rows, err := s.pool.Query(ctx, `SELECT state, COUNT(*) FROM statuses WHERE mapping = $1 GROUP BY state`, mapping)
	if err != nil {
		return nil, fmt.Errorf("counts %s: %w", mapping, err)
	}
	out := map[forcesync.State]int{}
	var st string
	var n int
	if _, err := pgx.ForEachRow(rows, []any{&st, &n}, func() error { out[forcesync.State(st)] = n; return nil }); err != nil {
		return nil, fmt.Errorf("counts %s: %w", mapping, err)
	}
	return out, nil
}

// Backlog implements forcesync.Store.
func (s *Store) Backlog(ctx context.Context, mapping string) (int, error) {
	var n int
	if err := s.pool.QueryRow(ctx, `SELECT COUNT(*) FROM outbox WHERE mapping = $1`, mapping).Scan(&n); err != nil {
		return 0, fmt.Errorf("backlog %s: %w", mapping, err)
	}
	return n, nil
}

// Runs implements forcesync.Store.
func (s *Store) Runs(ctx context.Context, limit int) ([]forcesync.Run, error) {
	if limit <= 0 {
		limit = 50
	}
	rows, err := s.pool.Query(ctx, `SELECT id, mapping, api, started, finished, records, created, updated, unchanged, deleted, failed, skipped, api_calls
		FROM runs ORDER BY id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("runs: %w", err)
	}
	var (
		out     []forcesync.Run
		r       forcesync.Run
		st, fin int64
	)
	_, err = pgx.ForEachRow(rows, []any{&r.ID, &r.Mapping, &r.API, &st, &fin, &r.Records, &r.Created, &r.Updated, &r.Unchanged,
		&r.Deleted, &r.Failed, &r.Skipped, &r.APICalls}, func() error {
		run := r
		run.Started, run.Finished = fromMS(st), fromMS(fin)
		out = append(out, run)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("runs: %w", err)
	}
	return out, nil
}

// RecordAPIUsage implements forcesync.Store. Calls are added to today's
// (UTC) counts; a new day starts from zero. Replicas add to the same row
// in turn (it is locked while read).
func (s *Store) RecordAPIUsage(ctx context.Context, u forcesync.APIUsage) error {
	at := u.At
	if at.IsZero() {
		at = s.now()
	}
	day := at.UTC().Format("2006-01-02")
	return s.inTx(ctx, "api usage "+u.Connection, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO api_usage (connection, used, max, day, calls, at) VALUES ($1, 0, 0, $2, '{}', $3)
			ON CONFLICT (connection) DO NOTHING`, u.Connection, day, ms(at)); err != nil {
			return err
		}
		var old storeplan.Usage
		if err := tx.QueryRow(ctx, `SELECT day, calls, used, max FROM api_usage WHERE connection = $1 FOR UPDATE`, u.Connection).
			Scan(&old.Day, &old.Calls, &old.Used, &old.Max); err != nil {
			return err
		}
		row := old.Add(u, day)
		_, err := tx.Exec(ctx, `UPDATE api_usage SET used = $2, max = $3, day = $4, calls = $5, at = $6 WHERE connection = $1`,
			u.Connection, row.Used, row.Max, row.Day, row.Calls, ms(at))
		return err
	})
}

// APIUsage implements forcesync.Store.
func (s *Store) APIUsage(ctx context.Context, connection string) (*forcesync.APIUsage, error) {
	u := forcesync.APIUsage{Connection: connection, Calls: map[string]int{}}
	var row storeplan.Usage
	var at int64
	err := s.pool.QueryRow(ctx, `SELECT used, max, day, calls, at FROM api_usage WHERE connection = $1`, connection).Scan(&row.Used, &row.Max, &row.Day, &row.Calls, &at)
	if errors.Is(err, pgx.ErrNoRows) {
		return &u, nil
	}
	if err != nil {
		return nil, fmt.Errorf("api usage %s: %w", connection, err)
	}
	row.Decode(&u, at, s.now().UTC().Format("2006-01-02"))
	return &u, nil
}
