package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/forcesync/forcesync/config"
)

func TestReconcileEvery(t *testing.T) {
	withKey := func(v string) string {
		return strings.Replace(minimal, "    object: Lead\n", "    object: Lead\n    reconcile_every: "+v+"\n", 1)
	}
	cfg, err := config.Parse([]byte(withKey("6h")), "forcesync.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.ReconcileEvery["clients"]; got != 6*time.Hour {
		t.Fatalf("ReconcileEvery = %v; want 6h", cfg.ReconcileEvery)
	}
	if cfg, _ := config.Parse([]byte(minimal), "forcesync.yaml"); len(cfg.ReconcileEvery) != 0 {
		t.Fatalf("without the key: %v", cfg.ReconcileEvery)
	}
	for _, bad := range []string{"30s", "soon", "48h"} {
		_, err := config.Parse([]byte(withKey(bad)), "forcesync.yaml")
		if err == nil || !strings.Contains(err.Error(), "reconcile_every") {
			t.Errorf("reconcile_every %s: %v; want an error naming the key", bad, err)
		}
	}
}
