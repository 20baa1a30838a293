package postgres_test

import (
	"context"
	"database/sql"
	"net/url"
	"os"
	"sync"
	"testing"

	"github.com/forcesync/forcesync/postgres"
	"github.com/jackc/pgx/v5"
	"github.com/pressly/goose/v3"
)

// schemaDB opens database/sql on schema, for goose and for reading its
// version table.
func schemaDB(t *testing.T, dsn, schema string) *sql.DB {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	db, err := sql.Open("pgx", u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// migrationsProvider is goose over the package's migrations on db.
func migrationsProvider(t *testing.T, db *sql.DB) *goose.Provider {
	t.Helper()
	p, err := goose.NewProvider(goose.DialectPostgres, db, os.DirFS("migrations"))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// openReplicas opens n stores on schema at once, each with its own pool as
// a separate replica would have, and returns their errors.
func openReplicas(dsn, schema string, n int) []error {
	ctx := context.Background()
	errs := make([]error, n)
	var ready, done sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		ready.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			ready.Done()
			<-start
			s, err := postgres.Open(ctx, dsn, postgres.Options{Schema: schema, MaxConns: 2})
			if err == nil {
				err = s.Close()
			}
			errs[i] = err
		}()
	}
	ready.Wait()
	close(start)
	done.Wait()
	return errs
}

// checkReplicas opens replicas together on schema and checks they all
// opened and left it at the latest version.
func checkReplicas(t *testing.T, dsn, schema string) {
	t.Helper()
	for i, err := range openReplicas(dsn, schema, 8) {
		if err != nil {
			t.Fatalf("replica %d: %v", i, err)
		}
	}
	db := schemaDB(t, dsn, schema)
	srcs := migrationsProvider(t, db).ListSources()
	var v int64
	if err := db.QueryRow(`SELECT max(version_id) FROM goose_db_version WHERE is_applied`).Scan(&v); err != nil {
		t.Fatal(err)
	}
	if latest := srcs[len(srcs)-1].Version; v != latest {
		t.Fatalf("schema version %d, want %d", v, latest)
	}
}

// TestReplicasStartingOnAnEmptySchema: replicas started together on a
// schema that does not exist yet all open; one creates and migrates it,
// the others wait for it.
func TestReplicasStartingOnAnEmptySchema(t *testing.T) {
	for range 3 {
		dsn, schema := freshSchema(t)
		checkReplicas(t, dsn, schema)
	}
}

// TestReplicasUpgradingTogether: the same on a schema an older forcesync
// migrated, which the replicas upgrade.
func TestReplicasUpgradingTogether(t *testing.T) {
	for range 3 {
		dsn, schema := freshSchema(t)
		db := schemaDB(t, dsn, schema)
		if _, err := db.Exec(`CREATE SCHEMA ` + pgx.Identifier{schema}.Sanitize()); err != nil {
			t.Fatal(err)
		}
		if _, err := migrationsProvider(t, db).UpTo(context.Background(), 100); err != nil {
			t.Fatal(err)
		}
		checkReplicas(t, dsn, schema)
	}
}
