package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"path/filepath"
	"sync"
	"testing"

	"github.com/pressly/goose/v3"
)

// latestMigration is the highest version among the embedded migrations.
func latestMigration(t *testing.T) int64 {
	t.Helper()
	sub, _ := fs.Sub(migrations, "migrations")
	db, err := sql.Open("sqlite", "file::memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	p, err := goose.NewProvider(goose.DialectSQLite3, db, sub)
	if err != nil {
		t.Fatal(err)
	}
	srcs := p.ListSources()
	return srcs[len(srcs)-1].Version
}

// schemaVersion is the version goose recorded in the file at path.
func schemaVersion(t *testing.T, path string) int64 {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var v int64
	if err := db.QueryRow(`SELECT max(version_id) FROM goose_db_version WHERE is_applied`).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// openTogether opens n stores on path at once, each with its own
// connections as a separate process would have, and returns their errors.
func openTogether(path string, n int) []error {
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
			s, err := Open(ctx, path, Options{})
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

// TestConcurrentOpenOfNewFile: stores opened at the same moment on a new
// file (two pushes, or serve and push, started together) all open, and the
// file ends at the latest schema version: one migrates, the others wait
// for it. Several rounds, each on a new file, so that the race, when there
// is one, shows.
func TestConcurrentOpenOfNewFile(t *testing.T) {
	latest := latestMigration(t)
	for round := range 5 {
		path := filepath.Join(t.TempDir(), fmt.Sprintf("fs%d.db", round))
		for i, err := range openTogether(path, 8) {
			if err != nil {
				t.Fatalf("round %d, open %d: %v", round, i, err)
			}
		}
		if v := schemaVersion(t, path); v != latest {
			t.Fatalf("round %d: schema version %d, want %d", round, v, latest)
		}
	}
}

// TestConcurrentOpenOfOldFile: the same for a file an older forcesync
// made, which the stores opened together upgrade.
func TestConcurrentOpenOfOldFile(t *testing.T) {
	ctx := context.Background()
	latest := latestMigration(t)
	sub, _ := fs.Sub(migrations, "migrations")
	for round := range 5 {
		path := filepath.Join(t.TempDir(), fmt.Sprintf("fs%d.db", round))
		db, err := sql.Open("sqlite", "file:"+path)
		if err != nil {
			t.Fatal(err)
		}
		p, err := goose.NewProvider(goose.DialectSQLite3, db, sub)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.UpTo(ctx, 100); err != nil {
			t.Fatal(err)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		for i, err := range openTogether(path, 8) {
			if err != nil {
				t.Fatalf("round %d, open %d: %v", round, i, err)
			}
		}
		if v := schemaVersion(t, path); v != latest {
			t.Fatalf("round %d: schema version %d, want %d", round, v, latest)
		}
	}
}
