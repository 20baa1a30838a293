package bench

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/internal/pgtest"
	"github.com/forcesync/forcesync/postgres"
	"github.com/forcesync/forcesync/sqlite"
)

// openBenchStore opens the store the benchmarks run on: SQLite in a temp
// dir, or, with FORCESYNC_BENCH_STORE=postgres, a fresh schema on the
// server in FORCESYNC_TEST_POSTGRES (dropped afterwards).
func openBenchStore(b testing.TB) forcesync.Store {
	b.Helper()
	ctx := context.Background()
	var (
		st  forcesync.Store
		err error
	)
	switch kind := os.Getenv("FORCESYNC_BENCH_STORE"); kind {
	case "", "sqlite":
		st, err = sqlite.Open(ctx, filepath.Join(b.TempDir(), "fs.db"), sqlite.Options{})
	case "postgres":
		if pgtest.DSN() == "" {
			b.Fatalf("FORCESYNC_BENCH_STORE=postgres needs %s", pgtest.Env)
		}
		dsn, schema := pgtest.Schema(b, "bench")
		st, err = postgres.Open(ctx, dsn, postgres.Options{Schema: schema})
	default:
		b.Fatalf("FORCESYNC_BENCH_STORE=%q: want sqlite or postgres", kind)
	}
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	return st
}
