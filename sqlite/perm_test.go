package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/sqlite"
)

// TestFilesArePrivate checks that the database and its -wal and -shm files
// are created 0600 even under a umask that would leave them readable by
// everyone, and that an existing database left 0644 is tightened.
func TestFilesArePrivate(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	ctx := context.Background()
	check := func(path string) {
		t.Helper()
		for _, p := range []string{path, path + "-wal", path + "-shm"} {
			fi, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			if got := fi.Mode().Perm(); got != 0o600 {
				t.Errorf("%s: mode %v, want -rw-------", filepath.Base(p), got)
			}
		}
	}
	path := filepath.Join(t.TempDir(), "fs.db")
	s, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Accept(ctx, []string{"m"}, []forcesync.Change{{Source: "c", Key: "k", Fields: map[string]any{"a": "b"}}}); err != nil {
		t.Fatal(err)
	}
	check(path)
	s.Close()

	// A database a past version left world-readable is tightened on open.
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		os.Chmod(p, 0o644) // -wal and -shm may be gone after a clean close
	}
	s, err = sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Accept(ctx, []string{"m"}, []forcesync.Change{{Source: "c", Key: "k2", Fields: map[string]any{"a": "b"}}}); err != nil {
		t.Fatal(err)
	}
	check(path)
}
