package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"math/rand/v2"
	"regexp"
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
	// deployments in other schemas do not wait for them. goose's locker
	// tries the lock again every 5 s by default, which made every replica
	// that lost the race start 5 s late; once a second, for as long (5
	// minutes) in all.
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(s.lockKey("migrations")), lock.WithLockTimeout(1, 300))
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
