package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/forcesync/forcesync/config"
)

const opsMinimal = `
connections:
  - name: org
    auth: access_token
    access_token_env: SF_TOKEN
sources:
  - name: client
mappings:
  - name: m
    source: client
    object: Lead
    match:
      external_id: Key__c
    fields:
      - target: LastName
        source: last_name
`

func TestOperationsSettings(t *testing.T) {
	c, err := config.Parse([]byte(opsMinimal), "forcesync.yaml")
	if err != nil {
		t.Fatal(err)
	}
	e, s := c.Engine, c.Server
	if e.APIReserve != 0.1 || e.RealtimeLane != 0.2 || e.LimitsRecheck != time.Minute || e.MaxBackoff != 10*time.Minute {
		t.Fatalf("engine defaults %+v", e)
	}
	if s.HealthzAuth != "open" || s.MetricsAuth != "open" {
		t.Fatalf("server defaults without a token: %+v", s)
	}
	c, err = config.Parse([]byte("server:\n  api_token_env: TOK\nengine:\n  api_reserve: 0\n  api_realtime_lane: 0.5\n  limits_recheck: 5s\n  max_backoff: 2s\n"+opsMinimal), "forcesync.yaml")
	if err != nil {
		t.Fatal(err)
	}
	e, s = c.Engine, c.Server
	if e.APIReserve != 0 || e.RealtimeLane != 0.5 || e.LimitsRecheck != 5*time.Second || e.MaxBackoff != 2*time.Second {
		t.Fatalf("engine %+v", e)
	}
	if s.MetricsAuth != "token" || s.HealthzAuth != "open" {
		t.Fatalf("with a token /metrics is behind it by default: %+v", s)
	}
	c, err = config.Parse([]byte("server:\n  api_token_env: TOK\n  metrics_auth: open\n  healthz_auth: token\n"+opsMinimal), "forcesync.yaml")
	if err != nil || c.Server.MetricsAuth != "open" || c.Server.HealthzAuth != "token" {
		t.Fatalf("explicit auth: %+v %v", c, err)
	}
	for _, tc := range []struct{ in, want string }{
		{"engine:\n  api_reserve: 1\n", "engine.api_reserve: expected a part from 0 up to (not including) 1"},
		{"engine:\n  api_realtime_lane: -0.1\n", "engine.api_realtime_lane: expected a part"},
		{"engine:\n  limits_recheck: soon\n", "engine.limits_recheck: expected a duration"},
		{"server:\n  metrics_auth: maybe\n", "server.metrics_auth"},
	} {
		_, err := config.Parse([]byte(tc.in+opsMinimal), "forcesync.yaml")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want %q", tc.in, err, tc.want)
		}
	}
}
