package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/storeplan"
	"github.com/pressly/goose/v3"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is the SQLite implementation of forcesync.Store: one file in WAL
// mode, one writer connection (SQLite allows one writer at a time; a single
// connection makes that explicit and avoids SQLITE_BUSY), several readers.
type Store struct {
	w   *sql.DB // the one writer's pool, used through wr once open
	wr  *writer
	r   *sql.DB // readers
	cr  *sql.DB // the claims' readers
	now func() time.Time
	// sweepAt is when (Unix ms) a lease may next have run out: a claim at
	// or after it first returns expired leases to the free rows. Zero makes
	// the first claim sweep, which frees a crashed process's leases.
	sweepAt atomic.Int64
	// afterLease, when set (by tests), runs between a claim's lease and
	// its read.
	afterLease func()
}

// claimReaders is how many claims may read at once.
const claimReaders = 2

// sweepEvery bounds the wait between sweeps, for leases taken by another
// process on the same file that this one cannot know of.
const sweepEvery = 30 * time.Second

var _ forcesync.Store = (*Store)(nil)

// Options tunes Open. The zero value is the default.
type Options struct {
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// Readers is the size of the read pool; zero means 4. Claims read
	// through a pool of their own.
	Readers int
}

// Open opens (creating if needed) the database file at path and runs the
// embedded migrations.
func Open(ctx context.Context, path string, opt Options) (*Store, error) {
	if path == "" {
		return nil, errors.New("sqlite: empty database path")
	}
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "foreign_keys(ON)")
	q.Set("_txlock", "immediate")
	dsn := "file:" + path + "?" + q.Encode()
	w, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	sub, _ := fs.Sub(migrations, "migrations")
	p, err := goose.NewProvider(goose.DialectSQLite3, w, sub)
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: migrate %s: %w", path, err)
	}
	wr, err := newWriter(ctx, w)
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	rq := url.Values{}
	rq.Add("_pragma", "busy_timeout(10000)")
	rq.Add("_pragma", "query_only(1)")
	r, err := sql.Open("sqlite", "file:"+path+"?"+rq.Encode())
	if err != nil {
		wr.close()
		w.Close()
		return nil, fmt.Errorf("sqlite: open readers %s: %w", path, err)
	}
	n := opt.Readers
	if n <= 0 {
		n = 4
	}
	r.SetMaxOpenConns(n)
	// Claims read through a small pool of their own, so status queries
	// never make a claim wait for a connection. Each connection keeps
	// SQLite's default page cache (about 2 MiB): a larger one bought no
	// measurable speed, and it filled slowly over hours of work, which
	// showed as memory creeping up.
	cr, err := sql.Open("sqlite", "file:"+path+"?"+rq.Encode())
	if err != nil {
		r.Close()
		wr.close()
		w.Close()
		return nil, fmt.Errorf("sqlite: open claim readers %s: %w", path, err)
	}
	cr.SetMaxOpenConns(claimReaders)
	cr.SetMaxIdleConns(claimReaders)
	s := &Store{w: w, wr: wr, r: r, cr: cr, now: opt.Now}
	if s.now == nil {
		s.now = time.Now
	}
	return s, nil
}

// Close closes the database.
func (s *Store) Close() error {
	return errors.Join(s.cr.Close(), s.r.Close(), s.wr.close(), s.w.Close())
}

// ms and fromMS convert the stores' time columns (Unix milliseconds).
var ms, fromMS = storeplan.MS, storeplan.FromMS

