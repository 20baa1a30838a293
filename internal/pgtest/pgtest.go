// Package pgtest gives tests a PostgreSQL schema of their own on the server
// named by FORCESYNC_TEST_POSTGRES, or, when it is unset, on the local
// server scripts/test would pick (LocalDSN), so a plain `go test ./...` runs
// the PostgreSQL tests wherever one answers, as the README says.
package pgtest

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Env names the variable holding the test server's DSN.
const Env = "FORCESYNC_TEST_POSTGRES"

// LocalDSN is the server used when Env is unset and one answers on
// 127.0.0.1:5432 (the same default as scripts/test). Env=off turns the
// PostgreSQL tests off.
const LocalDSN = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

var seq atomic.Int64

var local struct {
	once sync.Once
	dsn  string
}

// DSN returns the test server's DSN: Env when set (and not "off"), else
// LocalDSN when a server there accepts a connection (looked for once per
// process), else "".
func DSN() string {
	switch v := os.Getenv(Env); v {
	case "":
	case "off":
		return ""
	default:
		return v
	}
	local.once.Do(func() { local.dsn = discover(LocalDSN) })
	return local.dsn
}

// discover returns dsn when a PostgreSQL server answers a ping on it
// within a few seconds, "" otherwise.
func discover(dsn string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return ""
	}
	defer c.Close(context.Background())
	if c.Ping(ctx) != nil {
		return ""
	}
	return dsn
}

// Schema returns the DSN and the name of a fresh schema, dropped with
// everything in it when the test ends. It skips the test when Env is unset.
// The schema is not created: the store creates it (postgres.Options.Schema).
func Schema(tb testing.TB, prefix string) (dsn, schema string) {
	tb.Helper()
	dsn = DSN()
	if dsn == "" {
		tb.Skipf("no PostgreSQL: %s is unset and nothing answers at %s", Env, LocalDSN)
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
