// Package pgtest gives tests a PostgreSQL schema of their own on the server
// named by FORCESYNC_TEST_POSTGRES (set by .ci/run and scripts/test).
package pgtest

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Env names the variable holding the test server's DSN.
const Env = "FORCESYNC_TEST_POSTGRES"

var seq atomic.Int64

// Schema returns the DSN and the name of a fresh schema, dropped with
// everything in it when the test ends. It skips the test when Env is unset.
// The schema is not created: the store creates it (postgres.Options.Schema).
func Schema(tb testing.TB, prefix string) (dsn, schema string) {
	tb.Helper()
	dsn = os.Getenv(Env)
	if dsn == "" {
		tb.Skipf("%s is not set (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)", Env)
	}
	schema = fmt.Sprintf("fs_%s_%d_%d_%d", prefix, os.Getpid(), time.Now().UnixNano()%1e9, seq.Add(1))
	tb.Cleanup(func() {
		ctx := context.Background()
		admin, err := pgxpool.New(ctx, dsn)
		if err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer admin.Close()
		if _, err := admin.Exec(ctx, `DROP SCHEMA IF EXISTS `+pgx.Identifier{schema}.Sanitize()+` CASCADE`); err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return dsn, schema
}
