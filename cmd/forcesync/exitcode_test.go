package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/forcesync/forcesync"
)

// TestExitCodes checks the one table from error codes to exit codes, and
// that wrapping keeps the code.
func TestExitCodes(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want int
	}{
		{nil, 0},
		{fmt.Errorf("plain"), 1},
		{usageError{fmt.Errorf("--x")}, 2},
		{forcesync.Errorf(forcesync.EInvalid, "bad"), 3},
		{fmt.Errorf("wrapped: %w", forcesync.Errorf(forcesync.ENotFound, "no")), 4},
		{forcesync.Errorf(forcesync.EConflict, "busy"), 5},
		{forcesync.Errorf(forcesync.EUnauthorized, "who"), 6},
		{forcesync.Errorf(forcesync.EForbidden, "not yours"), 6},
		{forcesync.Errorf(forcesync.EUnavailable, "down"), 7},
		{forcesync.Errorf(forcesync.EInternal, "bug"), 1},
	} {
		if got := exitCode(tc.err); got != tc.want {
			t.Errorf("exitCode(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
	// Every domain code has its row.
	for _, c := range []string{forcesync.EInvalid, forcesync.ENotFound, forcesync.EConflict, forcesync.EUnauthorized, forcesync.EForbidden, forcesync.EUnavailable, forcesync.EInternal} {
		if _, ok := exitCodes[c]; !ok {
			t.Errorf("no exit code for %q", c)
		}
	}
}

// TestExitCodeThroughRun checks the table is what run's errors meet: a bad
// config file is exit 3, a flag cobra cannot parse is exit 2.
func TestExitCodeThroughRun(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(cfg, []byte("version: 1\nsurprise: true\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	getenv := func(string) string { return "" }
	err := run(context.Background(), []string{"serve", "--config", cfg}, getenv, strings.NewReader(""), io.Discard, io.Discard)
	if got := exitCode(err); got != exitInvalid {
		t.Errorf("bad config: %v, exit %d, want %d", err, got, exitInvalid)
	}
	err = run(context.Background(), []string{"serve", "--no-such-flag"}, getenv, strings.NewReader(""), io.Discard, io.Discard)
	if got := exitCode(err); got != exitUsage {
		t.Errorf("unknown flag: %v, exit %d, want %d", err, got, exitUsage)
	}
}

// TestUsageMistakesExit2: a missing or extra argument and an unknown
// command are usage mistakes (exit 2), and the message names the command;
// a group command called alone prints its help.
func TestUsageMistakesExit2(t *testing.T) {
	getenv := func(string) string { return "" }
	for _, tc := range []struct {
		args []string
		says string
	}{
		{[]string{"describe"}, "forcesync describe: accepts 1 arg(s), received 0 (usage: forcesync describe OBJECT [flags])"},
		{[]string{"query", "a", "b"}, "forcesync query: accepts 1 arg(s), received 2"},
		{[]string{"connection", "test"}, "forcesync connection test: accepts 1 arg(s)"},
		{[]string{"status", "extra"}, `unknown command "extra" for "forcesync status"`},
		{[]string{"pull"}, `unknown command "pull" for "forcesync"; did you mean push?`},
		{[]string{"connection", "nope"}, `unknown command "nope" for "forcesync connection"`},
	} {
		err := run(context.Background(), tc.args, getenv, strings.NewReader(""), io.Discard, io.Discard)
		if got := exitCode(err); got != exitUsage || err == nil || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("%v: %v, exit %d, want %d saying %q", tc.args, err, got, exitUsage, tc.says)
		}
	}
	var out strings.Builder
	if err := run(context.Background(), []string{"connection"}, getenv, strings.NewReader(""), &out, io.Discard); err != nil || !strings.Contains(out.String(), "Available Commands:") {
		t.Errorf("connection alone: %v\n%s", err, out.String())
	}
}

// TestFlagsOutsideTheirRangeExit2: a number flag outside the range its
// help gives is refused before anything is read or sent.
func TestFlagsOutsideTheirRangeExit2(t *testing.T) {
	getenv := func(string) string { return "" }
	for _, tc := range []struct {
		args []string
		says string
	}{
		{[]string{"query", "SELECT Id FROM Lead", "--batch-size", "5"}, "--batch-size 5"},
		{[]string{"query", "SELECT Id FROM Lead", "--batch-size", "2001"}, "--batch-size 2001"},
		{[]string{"plan", "--records", "-5"}, "--records -5"},
		{[]string{"reconcile", "--mapping", "m", "--bulk-threshold", "-5"}, "--bulk-threshold -5"},
	} {
		err := run(context.Background(), tc.args, getenv, strings.NewReader(""), io.Discard, io.Discard)
		if got := exitCode(err); got != exitUsage || err == nil || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("%v: %v, exit %d, want %d saying %q", tc.args, err, got, exitUsage, tc.says)
		}
	}
}
