package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/forcesync/forcesync/config"
)

func TestSchedule(t *testing.T) {
	withBlock := func(block string) string {
		return strings.Replace(minimal, "    object: Lead\n", "    object: Lead\n"+block, 1)
	}
	cfg, err := config.Parse([]byte(withBlock("    schedule:\n      replay: \"0 3 * * *\"\n      resync: \"@weekly\"\n      timezone: Europe/Paris\n")), "forcesync.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s, ok := cfg.Schedules["clients"]
	if !ok || s.Replay != "0 3 * * *" || s.Resync != "@weekly" || s.Timezone != "Europe/Paris" || s.Location.String() != "Europe/Paris" {
		t.Fatalf("Schedules = %+v", cfg.Schedules)
	}
	cfg, err = config.Parse([]byte(withBlock("    schedule: {replay: \"*/30 * * * *\"}\n")), "forcesync.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if s := cfg.Schedules["clients"]; s.Replay != "*/30 * * * *" || s.Resync != "" || s.Location != time.UTC {
		t.Fatalf("replay only: %+v", s)
	}
	if cfg.Engine.LeaderLease != config.DefaultLeaderLease {
		t.Fatalf("leader_lease default %v", cfg.Engine.LeaderLease)
	}
	if cfg, _ := config.Parse([]byte(minimal), "forcesync.yaml"); len(cfg.Schedules) != 0 {
		t.Fatalf("without the block: %v", cfg.Schedules)
	}
	cfg, err = config.Parse([]byte("engine:\n  leader_lease: 3s\n"+minimal), "forcesync.yaml")
	if err != nil || cfg.Engine.LeaderLease != 3*time.Second {
		t.Fatalf("leader_lease 3s: %v %v", cfg.Engine.LeaderLease, err)
	}

	for _, tc := range []struct{ name, yaml, want string }{
		{"bad cron", withBlock("    schedule:\n      replay: \"0 25 * * *\"\n"),
			`mappings[0].schedule.replay: "0 25 * * *" is not a cron schedule`},
		{"too often", withBlock("    schedule:\n      resync: \"@every 5s\"\n"),
			`mappings[0].schedule.resync: "@every 5s" fires more often than once a minute`},
		{"zone in spec", withBlock("    schedule:\n      replay: \"CRON_TZ=Asia/Tokyo 0 3 * * *\"\n"),
			`mappings[0].schedule.replay: "CRON_TZ=Asia/Tokyo 0 3 * * *" names a time zone; give it as timezone:`},
		{"bad zone", withBlock("    schedule:\n      replay: \"0 3 * * *\"\n      timezone: Mars/Olympus\n"),
			`mappings[0].schedule.timezone: "Mars/Olympus" is not a time zone name`},
		{"empty", withBlock("    schedule:\n      timezone: UTC\n"),
			`mappings[0].schedule: give replay, resync or both`},
		{"unknown key", withBlock("    schedule:\n      replay: \"0 3 * * *\"\n      reconcile: \"0 5 * * *\"\n"),
			`mappings[0].schedule.reconcile`},
		{"pull mapping", withBlock("    direction: pull\n    pull: {poll_interval: 30s, into: [changes]}\n    schedule:\n      replay: \"0 3 * * *\"\n"),
			`mappings[0].schedule: replay and resync push the source to Salesforce again, and a direction: pull mapping pushes nothing`},
		{"leader lease too short", "engine:\n  leader_lease: 200ms\n" + minimal,
			`engine.leader_lease: 200ms is out of range: give 1s to 1m`},
	} {
		_, err := config.Parse([]byte(tc.yaml), "forcesync.yaml")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v; want an error containing %q", tc.name, err, tc.want)
		}
	}
}
