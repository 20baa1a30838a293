package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/sqlite"
)

// TestCommitsReachTheDatabaseFile: a commit lands in the write-ahead log,
// and the store's checkpointer copies it into the database file without
// another commit or a close. The file is read with immutable=1, which
// ignores the log.
func TestCommitsReachTheDatabaseFile(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "fs.db")
	s, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	fileOnly, err := sql.Open("sqlite", "file:"+path+"?immutable=1")
	if err != nil {
		t.Fatal(err)
	}
	defer fileOnly.Close()
	fileOnly.SetMaxIdleConns(0) // each look opens the file afresh
	inFile := func(key string) bool {
		// Until the first checkpoint the file lacks even the tables.
		var n int
		err := fileOnly.QueryRowContext(ctx, "SELECT count(*) FROM source_records WHERE key = ?", key).Scan(&n)
		return err == nil && n == 1
	}
	for _, key := range []string{"k1", "k2"} {
		if _, err := s.Accept(ctx, []string{"m"}, []forcesync.Change{{Source: "c", Key: key, Fields: map[string]any{"a": "b"}}}); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(20 * time.Second)
		for !inFile(key) {
			if time.Now().After(deadline) {
				t.Fatalf("record %s committed but not in the database file after 20 s: no checkpoint", key)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}
