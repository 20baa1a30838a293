package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/sqlite"
	"github.com/forcesync/forcesync/storetest"
)

func TestPlanConformance(t *testing.T) {
	storetest.RunPlan(t, func(t *testing.T, clk *storetest.Clock) forcesync.Store {
		s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "fs.db"), sqlite.Options{Now: clk.Now})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}
