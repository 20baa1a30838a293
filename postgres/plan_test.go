package postgres_test

import (
	"testing"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/storetest"
)

func TestPlanConformance(t *testing.T) {
	storetest.RunPlan(t, func(t *testing.T, clk *storetest.Clock) forcesync.Store {
		dsn, schema := freshSchema(t)
		return open(t, dsn, schema, clk.Now)
	})
}
