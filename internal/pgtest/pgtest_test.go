package pgtest

import (
	"net"
	"testing"
	"time"
)

// TestDSNFindsLocalServer checks that with FORCESYNC_TEST_POSTGRES unset the
// PostgreSQL tests still find the local server scripts/test would use (the
// crash test skipped PostgreSQL unless the variable was set), and that the
// variable, when set, wins or turns them off.
func TestDSNFindsLocalServer(t *testing.T) {
	t.Setenv(Env, "postgres://elsewhere/db")
	if got := DSN(); got != "postgres://elsewhere/db" {
		t.Fatalf("DSN() = %q with %s set", got, Env)
	}
	t.Setenv(Env, "off")
	if got := DSN(); got != "" {
		t.Fatalf("DSN() = %q with %s=off", got, Env)
	}
	t.Setenv(Env, "")
	c, err := net.DialTimeout("tcp", "127.0.0.1:5432", time.Second)
	if err != nil {
		if got := discover(LocalDSN); got != "" {
			t.Fatalf("discovered %q with nothing listening", got)
		}
		t.Skip("no server on 127.0.0.1:5432 to discover")
	}
	c.Close()
	if got := DSN(); got != LocalDSN {
		t.Fatalf("DSN() = %q with %s unset and a server on 127.0.0.1:5432, want %q", got, Env, LocalDSN)
	}
	// The crash test goes through the same discovery.
	dsn, schema := Schema(t, "probe")
	if dsn != LocalDSN || schema == "" {
		t.Fatalf("Schema = %q, %q", dsn, schema)
	}
}
