package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/storeplan"
	"github.com/pressly/goose/v3"
	"modernc.org/sqlite" // registers the "sqlite" driver
	sqlite3 "modernc.org/sqlite/lib"
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
	ck  *checkpointer
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
	if err := privateFiles(path); err != nil {
		return nil, err
	}
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "foreign_keys(ON)")
	// The writer's statement journals (an upsert of many rows keeps the
	// pages it changes, to undo just that statement) stay in memory rather
	// than spilling to a temporary file past 64 KiB: a statement's pages,
	// a few hundred KiB at most for maxRows rows.
	q.Add("_pragma", "temp_store(MEMORY)")
	// The checkpointer (checkpoint.go) copies the log into the database
	// off the writer's commits; this is the writer's backstop.
	q.Add("_pragma", fmt.Sprintf("wal_autocheckpoint(%d)", writerCheckpointPages))
	q.Set("_txlock", "immediate")
	dsn := "file:" + path + "?" + q.Encode()
	w, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	if err := pingWhileBusy(ctx, w); err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if err := migrate(ctx, w, path); err != nil {
		w.Close()
		return nil, err
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
	cq := url.Values{}
	cq.Add("_pragma", "busy_timeout(10000)")
	ck, err := newCheckpointer("file:" + path + "?" + cq.Encode())
	if err != nil {
		cr.Close()
		r.Close()
		wr.close()
		w.Close()
		return nil, fmt.Errorf("sqlite: open checkpointer %s: %w", path, err)
	}
	wr.committed = ck.committed
	s := &Store{w: w, wr: wr, r: r, cr: cr, ck: ck, now: opt.Now}
	if s.now == nil {
		s.now = time.Now
	}
	return s, nil
}

// migrate brings the database at path, open as w, to the latest schema.
// Processes opening one file at once (serve and push started together, or
// two pushes) take turns: the first migrates, the others wait for it and
// then find nothing left to do.
func migrate(ctx context.Context, w *sql.DB, path string) error {
	unlock, err := lockMigrations(ctx, path)
	if err != nil {
		return err
	}
	defer unlock()
	sub, _ := fs.Sub(migrations, "migrations")
	p, err := goose.NewProvider(goose.DialectSQLite3, w, sub)
	if err != nil {
		return fmt.Errorf("sqlite: migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("sqlite: migrate %s: %w", path, err)
	}
	return nil
}

// openBusyFor is how long Open tries again a first connection the
// database refuses as busy.
const openBusyFor = 10 * time.Second

// pingWhileBusy makes db's first connection, trying again while SQLite
// answers SQLITE_BUSY. Setting up a connection (its journal_mode pragma)
// can meet another process's lock that SQLite does not wait for: the last
// connection of a process closing the database checkpoints the log and
// takes it whole for a moment, and a process opening the file then fails
// at once with "database is locked". A serve started as a push ends, or
// two pushes, must both open.
func pingWhileBusy(ctx context.Context, db *sql.DB) error {
	deadline := time.Now().Add(openBusyFor)
	for {
		err := db.PingContext(ctx)
		var se *sqlite.Error
		if err == nil || !errors.As(err, &se) || se.Code()&0xff != sqlite3.SQLITE_BUSY || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Close closes the database.
func (s *Store) Close() error {
	return errors.Join(s.ck.close(), s.cr.Close(), s.r.Close(), s.wr.close(), s.w.Close())
}

// ms and fromMS convert the stores' time columns (Unix milliseconds).
var ms, fromMS = storeplan.MS, storeplan.FromMS

// placeholders returns "?, ?, ..." with n marks.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// tuplesWith returns n copies of tuple: "(?, ?), (?, ?)".
func tuplesWith(n int, tuple string) string {
	return strings.TrimSuffix(strings.Repeat(tuple+", ", n), ", ")
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