// Accept implements forcesync.Store. It reads the stored versions of the
// keys in one query per chunk and writes records, outbox rows and statuses
// with multi-row statements: a few statements per hundred changes rather
// than four per change.
func (s *Store) Accept(ctx context.Context, mappings []string, changes []forcesync.Change) ([]forcesync.AcceptResult, error) {
	now := ms(s.now())
	bySource := map[string][]string{}
	fields := make([]string, len(changes))
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
	tx, err := s.begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("accept: %w", err)
	}
	defer tx.Rollback()

	stored := map[storeplan.SourceKey]int64{}
	for src, keys := range bySource {
		err := eachPiece(len(keys), func(lo, hi int) error {
			part := keys[lo:hi]
			args := make([]any, 0, len(part)+1)
			args = append(args, src)
			for _, k := range part {
				args = append(args, k)
			}
			rows, err := tx.QueryContext(ctx, `SELECT key, version FROM source_records WHERE source = ? AND key IN (`+placeholders(len(part))+`)`, args...)
			if err != nil {
				return err
			}
			for rows.Next() {
				var k string
				var v int64
				if err := rows.Scan(&k, &v); err != nil {
					rows.Close()
					return err
				}
				stored[storeplan.SourceKey{Source: src, Key: k}] = v
			}
			return rows.Close()
		})
		if err != nil {
			return nil, fmt.Errorf("accept: versions: %w", err)
		}
	}

	res, out := storeplan.Versions(changes, fields, stored)

	seq, err := nextSeq(ctx, tx)
	if err != nil {
		return nil, fmt.Errorf("accept: %w", err)
	}
	if err := acceptWrite(ctx, tx, mappings, out, now, seq); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("accept: commit: %w", err)
	}
	return res, nil
}

// nextSeq takes the next outbox sequence number for the rows one
// transaction writes. It is store-wide and never reused, so a key's seq
// differs between any two writes of its outbox row.
func nextSeq(ctx context.Context, tx *wtx) (int64, error) {
	var seq int64
	if err := tx.QueryRowContext(ctx, `UPDATE counters SET value = value + 1 WHERE name = 'outbox_seq' RETURNING value`).Scan(&seq); err != nil {
		return 0, fmt.Errorf("outbox seq: %w", err)
	}
	return seq, nil
}

// acceptWrite writes the records, and the outbox rows and statuses of every
// mapping, with multi-row statements.
func acceptWrite(ctx context.Context, tx *wtx, mappings []string, rows []storeplan.Record, now, seq int64) error {
	args := make([]any, 0, len(rows)*7)
	for _, r := range rows {
		args = append(args, r.Source, r.Key, r.Version, r.Deleted, r.Op, r.Fields, now)
	}
	if err := execRows(ctx, tx, `INSERT INTO source_records (source, key, version, deleted, op, fields, updated) VALUES `,
		"("+placeholders(7)+")", `
		ON CONFLICT (source, key) DO UPDATE SET version = excluded.version, deleted = excluded.deleted,
			op = excluded.op, fields = excluded.fields, updated = excluded.updated`, 7, args); err != nil {
		return fmt.Errorf("accept: records: %w", err)
	}
	for _, m := range mappings {
		args = args[:0]
		for _, r := range rows {
			args = append(args, m, r.Key, r.Source, r.Priority, seq, now, now)
		}
		if err := execRows(ctx, tx, `INSERT INTO outbox (mapping, key, source, priority, seq, attempts, due_at, enqueued) VALUES `,
			"(?, ?, ?, ?, ?, 0, ?, ?)", `
			ON CONFLICT (mapping, key) DO UPDATE SET seq = excluded.seq, attempts = 0, due_at = excluded.due_at,
				priority = MIN(outbox.priority, excluded.priority), enqueued = excluded.enqueued`, 7, args); err != nil {
			return fmt.Errorf("accept: outbox: %w", err)
		}
		args = args[:0]
		for _, r := range rows {
			args = append(args, m, r.Key, r.Source, r.Version, now)
		}
		if err := execRows(ctx, tx, `INSERT INTO statuses (mapping, key, source, state, version, updated) VALUES `,
			"(?, ?, ?, 'pending', ?, ?)", `
			ON CONFLICT (mapping, key) DO UPDATE SET state = 'pending', version = excluded.version, updated = excluded.updated`, 5, args); err != nil {
			return fmt.Errorf("accept: statuses: %w", err)
		}
	}
	return nil
}

