package crashtest

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/internal/pgtest"
	"github.com/forcesync/forcesync/postgres"
	"github.com/forcesync/forcesync/sqlite"
)

// pgSchema returns the test server's DSN and a fresh schema name; it skips
// the test when no server is configured.
func pgSchema(t *testing.T) (string, string) {
	t.Helper()
	return pgtest.Schema(t, "crash")
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
		st, err = postgres.Open(ctx, pgtest.DSN(), postgres.Options{Schema: schema})
	} else {
		st, err = sqlite.Open(ctx, filepath.Join(dir, "fs.db"), sqlite.Options{})
	}
	if err != nil {
		t.Fatal(err)
	}
	return st
}
