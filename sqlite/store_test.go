package sqlite_test

import (
	"context"
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