// placeholders returns "?, ?, ..." with n marks.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// tuplesWith returns n copies of tuple: "(?, ?), (?, ?)".
func tuplesWith(n int, tuple string) string {
	return strings.TrimSuffix(strings.Repeat(tuple+", ", n), ", ")
}

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

// Complete implements forcesync.Store. It reads the outbox rows and
// statuses of the outcomes in one query each per chunk, decides in Go, and
// writes with set-based statements, so a batch costs a handful of
// statements rather than several per record.
func (s *Store) Complete(ctx context.Context, owner string, outcomes []forcesync.Outcome, run *forcesync.Run) error {
	now := ms(s.now())
	tx, err := s.begin(ctx)
	if err != nil {
		return fmt.Errorf("complete: %w", err)
	}
	defer tx.Rollback()
	// Group by mapping, in the batch's order. A batch is usually of one
	// mapping; then outcomes is used as it is, without copying.
	byMapping := map[string][]forcesync.Outcome{}
	var order []string
	if len(outcomes) > 0 && oneMapping(outcomes) {
		m := outcomes[0].Item.Mapping
		byMapping[m], order = outcomes, []string{m}
	} else {
		for _, o := range outcomes {
			m := o.Item.Mapping
			if _, ok := byMapping[m]; !ok {
				order = append(order, m)
			}
			byMapping[m] = append(byMapping[m], o)
		}
	}
	for _, m := range order {
		os := byMapping[m]
		if err := eachPiece(len(os), func(lo, hi int) error {
			return completeChunk(ctx, tx, owner, m, os[lo:hi], now)
		}); err != nil {
			return fmt.Errorf("complete %s: %w", m, err)
		}
	}
	if run != nil {
		res, err := tx.ExecContext(ctx, `INSERT INTO runs (mapping, api, started, finished, records, created, updated, unchanged, deleted, failed, skipped, api_calls)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			run.Mapping, run.API, ms(run.Started), ms(run.Finished), run.Records, run.Created, run.Updated, run.Unchanged,
			run.Deleted, run.Failed, run.Skipped, run.APICalls)
		if err != nil {
			return fmt.Errorf("complete: run: %w", err)
		}
		run.ID, _ = res.LastInsertId()
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("complete: commit: %w", err)
	}
	return nil
}

func oneMapping(outcomes []forcesync.Outcome) bool {
	for _, o := range outcomes {
		if o.Item.Mapping != outcomes[0].Item.Mapping {
			return false
		}
	}
	return true
}

// keyArgs returns mapping followed by the keys, for "mapping = ? AND key IN (...)".
func keyArgs(mapping string, keys []string) []any {
	args := make([]any, 0, len(keys)+1)
	args = append(args, mapping)
	for _, k := range keys {
		args = append(args, k)
	}
	return args
}

// execKeys runs stmt (ending in "key IN (") for the keys of one mapping.
func execKeys(ctx context.Context, tx *wtx, stmt, mapping string, keys []string) error {
	return eachPiece(len(keys), func(lo, hi int) error {
		_, err := tx.ExecContext(ctx, stmt+placeholders(hi-lo)+")", keyArgs(mapping, keys[lo:hi])...)
		return err
	})
}

// execRows runs a multi-row statement, head + n tuples + tail, over args
// holding k values per row.
func execRows(ctx context.Context, tx *wtx, head, tuple, tail string, k int, args []any) error {
	return eachPiece(len(args)/k, func(lo, hi int) error {
		_, err := tx.ExecContext(ctx, head+tuplesWith(hi-lo, tuple)+tail, args[lo*k:hi*k]...)
		return err
	})
}

func completeChunk(ctx context.Context, tx *wtx, owner, mapping string, outs []forcesync.Outcome, now int64) error {
	keys := make([]string, len(outs))
	for i, o := range outs {
		keys[i] = o.Item.Key
	}
	// The outbox row (gone if another owner finished it) and the status of
	// every key, in one pass.
	box := map[string]storeplan.Row{}
	old := map[string]storeplan.Prev{}
	doc, err := json.Marshal(keys)
	if err != nil {
		return err
	}
	rows, err := tx.QueryContext(ctx, `SELECT k.value, o.key IS NOT NULL, COALESCE(o.seq, 0), COALESCE(o.lease_owner, ''),
			COALESCE(st.sf_id, ''), COALESCE(st.held_fp, '')
		FROM json_each(?) k
		LEFT JOIN outbox o ON o.mapping = ? AND o.key = k.value
		LEFT JOIN statuses st ON st.mapping = ? AND st.key = k.value`, string(doc), mapping, mapping)
	if err != nil {
		return err
	}
	for rows.Next() {
		var (
			k     string
			inBox bool
			b     storeplan.Row
			p     storeplan.Prev
		)
		if err := rows.Scan(&k, &inBox, &b.Seq, &b.Owner, &p.SalesforceID, &p.HeldFingerprint); err != nil {
			rows.Close()
			return err
		}
		if inBox {
			box[k] = b
		}
		old[k] = p
	}
	if err := rows.Close(); err != nil {
		return err
	}

	var release, done, unbind, unintent []string
	bindArgs := make([]any, 0, len(outs)*5)
	statusArgs := make([]any, 0, len(outs)*15)
	syncedArgs := make([]any, 0, len(outs)*7)
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
			if _, err := tx.ExecContext(ctx, `UPDATE outbox SET lease_owner = NULL, lease_until = 0, attempts = attempts + 1, due_at = ? WHERE mapping = ? AND key = ?`,
				ms(o.NextAttempt), mapping, it.Key); err != nil {
				return err
			}
		case storeplan.OutboxDelete:
			done = append(done, it.Key) // seq checked in this transaction
		}
		switch {
		case step.Unbind:
			unbind = append(unbind, it.Key)
		case step.Bind:
			bindArgs = append(bindArgs, mapping, it.Key, o.SalesforceID, step.BindFingerprint, now)
		}
		if step.Unintent {
			unintent = append(unintent, it.Key)
		}
		st := &step.Status
		if st.Plain() {
			// The common case, written with half the parameters.
			syncedArgs = append(syncedArgs, mapping, it.Key, it.Source, st.SalesforceID, st.Fingerprint, st.Version, now)
			continue
		}
		statusArgs = append(statusArgs, mapping, it.Key, it.Source, string(st.State), st.SalesforceID, st.ErrorCode, st.ErrorMessage,
			st.ErrorFields, st.Warnings, st.Fingerprint, st.HeldFP, st.Attempts, ms(st.NextAttempt), st.Version, now)
	}
	if err := execKeys(ctx, tx, `UPDATE outbox SET lease_owner = NULL, lease_until = 0, forced = 0 WHERE mapping = ? AND key IN (`, mapping, release); err != nil {
		return err
	}
	if err := execKeys(ctx, tx, `DELETE FROM outbox WHERE mapping = ? AND key IN (`, mapping, done); err != nil {
		return err
	}
	if err := execKeys(ctx, tx, `DELETE FROM bindings WHERE mapping = ? AND key IN (`, mapping, unbind); err != nil {
		return err
	}
	if err := execRows(ctx, tx, `INSERT INTO bindings (mapping, key, sf_id, fingerprint, updated) VALUES `, "(?, ?, ?, ?, ?)", `
			ON CONFLICT (mapping, key) DO UPDATE SET sf_id = excluded.sf_id, fingerprint = excluded.fingerprint, updated = excluded.updated`, 5, bindArgs); err != nil {
		return err
	}
	if len(unintent) > 0 {
		// Most mappings never record intents (an External ID upsert needs
		// none): one look saves a probe per key.
		var has bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM intents WHERE mapping = ?)`, mapping).Scan(&has); err != nil {
			return err
		}
		if !has {
			unintent = nil
		}
	}
	if err := execKeys(ctx, tx, `DELETE FROM intents WHERE mapping = ? AND key IN (`, mapping, unintent); err != nil {
		return err
	}
	if err := execRows(ctx, tx, `INSERT INTO statuses (mapping, key, source, state, sf_id, error_code, error_message, error_fields, warnings, fingerprint, held_fp, attempts, next_attempt, version, updated)
			VALUES `, "("+placeholders(15)+")", `
			ON CONFLICT (mapping, key) DO UPDATE SET state = excluded.state, sf_id = excluded.sf_id,
				error_code = excluded.error_code, error_message = excluded.error_message, error_fields = excluded.error_fields,
				warnings = excluded.warnings, fingerprint = excluded.fingerprint, held_fp = excluded.held_fp,
				attempts = excluded.attempts, next_attempt = excluded.next_attempt,
				version = MAX(statuses.version, excluded.version), updated = excluded.updated`, 15, statusArgs); err != nil {
		return err
	}
	if err := execRows(ctx, tx, `INSERT INTO statuses (mapping, key, source, state, sf_id, fingerprint, version, updated) VALUES `,
		"(?, ?, ?, 'synced', ?, ?, ?, ?)", `
			ON CONFLICT (mapping, key) DO UPDATE SET state = 'synced', sf_id = excluded.sf_id,
				error_code = '', error_message = '', error_fields = '', warnings = '', fingerprint = excluded.fingerprint,
				held_fp = '', attempts = 0, next_attempt = 0,
				version = MAX(statuses.version, excluded.version), updated = excluded.updated`, 7, syncedArgs); err != nil {
		return err
	}
	return nil
}

// HoldMatches implements forcesync.Store.
func (s *Store) HoldMatches(ctx context.Context, mapping, owner string, values []string, now, until time.Time) ([]string, error) {
	values = slices.Compact(slices.Sorted(slices.Values(values)))
	if len(values) == 0 {
		return nil, nil
	}
	tx, err := s.begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("hold matches: %w", err)
	}
	defer tx.Rollback()
	var held []string
	err = eachPiece(len(values), func(lo, hi int) error {
		args := make([]any, 0, 4*(hi-lo)+1)
		for _, v := range values[lo:hi] {
			args = append(args, mapping, v, owner, ms(until))
		}
		args = append(args, ms(now))
		// A hold is taken where none is, renewed where it is owner's, and
		// taken over where it ran out; RETURNING lists only those rows.
		rows, err := tx.QueryContext(ctx, `INSERT INTO match_holds (mapping, value, owner, until) VALUES `+tuplesWith(hi-lo, "(?, ?, ?, ?)")+`
			ON CONFLICT (mapping, value) DO UPDATE SET owner = excluded.owner, until = excluded.until
				WHERE match_holds.owner = excluded.owner OR match_holds.until <= ?
			RETURNING value`, args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var v string
			if err := rows.Scan(&v); err != nil {
				rows.Close()
				return err
			}
			held = append(held, v)
		}
		return rows.Close()
	})
	if err != nil {
		return nil, fmt.Errorf("hold matches %s: %w", mapping, err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("hold matches: commit: %w", err)
	}
	return held, nil
}

// ReleaseMatches implements forcesync.Store.
func (s *Store) ReleaseMatches(ctx context.Context, mapping, owner string, values []string) error {
	if len(values) == 0 {
		return nil
	}
	tx, err := s.begin(ctx)
	if err != nil {
		return fmt.Errorf("release matches: %w", err)
	}
	defer tx.Rollback()
	err = eachPiece(len(values), func(lo, hi int) error {
		args := make([]any, 0, hi-lo+2)
		args = append(args, mapping, owner)
		for _, v := range values[lo:hi] {
			args = append(args, v)
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM match_holds WHERE mapping = ? AND owner = ? AND value IN (`+placeholders(hi-lo)+`)`, args...)
		return err
	})
	if err != nil {
		return fmt.Errorf("release matches %s: %w", mapping, err)
	}
	return tx.Commit()
}

// RecordIntents implements forcesync.Store.
func (s *Store) RecordIntents(ctx context.Context, mapping string, intents []forcesync.Intent) error {
	if len(intents) == 0 {
		return nil
	}
	tx, err := s.begin(ctx)
	if err != nil {
		return fmt.Errorf("record intents: %w", err)
	}
	defer tx.Rollback()
	now := s.now()
	for _, in := range intents {
		b, err := json.Marshal(in.Match)
		if err != nil {
			return fmt.Errorf("record intent %s: %w", in.Key, err)
		}
		at := in.At
		if at.IsZero() {
			at = now
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO intents (mapping, key, match, at) VALUES (?, ?, ?, ?)
			ON CONFLICT (mapping, key) DO UPDATE SET match = excluded.match, at = excluded.at`, mapping, in.Key, string(b), ms(at)); err != nil {
			return fmt.Errorf("record intent %s: %w", in.Key, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("record intents: commit: %w", err)
	}
	return nil
}

// Requeue implements forcesync.Store.
func (s *Store) Requeue(ctx context.Context, mapping string, keys []string) (int, error) {
	now := ms(s.now())
	tx, err := s.begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("requeue: %w", err)
	}
	defer tx.Rollback()
	seq, err := nextSeq(ctx, tx)
	if err != nil {
		return 0, fmt.Errorf("requeue: %w", err)
	}
	const ins = `INSERT INTO outbox (mapping, key, source, priority, seq, attempts, due_at, forced, enqueued)
		SELECT st.mapping, st.key, st.source, 0, ?, 0, ?, 1, ? FROM statuses st
		JOIN source_records r ON r.source = st.source AND r.key = st.key
		WHERE st.mapping = ? %s
		ON CONFLICT (mapping, key) DO UPDATE SET seq = excluded.seq, attempts = 0, due_at = excluded.due_at, forced = 1`
	var n int64
	if keys == nil {
		res, err := tx.ExecContext(ctx, fmt.Sprintf(ins, `AND st.state = 'held'`), seq, now, now, mapping)
		if err != nil {
			return 0, fmt.Errorf("requeue %s: %w", mapping, err)
		}
		n, _ = res.RowsAffected()
		if _, err := tx.ExecContext(ctx, `UPDATE statuses SET state = 'pending', updated = ? WHERE mapping = ? AND state = 'held'`, now, mapping); err != nil {
			return 0, fmt.Errorf("requeue %s: %w", mapping, err)
		}
	} else {
		for _, k := range keys {
			res, err := tx.ExecContext(ctx, fmt.Sprintf(ins, `AND st.key = ?`), seq, now, now, mapping, k)
			if err != nil {
				return 0, fmt.Errorf("requeue %s/%s: %w", mapping, k, err)
			}
			c, _ := res.RowsAffected()
			n += c
			if _, err := tx.ExecContext(ctx, `UPDATE statuses SET state = 'pending', updated = ? WHERE mapping = ? AND key = ?`, now, mapping, k); err != nil {
				return 0, fmt.Errorf("requeue %s/%s: %w", mapping, k, err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("requeue: commit: %w", err)
	}
	return int(n), nil
}

// MappingVersion implements forcesync.Store.
func (s *Store) MappingVersion(ctx context.Context, mapping, fingerprint string) (bool, error) {
	tx, err := s.begin(ctx)
	if err != nil {
		return false, fmt.Errorf("mapping version: %w", err)
	}
	defer tx.Rollback()
	var old string
	err = tx.QueryRowContext(ctx, `SELECT fingerprint FROM mappings WHERE name = ?`, mapping).Scan(&old)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return false, fmt.Errorf("mapping version %s: %w", mapping, err)
	}
	existed := err == nil
	if existed && old == fingerprint {
		return false, nil
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO mappings (name, fingerprint) VALUES (?, ?)
		ON CONFLICT (name) DO UPDATE SET fingerprint = excluded.fingerprint`, mapping, fingerprint); err != nil {
		return false, fmt.Errorf("mapping version %s: %w", mapping, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("mapping version: commit: %w", err)
	}
	return existed, nil
}

// SourceRecord implements forcesync.Store.
func (s *Store) SourceRecord(ctx context.Context, source, key string) (*forcesync.SourceRecord, error) {
	var (
		rec     = forcesync.SourceRecord{Source: source, Key: key}
		fields  string
		updated int64
	)
	err := s.r.QueryRowContext(ctx, `SELECT version, deleted, fields, updated FROM source_records WHERE source = ? AND key = ?`, source, key).
		Scan(&rec.Version, &rec.Deleted, &fields, &updated)
	if errors.Is(err, sql.ErrNoRows) {
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
	where, args := `source = ? AND deleted = 0`, []any{q.Source}
	if q.Field != "" {
		where += ` AND lower(json_extract(fields, ?)) = lower(?)`
		args = append(args, "$."+q.Field, q.Value)
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
	rows, err := s.r.QueryContext(ctx, `SELECT key, version, fields, updated FROM source_records WHERE `+where+` ORDER BY key LIMIT ? OFFSET ?`,
		append(args, limit, q.Offset)...)
	if err != nil {
		return nil, fmt.Errorf("source records %s: %w", q.Source, err)
	}
	defer rows.Close()
	var out []forcesync.SourceRecord
	for rows.Next() {
		rec := forcesync.SourceRecord{Source: q.Source}
		var fields string
		var updated int64
		if err := rows.Scan(&rec.Key, &rec.Version, &fields, &updated); err != nil {
			return nil, fmt.Errorf("source records %s: %w", q.Source, err)
		}
		if err := storeplan.DecodeRecord(&rec, fields, updated); err != nil {
			return nil, err
		}
		out = append(out, rec)
	}
	return out, rows.Err()
}

// CountSourceRecords implements forcesync.Store.
func (s *Store) CountSourceRecords(ctx context.Context, q forcesync.SourceQuery) (int, error) {
	where, args, err := sourceWhere(&q)
	if err != nil {
		return 0, err
	}
	var n int
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM source_records WHERE `+where, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count source records %s: %w", q.Source, err)
	}
	return n, nil
}

const statusCols = `mapping, key, source, state, sf_id, error_code, error_message, error_fields, warnings, attempts, next_attempt, version, updated`

func scanStatuses(rows *sql.Rows) ([]forcesync.RecordStatus, error) {
	defer rows.Close()
	var out []forcesync.RecordStatus
	for rows.Next() {
		var (
			st forcesync.RecordStatus
			c  storeplan.StatusColumns
		)
		if err := rows.Scan(&st.Mapping, &st.Key, &st.Source, &c.State, &st.SalesforceID, &c.Code, &c.Message, &c.Fields, &c.Warnings,
			&st.Attempts, &c.Next, &st.Version, &c.Updated); err != nil {
			return nil, err
		}
		c.Decode(&st)
		out = append(out, st)
	}
	return out, rows.Err()
}

// Statuses implements forcesync.Store.
func (s *Store) Statuses(ctx context.Context, source, key string) ([]forcesync.RecordStatus, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+statusCols+` FROM statuses WHERE source = ? AND key = ? ORDER BY mapping`, source, key)
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
	err := s.r.QueryRowContext(ctx, `SELECT sf_id, fingerprint, modstamp, updated FROM bindings WHERE mapping = ? AND key = ?`, mapping, key).
		Scan(&b.SalesforceID, &b.Fingerprint, &mod, &upd)
	if errors.Is(err, sql.ErrNoRows) {
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
		where = append(where, "mapping = ?")
		args = append(args, f.Mapping)
	}
	if len(f.States) > 0 {
		ph := make([]string, len(f.States))
		problems := true
		for i, st := range f.States {
			ph[i] = "?"
			args = append(args, string(st))
			problems = problems && (st == forcesync.StateHeld || st == forcesync.StateRetrying)
		}
		where = append(where, "state IN ("+strings.Join(ph, ",")+")")
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
	q += ` ORDER BY updated DESC, key LIMIT ?`
	args = append(args, limit)
	rows, err := s.r.QueryContext(ctx, q, args...)
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
	rows, err := s.r.QueryContext(ctx, `SELECT state, COUNT(*) FROM statuses WHERE mapping = ? GROUP BY state`, mapping)
	if err != nil {
		return nil, fmt.Errorf("counts %s: %w", mapping, err)
	}
	defer rows.Close()
	out := map[forcesync.State]int{}
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, fmt.Errorf("counts %s: %w", mapping, err)
		}
		out[forcesync.State(st)] = n
	}
	return out, rows.Err()
}

// Backlog implements forcesync.Store.
func (s *Store) Backlog(ctx context.Context, mapping string) (int, error) {
	var n int
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM outbox WHERE mapping = ?`, mapping).Scan(&n); err != nil {
		return 0, fmt.Errorf("backlog %s: %w", mapping, err)
	}
	return n, nil
}

// Runs implements forcesync.Store.
func (s *Store) Runs(ctx context.Context, limit int) ([]forcesync.Run, error) {
	if limit <= 0 {
		limit = 50
	}
	rows, err := s.r.QueryContext(ctx, `SELECT id, mapping, api, started, finished, records, created, updated, unchanged, deleted, failed, skipped, api_calls
		FROM runs ORDER BY id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("runs: %w", err)
	}
	defer rows.Close()
	var out []forcesync.Run
	for rows.Next() {
		var r forcesync.Run
		var st, fin int64
		if err := rows.Scan(&r.ID, &r.Mapping, &r.API, &st, &fin, &r.Records, &r.Created, &r.Updated, &r.Unchanged, &r.Deleted, &r.Failed, &r.Skipped, &r.APICalls); err != nil {
			return nil, fmt.Errorf("runs: %w", err)
		}
		r.Started, r.Finished = fromMS(st), fromMS(fin)
		out = append(out, r)
	}
	return out, rows.Err()
}

// RecordAPIUsage implements forcesync.Store. Calls are added to today's
// (UTC) counts; a new day starts from zero.
func (s *Store) RecordAPIUsage(ctx context.Context, u forcesync.APIUsage) error {
	at := u.At
	if at.IsZero() {
		at = s.now()
	}
	day := at.UTC().Format("2006-01-02")
	tx, err := s.begin(ctx)
	if err != nil {
		return fmt.Errorf("api usage: %w", err)
	}
	defer tx.Rollback()
	var old storeplan.Usage
	err = tx.QueryRowContext(ctx, `SELECT day, calls, used, max FROM api_usage WHERE connection = ?`, u.Connection).Scan(&old.Day, &old.Calls, &old.Used, &old.Max)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("api usage %s: %w", u.Connection, err)
	}
	row := old.Add(u, day)
	if _, err := tx.ExecContext(ctx, `INSERT INTO api_usage (connection, used, max, day, calls, at) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (connection) DO UPDATE SET used = excluded.used, max = excluded.max, day = excluded.day, calls = excluded.calls, at = excluded.at`,
		u.Connection, row.Used, row.Max, row.Day, row.Calls, ms(at)); err != nil {
		return fmt.Errorf("api usage %s: %w", u.Connection, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("api usage: commit: %w", err)
	}
	return nil
}

// APIUsage implements forcesync.Store.
func (s *Store) APIUsage(ctx context.Context, connection string) (*forcesync.APIUsage, error) {
	u := forcesync.APIUsage{Connection: connection, Calls: map[string]int{}}
	var row storeplan.Usage
	var at int64
	err := s.r.QueryRowContext(ctx, `SELECT used, max, day, calls, at FROM api_usage WHERE connection = ?`, connection).Scan(&row.Used, &row.Max, &row.Day, &row.Calls, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return &u, nil
	}
	if err != nil {
		return nil, fmt.Errorf("api usage %s: %w", connection, err)
	}
	row.Decode(&u, at, s.now().UTC().Format("2006-01-02"))
	return &u, nil
}
