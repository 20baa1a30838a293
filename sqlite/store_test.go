package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/sqlite"
	"github.com/forcesync/forcesync/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, clk *storetest.Clock) forcesync.Store {
		s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "fs.db"), sqlite.Options{Now: clk.Now})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestPullConformance(t *testing.T) {
	storetest.RunPull(t, func(t *testing.T, clk *storetest.Clock) forcesync.Store {
		s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "fs.db"), sqlite.Options{Now: clk.Now})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// TestReopenKeepsState checks that what was accepted survives closing the file.
func TestReopenKeepsState(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "fs.db")
	s, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Accept(ctx, []string{"m"}, []forcesync.Change{{Source: "c", Key: "k", Fields: map[string]any{"a": "b"}}}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if n, _ := s.Backlog(ctx, "m"); n != 1 {
		t.Fatalf("backlog after reopen %d", n)
	}
}

// TestUnreadableFields: a record stored with a number SQLite's JSON keeps
// but Go cannot read back (1e400, accepted before the doors refused it)
// is claimed as unreadable, not a failed claim of its whole mapping.
func TestUnreadableFields(t *testing.T) {
	clk := storetest.NewClock()
	path := filepath.Join(t.TempDir(), "fs.db")
	s, err := sqlite.Open(context.Background(), path, sqlite.Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	storetest.UnreadableFields(t, s, clk, func(t *testing.T, source, key, fields string) {
		res, err := db.Exec(`UPDATE source_records SET fields = ? WHERE source = ? AND key = ?`, fields, source, key)
		if n, _ := res.RowsAffected(); err != nil || n != 1 {
			t.Fatalf("rewrite %s/%s: %d rows, %v", source, key, n, err)
		}
	})
}
