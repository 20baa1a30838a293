package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/postgres"
	"github.com/forcesync/forcesync/sqlite"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
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
		dsn := os.Getenv("FORCESYNC_TEST_POSTGRES")
		if dsn == "" {
			b.Fatal("FORCESYNC_BENCH_STORE=postgres needs FORCESYNC_TEST_POSTGRES")
		}
		schema := fmt.Sprintf("fs_bench_%d_%d", os.Getpid(), time.Now().UnixNano()%1e9)
		b.Cleanup(func() {
			admin, err := pgxpool.New(context.Background(), dsn)
			if err != nil {
				b.Errorf("drop schema: %v", err)
				return
			}
			defer admin.Close()
			if _, err := admin.Exec(context.Background(), `DROP SCHEMA IF EXISTS `+pgx.Identifier{schema}.Sanitize()+` CASCADE`); err != nil {
				b.Errorf("drop schema %s: %v", schema, err)
			}
		})
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
