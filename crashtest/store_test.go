package crashtest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/postgres"
	"github.com/forcesync/forcesync/sqlite"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// pgSchema returns the test server's DSN and a fresh schema name, dropped
// when the test ends; it skips the test when no server is configured.
func pgSchema(t *testing.T) (string, string) {
	t.Helper()
	dsn := os.Getenv("FORCESYNC_TEST_POSTGRES")
	if dsn == "" {
		t.Skip("FORCESYNC_TEST_POSTGRES is not set")
	}
	schema := fmt.Sprintf("fs_crash_%d_%d", os.Getpid(), time.Now().UnixNano()%1e9)
	t.Cleanup(func() {
		ctx := context.Background()
		admin, err := pgxpool.New(ctx, dsn)
		if err != nil {
			t.Errorf("drop schema: %v", err)
			return
		}
		defer admin.Close()
		if _, err := admin.Exec(ctx, `DROP SCHEMA IF EXISTS `+pgx.Identifier{schema}.Sanitize()+` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return dsn, schema
}

// openStore opens the store the children used, to check their states.
func openStore(t *testing.T, dir, cfg string) forcesync.Store {
	t.Helper()
	ctx := context.Background()
	var (
		st  forcesync.Store
		err error
	)
	if _, after, ok := strings.Cut(cfg, "postgres_schema: "); ok {
		schema, _, _ := strings.Cut(after, "\n")
		st, err = postgres.Open(ctx, os.Getenv("FORCESYNC_TEST_POSTGRES"), postgres.Options{Schema: schema})
	} else {
		st, err = sqlite.Open(ctx, filepath.Join(dir, "fs.db"), sqlite.Options{})
	}
	if err != nil {
		t.Fatal(err)
	}
	return st
}
